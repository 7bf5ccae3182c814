// Verifies a Sigstore bundle signed with a known key, with sigstore-js's own
// verifier (@sigstore/verify): the bundle is parsed and checked by
// @sigstore/bundle, the DSSE signature by the key the hint names. No log entry,
// certificate or timestamp is required (thresholds 0): the key is the release's own.
// Usage: node verify_sigstore_bundle.js BUNDLE.json 'ssh-ed25519 AAAA…' HINT
// Prints "verified" and exits 0, or prints the error and exits 1.
'use strict';
const fs = require('fs');
const crypto = require('crypto');
const { bundleFromJSON } = require('@sigstore/bundle');
const { Verifier, toSignedEntity, toTrustMaterial } = require('@sigstore/verify');

const [bundlePath, sshPublic, hint] = process.argv.slice(2);

// An OpenSSH ed25519 public key line: "ssh-ed25519 BASE64 comment"; the blob is
// string "ssh-ed25519" then string key (each with a 4-byte big-endian length).
function ed25519FromOpenSsh(line) {
  const blob = Buffer.from(line.trim().split(/\s+/)[1], 'base64');
  const nameLen = blob.readUInt32BE(0);
  const name = blob.subarray(4, 4 + nameLen).toString();
  if (name !== 'ssh-ed25519') throw new Error(`not an ed25519 key: ${name}`);
  const key = blob.subarray(8 + nameLen, 8 + nameLen + blob.readUInt32BE(4 + nameLen));
  return crypto.createPublicKey({
    key: { kty: 'OKP', crv: 'Ed25519', x: key.toString('base64url') },
    format: 'jwk',
  });
}

try {
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundlePath, 'utf8')));
  const publicKey = ed25519FromOpenSsh(sshPublic);
  const root = { tlogs: [], ctlogs: [], certificateAuthorities: [], timestampAuthorities: [] };
  const material = toTrustMaterial(root, (h) => {
    if (h !== hint) throw new Error(`unknown key hint ${h}`);
    return { publicKey, validFor: () => true };
  });
  const verifier = new Verifier(material, {
    tlogThreshold: 0,
    ctlogThreshold: 0,
    timestampThreshold: 0,
  });
  verifier.verify(toSignedEntity(bundle));
  console.log('verified');
} catch (e) {
  console.log(`${e.name}: ${e.message}`);
  process.exit(1);
}

//! Profile values as Cargo understands them: aliases folded to one canonical form.

use std::fmt;

/// The profile keys this tool reasons about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Lto,
    CodegenUnits,
    Strip,
    OverflowChecks,
    Panic,
    Debug,
    Incremental,
    OptLevel,
}

impl Key {
    pub const ALL: [Key; 8] = [
        Key::Lto,
        Key::CodegenUnits,
        Key::Strip,
        Key::OverflowChecks,
        Key::Panic,
        Key::Debug,
        Key::Incremental,
        Key::OptLevel,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Key::Lto => "lto",
            Key::CodegenUnits => "codegen-units",
            Key::Strip => "strip",
            Key::OverflowChecks => "overflow-checks",
            Key::Panic => "panic",
            Key::Debug => "debug",
            Key::Incremental => "incremental",
            Key::OptLevel => "opt-level",
        }
    }

    /// What a finding about this key means.
    pub fn description(self) -> &'static str {
        match self {
            Key::Lto => "The released profile does not set lto = \"fat\"",
            Key::CodegenUnits => "The released profile does not set codegen-units = 1",
            Key::Strip => "The released profile does not strip symbols",
            Key::OverflowChecks => "Hardening: the released profile has no overflow checks",
            Key::Panic => "Hardening: the released profile does not abort on panic",
            Key::Debug => "Hardening: the released profile keeps debug info",
            Key::Incremental => "Hardening: the released profile builds incrementally",
            Key::OptLevel => "Hardening: the released profile is not opt-level = 3",
        }
    }

    pub fn from_name(s: &str) -> Option<Key> {
        Key::ALL.into_iter().find(|k| k.name() == s)
    }

    /// `CARGO_PROFILE_<NAME>_<KEY>` spelling of the key.
    pub fn env_suffix(self) -> String {
        self.name().to_ascii_uppercase().replace('-', "_")
    }
}

/// A raw value as written in a TOML file or an environment variable.
#[derive(Debug, Clone, PartialEq)]
pub enum Raw {
    Bool(bool),
    Int(i64),
    Str(String),
    Other(String),
}

impl Raw {
    pub fn from_toml(v: &toml_edit::Value) -> Raw {
        match v {
            toml_edit::Value::Boolean(b) => Raw::Bool(*b.value()),
            toml_edit::Value::Integer(i) => Raw::Int(*i.value()),
            toml_edit::Value::String(s) => Raw::Str(s.value().clone()),
            other => Raw::Other(other.to_string().trim().to_string()),
        }
    }

    /// Environment variables are strings; Cargo reads them as the key's type.
    pub fn from_env(s: &str) -> Raw {
        match s {
            "true" => Raw::Bool(true),
            "false" => Raw::Bool(false),
            _ => s
                .parse::<i64>()
                .map(Raw::Int)
                .unwrap_or_else(|_| Raw::Str(s.to_string())),
        }
    }
}

impl fmt::Display for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Raw::Bool(b) => write!(f, "{b}"),
            Raw::Int(i) => write!(f, "{i}"),
            Raw::Str(s) => write!(f, "\"{s}\""),
            Raw::Other(s) => f.write_str(s),
        }
    }
}

/// A value in canonical form: `lto = true` and `lto = "fat"` are both `Str("fat")`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Canon {
    Bool(bool),
    Int(i64),
    Str(&'static str),
}

impl fmt::Display for Canon {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Canon::Bool(b) => write!(f, "{b}"),
            Canon::Int(i) => write!(f, "{i}"),
            Canon::Str(s) => write!(f, "\"{s}\""),
        }
    }
}

impl Canon {
    pub fn to_toml(&self) -> toml_edit::Value {
        match self {
            Canon::Bool(b) => (*b).into(),
            Canon::Int(i) => (*i).into(),
            Canon::Str(s) => (*s).into(),
        }
    }
}

/// Folds a raw value to canonical form, or says why Cargo would reject it.
pub fn canonical(key: Key, raw: &Raw) -> Result<Canon, String> {
    use Raw::*;
    let bad = || {
        let expected = match key {
            Key::Lto => "true, false, \"fat\", \"thin\" or \"off\"",
            Key::CodegenUnits => "a positive integer",
            Key::Strip => "true, false, \"none\", \"debuginfo\" or \"symbols\"",
            Key::OverflowChecks | Key::Incremental => "true or false",
            Key::Panic => "\"unwind\" or \"abort\"",
            Key::Debug => "true, false, 0, 1, 2, \"none\", \"line-directives-only\", \"line-tables-only\", \"limited\" or \"full\"",
            Key::OptLevel => "0, 1, 2, 3, \"s\" or \"z\"",
        };
        format!("`{} = {raw}` is not valid: expected {expected}", key.name())
    };
    let s = |v: &str| match raw {
        Str(x) => x == v,
        _ => false,
    };
    Ok(match key {
        Key::Lto => match raw {
            Bool(true) => Canon::Str("fat"),
            // Printed and written as TOML's `false`, the spelling the Cargo book uses
            // (cargo passes the string "false" to rustc the same way).
            Bool(false) => Canon::Bool(false),
            _ if s("fat") => Canon::Str("fat"),
            _ if s("thin") => Canon::Str("thin"),
            _ if s("off") => Canon::Str("off"),
            _ if s("false") => Canon::Bool(false),
            _ => return Err(bad()),
        },
        Key::CodegenUnits => match raw {
            Int(n) if *n > 0 => Canon::Int(*n),
            _ => return Err(bad()),
        },
        Key::Strip => match raw {
            Bool(true) => Canon::Str("symbols"),
            Bool(false) => Canon::Str("none"),
            _ if s("symbols") => Canon::Str("symbols"),
            _ if s("debuginfo") => Canon::Str("debuginfo"),
            _ if s("none") => Canon::Str("none"),
            _ => return Err(bad()),
        },
        Key::OverflowChecks | Key::Incremental => match raw {
            Bool(b) => Canon::Bool(*b),
            _ => return Err(bad()),
        },
        Key::Panic => match raw {
            _ if s("unwind") => Canon::Str("unwind"),
            _ if s("abort") => Canon::Str("abort"),
            _ => return Err(bad()),
        },
        Key::Debug => match raw {
            Bool(true) | Int(2) => Canon::Str("full"),
            Bool(false) | Int(0) => Canon::Str("none"),
            Int(1) => Canon::Str("limited"),
            _ if s("full") => Canon::Str("full"),
            _ if s("none") => Canon::Str("none"),
            _ if s("limited") => Canon::Str("limited"),
            _ if s("line-tables-only") => Canon::Str("line-tables-only"),
            _ if s("line-directives-only") => Canon::Str("line-directives-only"),
            _ => return Err(bad()),
        },
        Key::OptLevel => match raw {
            Int(n @ 0..=3) => Canon::Int(*n),
            _ if s("s") => Canon::Str("s"),
            _ if s("z") => Canon::Str("z"),
            _ if s("0") || s("1") || s("2") || s("3") => match raw {
                Str(x) => Canon::Int(x.parse().unwrap_or(0)),
                _ => unreachable!("guarded by s()"),
            },
            _ => return Err(bad()),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lto_false_prints_as_toml_false() {
        for raw in [Raw::Bool(false), Raw::Str("false".into())] {
            let c = canonical(Key::Lto, &raw).unwrap();
            assert_eq!(c.to_string(), "false");
            assert_eq!(c.to_toml().to_string(), "false");
        }
        assert_eq!(
            canonical(Key::Lto, &Raw::Str("off".into()))
                .unwrap()
                .to_string(),
            "\"off\""
        );
    }

    #[test]
    fn aliases_are_the_same_value() {
        assert_eq!(canonical(Key::Lto, &Raw::Bool(true)), Ok(Canon::Str("fat")));
        assert_eq!(
            canonical(Key::Lto, &Raw::Str("fat".into())),
            Ok(Canon::Str("fat"))
        );
        assert_eq!(
            canonical(Key::Strip, &Raw::Bool(true)),
            Ok(Canon::Str("symbols"))
        );
        assert_eq!(
            canonical(Key::Strip, &Raw::Bool(false)),
            Ok(Canon::Str("none"))
        );
        assert_eq!(canonical(Key::Debug, &Raw::Int(0)), Ok(Canon::Str("none")));
        assert_eq!(
            canonical(Key::Debug, &Raw::Bool(true)),
            Ok(Canon::Str("full"))
        );
        assert_eq!(
            canonical(Key::OptLevel, &Raw::from_env("3")),
            Ok(Canon::Int(3))
        );
    }

    #[test]
    fn wrong_types_are_errors_not_panics() {
        let e = canonical(Key::Lto, &Raw::Int(5)).unwrap_err();
        assert!(e.contains("`lto = 5` is not valid"), "{e}");
        let e = canonical(Key::CodegenUnits, &Raw::Str("one".into())).unwrap_err();
        assert!(e.contains("`codegen-units = \"one\"`"), "{e}");
        assert!(canonical(Key::CodegenUnits, &Raw::Int(0)).is_err());
        assert!(canonical(Key::Panic, &Raw::Bool(true)).is_err());
    }

    #[test]
    fn env_values_take_the_key_type() {
        assert_eq!(Raw::from_env("true"), Raw::Bool(true));
        assert_eq!(Raw::from_env("16"), Raw::Int(16));
        assert_eq!(Raw::from_env("thin"), Raw::Str("thin".into()));
    }
}

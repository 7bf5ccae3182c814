//! The template renderer: minijinja over the templates in `templates/` (embedded),
//! with every value taken from the project escaped for Markdown by default.

use crate::error::Failure;
use anyhow::Result;
use minijinja::{Environment, Value};

/// (name, source) of every embedded template.
const TEMPLATES: &[(&str, &str)] = &[
    (
        "SECURITY.minimal.md",
        include_str!("../../templates/SECURITY.minimal.md"),
    ),
    (
        "SECURITY.standard.md",
        include_str!("../../templates/SECURITY.standard.md"),
    ),
    (
        "SECURITY.full.md",
        include_str!("../../templates/SECURITY.full.md"),
    ),
    (
        "partials/header.md",
        include_str!("../../templates/partials/header.md"),
    ),
    (
        "partials/supported.md",
        include_str!("../../templates/partials/supported.md"),
    ),
    (
        "partials/reporting.md",
        include_str!("../../templates/partials/reporting.md"),
    ),
    (
        "partials/response.md",
        include_str!("../../templates/partials/response.md"),
    ),
    (
        "partials/disclosure.md",
        include_str!("../../templates/partials/disclosure.md"),
    ),
    (
        "partials/practices.md",
        include_str!("../../templates/partials/practices.md"),
    ),
    (
        "partials/scope.md",
        include_str!("../../templates/partials/scope.md"),
    ),
    (
        "partials/safe_harbor.md",
        include_str!("../../templates/partials/safe_harbor.md"),
    ),
    (
        "partials/team.md",
        include_str!("../../templates/partials/team.md"),
    ),
    (
        "partials/threat_model.md",
        include_str!("../../templates/partials/threat_model.md"),
    ),
];

/// Escapes text for GitHub-flavoured Markdown: no markup, no HTML, no table breaks,
/// no new lines.
pub fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\r' => {}
            '\n' | '\t' => out.push(' '),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' | '~' | '{' | '}' | '(' | ')' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `{{ value | code }}`: the value as a Markdown code span. Text inside a code span
/// is literal (a backslash escape would show), so it is fenced instead: control
/// characters become spaces, and a backtick inside widens the fence as CommonMark allows.
fn code_span(value: String) -> Value {
    let clean = verbatim(value);
    let text = clean.as_str().unwrap_or_default();
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if text.starts_with('`') || text.ends_with('`') {
        " "
    } else {
        ""
    };
    Value::from_safe_string(format!("{fence}{pad}{text}{pad}{fence}"))
}

/// `{{ value | verbatim }}`: for a line of a fenced code block, where Markdown is not
/// read: only line breaks and control characters, which could end the block, go.
fn verbatim(value: String) -> Value {
    Value::from_safe_string(
        value
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect(),
    )
}

/// Far above what the built-in presets use (a few thousand instructions).
const TEMPLATE_FUEL: u64 = 2_000_000;

fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_keep_trailing_newline(true);
    // A user template is code we run: bound its work and its nesting, so a nested
    // `range(100000)` loop ends with an error instead of a hang.
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.set_recursion_limit(64);
    env.set_formatter(|out, state, value| {
        if value.is_safe() {
            return minijinja::escape_formatter(out, state, value);
        }
        match value.as_str() {
            Some(s) => out.write_str(&escape_markdown(s)).map_err(|_| {
                minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "could not write")
            }),
            None => minijinja::escape_formatter(out, state, value),
        }
    });
    env.add_filter("code", code_span);
    env.add_filter("verbatim", verbatim);
    for (name, src) in TEMPLATES {
        env.add_template(name, src)
            .expect("embedded templates are valid");
    }
    env
}

/// Renders a preset (`minimal`, `standard`, `full`) or a user template file.
pub fn render(
    preset: &str,
    custom: Option<(&std::path::Path, String)>,
    ctx: &Value,
) -> Result<String> {
    let mut env = environment();
    let name = match custom {
        Some((path, text)) => {
            env.add_template_owned("custom", text)
                .map_err(|e| template_error(path, &e))?;
            let tmpl = env
                .get_template("custom")
                .map_err(|e| template_error(path, &e))?;
            return Ok(tidy(&bounded(&tmpl, ctx).map_err(|e| match e {
                Rendered::TooLarge => too_large(&path.display().to_string()),
                Rendered::Failed(e) => template_error(path, &e),
            })?));
        }
        None => format!("SECURITY.{preset}.md"),
    };
    let tmpl = env.get_template(&name).map_err(|_| {
        Failure::new(format!("unknown preset `{preset}`"))
            .help("use --preset minimal, standard or full")
    })?;
    let out = bounded(&tmpl, ctx).map_err(|e| match e {
        Rendered::TooLarge => too_large(&name),
        Rendered::Failed(e) => Failure::new(format!("template {name} failed: {e:#}")).into(),
    })?;
    Ok(tidy(&out))
}

/// The most a policy template may render (1 MiB): fuel bounds a template's steps,
/// not its output, and one step can write a long string many times over.
pub const RENDER_LIMIT: usize = 1 << 20;

enum Rendered {
    TooLarge,
    Failed(minijinja::Error),
}

/// Renders into memory, stopping at `RENDER_LIMIT` bytes.
fn bounded(
    tmpl: &minijinja::Template<'_, '_>,
    ctx: &Value,
) -> std::result::Result<String, Rendered> {
    struct Capped(Vec<u8>);
    impl std::io::Write for Capped {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.0.len() + buf.len() > RENDER_LIMIT {
                return Err(std::io::Error::other("over the limit"));
            }
            self.0.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut out = Capped(Vec::new());
    match tmpl.render_captured_to(ctx, &mut out) {
        Ok(_) => Ok(String::from_utf8_lossy(&out.0).into_owned()),
        Err(e) if e.kind() == minijinja::ErrorKind::WriteFailure => Err(Rendered::TooLarge),
        Err(e) => Err(Rendered::Failed(e)),
    }
}

fn too_large(template: &str) -> anyhow::Error {
    Failure::new(format!(
        "template {} renders more than {RENDER_LIMIT} bytes (1 MiB); nothing was written",
        crate::error::escape(template)
    ))
    .help("a SECURITY.md is a page: check the template for a loop or a repeated string")
    .into()
}

fn template_error(path: &std::path::Path, e: &minijinja::Error) -> anyhow::Error {
    let line = e.line().map(|l| format!(":{l}")).unwrap_or_default();
    let (what, help) = match e.kind() {
        minijinja::ErrorKind::OutOfFuel => (
            "the template does too much work (a loop too large?)".to_string(),
            "render less: this tool stops a template after 2,000,000 steps",
        ),
        _ => (
            e.detail().map_or_else(|| e.to_string(), str::to_string),
            "fix the template (minijinja syntax, https://docs.rs/minijinja)",
        ),
    };
    Failure::new(format!(
        "{}{line}: template error: {}",
        crate::error::escape(&path.display().to_string()),
        crate::error::escape(&what)
    ))
    .help(help)
    .into()
}

/// One blank line at most between blocks, no trailing spaces, one final newline.
fn tidy(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut blank = 0;
    for line in s.lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn output_is_bounded_not_only_steps() {
        let ctx = minijinja::context! { name => "x" };
        let bomb =
            "{{ 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' * 100000000 }}";
        let err = super::render(
            "standard",
            Some((std::path::Path::new("t.md"), bomb.into())),
            &ctx,
        )
        .unwrap_err()
        .to_string();
        // minijinja refuses one huge repetition itself; either way, an error.
        assert!(err.starts_with("t.md"), "{err}");
        // Within fuel and within minijinja's own limits, 10 MB of output: refused.
        let loops = "{% for i in range(1000) %}{{ 'x' * 10000 }}{% endfor %}";
        let err = super::render(
            "standard",
            Some((std::path::Path::new("t.md"), loops.into())),
            &ctx,
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("renders more than 1048576 bytes"), "{err}");
        let small = super::render(
            "standard",
            Some((std::path::Path::new("t.md"), "hi {{ name }}".into())),
            &ctx,
        )
        .unwrap();
        assert_eq!(small.trim_end(), "hi x");
    }

    use super::*;
    use minijinja::context;

    #[test]
    fn runaway_templates_run_out_of_fuel() {
        let ctx = minijinja::context! {};
        let err = render(
            "standard",
            Some((
                std::path::Path::new("t.md"),
                "{% for a in range(100000) %}{% for b in range(100000) %}x{% endfor %}{% endfor %}"
                    .into(),
            )),
            &ctx,
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("t.md"), "{msg}");
        assert!(msg.contains("too much work"), "{msg}");
    }

    #[test]
    fn hostile_values_cannot_break_markdown_or_inject_html() {
        let e = escape_markdown("a|b `c` <script>alert(1)</script>\n# heading [x](y)");
        assert_eq!(
            e,
            "a\\|b \\`c\\` &lt;script&gt;alert\\(1\\)&lt;/script&gt; \\# heading \\[x\\]\\(y\\)"
        );
    }

    #[test]
    fn values_are_escaped_by_default_and_safe_ones_are_not() {
        let mut env = environment();
        env.add_template("t", "{{ a }} / {{ b }}").unwrap();
        let out = env
            .get_template("t")
            .unwrap()
            .render(context! { a => "x|y", b => Value::from_safe_string("<https://e.org>".into()) })
            .unwrap();
        assert_eq!(out, "x\\|y / <https://e.org>");
    }

    #[test]
    fn code_spans_are_literal_and_cannot_be_broken_out_of() {
        let mut env = environment();
        env.add_template(
            "t",
            "{{ a | code }} {{ b | code }} {{ c | code }} [{{ d | verbatim }}]",
        )
        .unwrap();
        let out = env
            .get_template("t")
            .unwrap()
            .render(context! { a => ".github/allowed_signers", b => "a`b", c => "`x", d => "git x\n```\n# h" })
            .unwrap();
        assert_eq!(
            out,
            "`.github/allowed_signers` ``a`b`` `` `x `` [git x ``` # h]"
        );
    }

    #[test]
    fn tidy_collapses_blank_lines() {
        assert_eq!(tidy("\n\na\n\n\n\nb  \n\n"), "a\n\nb\n");
    }

    #[test]
    fn every_preset_renders() {
        let ctx = context! {
            name => "x", preset => "full", supported_lines => 1,
            versions => vec![context! { line => "1.x", latest => "1.0.0", supported => true }],
            github => (), contact => Value::from_safe_string("sec@example.org".into()),
            policy => context! { acknowledge_days => 3, triage_days => 7, fix_critical_days => 14, fix_other_days => 90, disclosure_days => 90, team => Vec::<Value>::new(), scope_in => Vec::<Value>::new(), scope_out => Vec::<Value>::new() },
            practices => context! { any => false },
        };
        for p in ["minimal", "standard", "full"] {
            let out = render(p, None, &ctx).unwrap();
            assert!(out.contains("# Security Policy for x"), "{p}");
            assert!(out.contains("| 1.x | 1.0.0 | ✅ yes |"), "{p}: {out}");
        }
        assert!(render("huge", None, &ctx).is_err());
    }
}

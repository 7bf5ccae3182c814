//! The criteria of OpenSSF Scorecard's Security-Policy check, applied locally: a
//! contact (URL or email), real text beyond links, and vulnerability-disclosure
//! wording with a timeline.

pub fn missing(text: &str) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    let has_url = lower.contains("https://") || lower.contains("http://");
    let has_email = text
        .split(|c: char| c.is_whitespace() || "<>()[],;".contains(c))
        .any(|w| super::facts::valid_email(w.trim_end_matches(['.', ':'])));
    if !has_url && !has_email {
        out.push("no URL or email address to report to");
    }
    let words = text
        .split_whitespace()
        .filter(|w| !w.contains("://") && !w.contains('@'))
        .count();
    if words < 50 {
        out.push("too little text besides links");
    }
    if !(lower.contains("vulnerab") || lower.contains("disclos")) {
        out.push("no vulnerability or disclosure wording");
    }
    let timeline = lower
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .any(|w| {
            w[0].chars().all(|c| c.is_ascii_digit())
                && (w[1].starts_with("day") || w[1].starts_with("hour") || w[1].starts_with("week"))
        });
    if !timeline {
        out.push("no disclosure timeline (e.g. \"90 days\")");
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn full_marks_need_all_four() {
        let good = format!(
            "Report vulnerabilities to security@example.org. We disclose within 90 days. {}",
            "word ".repeat(60)
        );
        assert!(
            super::missing(&good).is_empty(),
            "{:?}",
            super::missing(&good)
        );
        assert_eq!(super::missing("hello").len(), 4);
        let no_time = good.replace("90 days", "soon");
        assert_eq!(
            super::missing(&no_time),
            ["no disclosure timeline (e.g. \"90 days\")"]
        );
    }
}

//! The classic Prometheus text format, made from the OpenMetrics text the
//! registry encodes.

/// The classic Prometheus text format (0.0.4) of an OpenMetrics
/// exposition, for scrapers and people that do not ask for OpenMetrics: no
/// `# EOF` or `# UNIT`, and counters described under their sample's name
/// (`foo_total`), which is what promtool and older scrapers expect.
pub(crate) fn to_text_format(openmetrics: &str) -> String {
    let mut counters: Vec<&str> = Vec::new();
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ")
            && let Some(name) = rest.strip_suffix(" counter")
        {
            counters.push(name);
        }
    }
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let described = line
            .strip_prefix("# HELP ")
            .map(|r| ("# HELP ", r))
            .or_else(|| line.strip_prefix("# TYPE ").map(|r| ("# TYPE ", r)));
        match described {
            Some((kind, rest)) => {
                let name = rest.split(' ').next().unwrap_or_default();
                if counters.contains(&name) {
                    out.push_str(kind);
                    out.push_str(name);
                    out.push_str("_total");
                    out.push_str(&rest[name.len()..]);
                } else {
                    out.push_str(line);
                }
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

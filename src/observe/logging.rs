//! Logging set up for `serve`: the text format (`text_log`, the default
//! formatter's lines written cheaply) or JSON, colours only on a terminal,
//! the filter from `TOLLGATE_LOG`, and the batching writer (`log_writer`).

use std::io::IsTerminal;

/// How log lines look.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Log lines are formatted on the request's thread and written by a
/// writer thread in batches (see `log_writer`): a token costs no write of
/// its own. Nothing is dropped: when the output is stuck, requests wait.
pub(crate) fn init(format: LogFormat) -> std::io::Result<super::log_writer::Flush> {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("TOLLGATE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let filter = quiet_watcher(filter, std::env::var("TOLLGATE_LOG").ok().as_deref());
    let (writer, flush) = super::log_writer::Writer::new("tollgate-log", std::io::stderr())?;
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    match format {
        LogFormat::Text => logs
            .with_ansi(colours(std::io::stderr().is_terminal(), |name| {
                std::env::var_os(name)
            }))
            .fmt_fields(super::text_log::Fields)
            .event_format(super::text_log::Text::new(super::text_log::Timestamp))
            .init(),
        // One object per line, the event's fields at the top level and the
        // request span (its id) beside them: what log shippers index.
        LogFormat::Json => logs
            .with_timer(super::text_log::Timestamp)
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .init(),
    }
    Ok(flush)
}

/// The file watcher's library logs every file-system event at `trace`:
/// with the log written into a watched folder (`serve 2> server.log`
/// beside `identity.toml`), each line would be an event that writes the
/// next, for ever. Its lines stop at `debug` unless the filter names it.
fn quiet_watcher(
    filter: tracing_subscriber::EnvFilter,
    given: Option<&str>,
) -> tracing_subscriber::EnvFilter {
    if given.is_some_and(|f| f.contains("notify")) {
        return filter;
    }
    filter.add_directive("notify=debug".parse().expect("a valid directive"))
}

/// Whether log lines get colours: on a terminal, unless `NO_COLOR` is set
/// to anything but the empty string (no-color.org); `CLICOLOR_FORCE`
/// (not `0`) forces them, as it does for the help.
fn colours(terminal: bool, var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    let set = |name: &str| var(name).is_some_and(|v| !v.is_empty() && v != "0");
    if var("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    terminal || set("CLICOLOR_FORCE")
}

#[cfg(test)]
mod tests {
    use super::colours;

    #[test]
    fn log_colours_on_a_terminal_unless_no_color() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).into())
            }
        };
        assert!(colours(true, env(&[])));
        assert!(!colours(false, env(&[])));
        assert!(!colours(true, env(&[("NO_COLOR", "1")])));
        assert!(colours(true, env(&[("NO_COLOR", "")])), "empty: not set");
        assert!(colours(false, env(&[("CLICOLOR_FORCE", "1")])));
        assert!(!colours(false, env(&[("CLICOLOR_FORCE", "0")])));
        assert!(!colours(
            true,
            env(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")])
        ));
    }
}

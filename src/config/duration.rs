//! Durations in the config file: integer seconds or `"90s"`, `"15m"`,
//! `"1h"`, `"7d"` (anything humantime reads).

use std::time::Duration;

use super::raw::RawDuration;

pub(super) fn parse(raw: &RawDuration) -> Result<Duration, String> {
    let d = match raw {
        RawDuration::Seconds(s) => Duration::from_secs(*s),
        RawDuration::Text(t) => humantime::parse_duration(t.trim()).map_err(|e| {
            format!(
                "{t:?} is not a duration ({e}); write e.g. 3600, \"90s\", \"15m\", \"1h\" or \"7d\""
            )
        })?,
    };
    if d.is_zero() {
        return Err("a duration must be longer than zero".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_unit_strings_are_durations() {
        let t = |s: &str| parse(&RawDuration::Text(s.into()));
        assert_eq!(
            parse(&RawDuration::Seconds(90)).unwrap(),
            Duration::from_secs(90)
        );
        assert_eq!(t("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(t("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(t("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(t("7d").unwrap(), Duration::from_secs(7 * 86400));
        assert!(t("soon").is_err());
        assert!(parse(&RawDuration::Seconds(0)).is_err());
    }
}

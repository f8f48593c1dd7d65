//! Durations in the config file and on the command line (and, beside
//! them, the file's one date-time form, [`RawDateTime`]): integer seconds,
//! or a string of one or more numbers each followed by a unit, `s`, `m`,
//! `h` or `d` (`"90s"`, `"15m"`, `"1h30m"`, `"7d"`), and nothing else: no
//! spaces, no words (`"1 hour"`), no months. Shown in the largest unit
//! that is exact (`90d`, `36h`, `90m`), so what is shown is what one
//! would write.

use std::time::Duration;

use schemars::JsonSchema;

use serde::{Deserialize, Serialize};

/// The accepted strings, as the schema's `pattern`.
pub(crate) const PATTERN: &str = "^([0-9]+[smhd])+$";

/// What a duration may be written as, for messages and the schema.
pub(crate) const FORMS: &str = "write integer seconds or a number with a unit s, m, h or d (several may follow each other), e.g. 90, \"90s\", \"15m\", \"1h30m\" or \"7d\"";

const UNITS: [(char, u64); 4] = [('d', 86_400), ('h', 3_600), ('m', 60), ('s', 1)];

/// Integer seconds or a string such as `"15m"` or `"1h30m"` (its schema: below).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub(super) enum RawDuration {
    /// Whole seconds.
    Seconds(u64),
    /// Numbers with a unit: `s`, `m`, `h`, `d`, e.g. `"15m"`, `"1h30m"`.
    Text(String),
}

impl JsonSchema for RawDuration {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "RawDuration".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // One schema, not `anyOf` integer | string: an editor then says
        // what is wrong ("does not match", "is not of types") rather than
        // "not valid under any of the schemas". `pattern` applies to
        // strings only, `minimum` to numbers only.
        schemars::json_schema!({
            "type": ["integer", "string"],
            "minimum": 1,
            "pattern": PATTERN,
            "description": "Integer seconds (at least 1), or a string of numbers each with a unit s, m, h or d: \"90s\", \"15m\", \"1h30m\", \"7d\"."
        })
    }
}

pub(super) fn parse(raw: &RawDuration) -> Result<Duration, String> {
    let d = match raw {
        RawDuration::Seconds(s) => Duration::from_secs(*s),
        RawDuration::Text(t) => parse_text(t)?,
    };
    if d.is_zero() {
        return Err(format!("a duration must be longer than zero; {FORMS}"));
    }
    Ok(d)
}

/// A duration string (`"15m"`, `"1h30m"`): the message names the accepted
/// forms when `text` is not one. Zero is allowed here.
pub(crate) fn parse_text(text: &str) -> Result<Duration, String> {
    let bad = || format!("{text:?} is not a duration: {FORMS}");
    let mut seconds: u64 = 0;
    let mut number: Option<u64> = None;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            number = Some(
                number
                    .unwrap_or(0)
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(u64::from(digit)))
                    .ok_or_else(bad)?,
            );
            continue;
        }
        let (_, unit) = UNITS.iter().find(|(u, _)| *u == c).ok_or_else(bad)?;
        let n = number.take().ok_or_else(bad)?;
        seconds = n
            .checked_mul(*unit)
            .and_then(|s| s.checked_add(seconds))
            .ok_or_else(bad)?;
    }
    if number.is_some() || text.is_empty() {
        // A number without its unit, or nothing at all.
        return Err(bad());
    }
    Ok(Duration::from_secs(seconds))
}

/// `d` in the largest unit that is exact: `90d`, `36h`, `90m`, `45s`.
pub(crate) fn show(d: Duration) -> String {
    let seconds = d.as_secs();
    if seconds == 0 {
        return if d.is_zero() {
            "0s".into()
        } else {
            format!("{}ms", d.as_millis())
        };
    }
    let (unit, size) = UNITS
        .iter()
        .find(|(_, size)| seconds.is_multiple_of(*size))
        .expect("every whole number of seconds is a number of seconds");
    format!("{}{unit}", seconds / size)
}

/// A TOML date-time (`2027-01-01T00:00:00Z`) or the same as a string.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
pub(super) enum RawDateTime {
    /// A native TOML offset date-time.
    Toml(toml::value::Datetime),
    /// An RFC 3339 string, e.g. from an environment override.
    Text(String),
}

impl JsonSchema for RawDateTime {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DateTime".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // Taplo validates TOML date-times against `format: date-time`.
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 date-time with offset, e.g. 2027-01-01T00:00:00Z"
        })
    }
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
        assert_eq!(t("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(t("1d12h").unwrap(), Duration::from_secs(36 * 3600));
        assert!(t("soon").is_err());
        assert!(parse(&RawDuration::Seconds(0)).is_err());
        assert!(t("0s").is_err());
    }

    #[test]
    fn only_numbers_with_units_s_m_h_d_are_durations_and_the_message_says_so() {
        for bad in [
            "1 hour", "1hour", "2months", "1h 30m", " 1h", "1.5h", "90", "h", "", "1w", "-1h", "1H",
        ] {
            let e = parse_text(bad).unwrap_err();
            assert!(
                e.contains("not a duration")
                    && e.contains("s, m, h or d")
                    && e.contains("\"1h30m\""),
                "{bad:?}: {e}"
            );
            assert!(
                !regex_like(bad),
                "{bad:?} is refused, so the schema's pattern must refuse it too"
            );
        }
        for good in ["90s", "15m", "1h", "7d", "1h30m", "0s"] {
            assert!(parse_text(good).is_ok(), "{good}");
            assert!(regex_like(good), "{good} matches {PATTERN}");
        }
        assert!(parse_text("99999999999999999999d").is_err(), "overflow");
    }

    /// Whether the schema's [`PATTERN`] accepts `s`.
    fn regex_like(s: &str) -> bool {
        let schema = serde_json::json!({ "type": "string", "pattern": PATTERN });
        jsonschema::validator_for(&schema)
            .unwrap()
            .is_valid(&serde_json::json!(s))
    }

    #[test]
    fn durations_are_shown_in_the_largest_exact_unit() {
        let s = |secs: u64| show(Duration::from_secs(secs));
        assert_eq!(s(90 * 86_400), "90d");
        assert_eq!(s(14 * 86_400), "14d");
        assert_eq!(s(3600), "1h");
        assert_eq!(s(36 * 3600), "36h");
        assert_eq!(s(5400), "90m");
        assert_eq!(s(45), "45s");
        assert_eq!(s(0), "0s");
        for written in ["90d", "12h", "30m", "45s", "1h30m"] {
            let shown = show(parse_text(written).unwrap());
            assert_eq!(parse_text(&shown).unwrap(), parse_text(written).unwrap());
        }
    }
}

//! Form parameters (`application/x-www-form-urlencoded`) as RFC 6749 §3.2
//! reads them: unknown ones are ignored, empty ones count as absent, and a
//! parameter may appear once, unless it is one that repeats by design
//! (`resource`, RFC 8707 §2).

use super::refusal::{Reason, Refusal};

/// The parameters of one request that an endpoint reads.
#[derive(Debug, Default)]
pub struct Params {
    single: Vec<(&'static str, String)>,
    repeated: Vec<(&'static str, String)>,
}

impl Params {
    /// Parses `body`, keeping the parameters named in `single` (at most
    /// once each) and in `repeated`.
    pub fn parse(
        body: &[u8],
        single: &[&'static str],
        repeated: &[&'static str],
    ) -> Result<Self, Refusal> {
        let mut params = Params::default();
        for (name, value) in form_urlencoded::parse(body) {
            if let Some(&known) = single.iter().find(|k| **k == name) {
                // "Parameters sent without a value MUST be treated as if
                // they were omitted", and none may be included more than
                // once: a value after a value is a repeat.
                if params.get(known).is_some() {
                    return Err(Refusal::invalid_request(
                        Reason::RepeatedParameter,
                        format!("parameter {known} is repeated"),
                    ));
                }
                if !value.is_empty() {
                    params.single.push((known, value.into_owned()));
                }
            } else if let Some(&known) = repeated.iter().find(|k| **k == name)
                && !value.is_empty()
            {
                params.repeated.push((known, value.into_owned()));
            }
        }
        Ok(params)
    }

    /// The value of a single parameter, if sent and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.single
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Takes the value of a single parameter out.
    pub fn take(&mut self, name: &str) -> Option<String> {
        let i = self.single.iter().position(|(n, _)| *n == name)?;
        Some(self.single.swap_remove(i).1)
    }

    /// Every value of a repeatable parameter, in order.
    pub fn all(&self, name: &str) -> impl Iterator<Item = &str> {
        self.repeated
            .iter()
            .filter(move |(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_read_as_rfc_6749_section_3_2_says() {
        let p = Params::parse(b"a=1&b=&x=9&x=8&r=u1&r=&r=u2", &["a", "b", "c"], &["r"]).unwrap();
        assert_eq!(p.get("a"), Some("1"));
        assert_eq!(p.get("b"), None, "empty is absent");
        assert_eq!(p.get("x"), None, "unknown is ignored");
        assert_eq!(p.all("r").collect::<Vec<_>>(), ["u1", "u2"]);
        let e = Params::parse(b"a=1&a=2", &["a"], &[]).unwrap_err();
        assert_eq!(e.reason, Reason::RepeatedParameter);
    }
}

//! The rules of `[[clients.token_exchange]]` (RFC 8693): whose tokens a
//! client may exchange (ours, or a trusted issuer's by name), for which
//! audience they were issued, and which `[[api_resources]]` the new token
//! may be for. Each name must be one the file declares.

use super::super::problems::Problems;
use super::super::raw::RawTokenExchange;
use tollgate_core::{ApiResource, GrantType, TrustedIssuer};
use tollgate_core::{ExchangeRule, SubjectIssuer};

/// The value of `subject_issuer` that names tollgate's own tokens.
const OWN: &str = "self";

/// A client's exchange rules; `grant_types` are its allowed ones.
pub(super) fn rules(
    raw: &[RawTokenExchange],
    grant_types: &[GrantType],
    at: &dyn Fn(&str) -> String,
    issuers: &[TrustedIssuer],
    resources: &[ApiResource],
    problems: &mut Problems<'_>,
) -> Vec<ExchangeRule> {
    if !raw.is_empty() && !grant_types.contains(&GrantType::TokenExchange) {
        problems.add_hinted(
            at("token_exchange"),
            "token_exchange rules are given but the client may not use the token exchange grant",
            Some(&format!(
                "add \"{}\" to allowed_grant_types",
                GrantType::TokenExchange.as_str()
            )),
        );
    }
    let mut out = Vec::with_capacity(raw.len());
    for (k, r) in raw.iter().enumerate() {
        let here = |key: &str| at(&format!("token_exchange[{k}].{key}"));
        let before = problems.len();
        let subject_issuer = if r.subject_issuer == OWN {
            SubjectIssuer::Own
        } else if issuers.iter().any(|i| i.name == r.subject_issuer) {
            SubjectIssuer::Trusted(r.subject_issuer.clone())
        } else {
            let known: Vec<&str> = std::iter::once(OWN)
                .chain(issuers.iter().map(|i| i.name.as_str()))
                .collect();
            problems.add_hinted(
                here("subject_issuer"),
                format!(
                    "{:?} is neither \"self\" nor the name of a [[trusted_issuers]] entry",
                    r.subject_issuer
                ),
                Some(&format!("one of: {}", known.join(", "))),
            );
            SubjectIssuer::Own
        };
        if r.subject_audience.trim().is_empty() {
            problems.add(
                here("subject_audience"),
                "name the audience the subject tokens were issued for",
            );
        }
        if r.resources.is_empty() {
            problems.add(
                here("resources"),
                "name at least one [[api_resources]] entry the new token may be for",
            );
        }
        for (j, name) in r.resources.iter().enumerate() {
            if !resources.iter().any(|res| res.name == *name) {
                problems.add_hinted(
                    format!("{}[{j}]", here("resources")),
                    format!("{name:?} is not the name of an [[api_resources]] entry"),
                    Some("declare it: [[api_resources]] name = \"https://...\", scopes = [...]"),
                );
            }
        }
        if problems.len() > before {
            continue;
        }
        out.push(ExchangeRule {
            subject_issuer,
            subject_audience: r.subject_audience.clone(),
            resources: r.resources.clone(),
        });
    }
    out
}

/// Warns of rules that let tokens go round: a token exchanged under one
/// can be exchanged again under the same rule, or another's, and back.
/// Each hop nests one more actor, and past the limit the exchange is
/// refused; a loop is seldom what the file meant.
pub(super) fn warn_loops(
    config: &super::super::Config,
    raw: &super::super::raw::RawConfig,
    problems: &mut Problems<'_>,
) {
    // Audience → the audiences tokens for it can be exchanged into.
    let mut edges: Vec<(&str, &str)> = Vec::new();
    for client in config.registry.clients() {
        for rule in client.token_exchange.iter() {
            if rule.subject_issuer == SubjectIssuer::Own {
                for resource in &rule.resources {
                    edges.push((rule.subject_audience.as_str(), resource.as_str()));
                }
            }
        }
    }
    let reaches = |from: &str, to: &str| {
        let mut seen = vec![from];
        let mut at = 0;
        while at < seen.len() {
            let here = seen[at];
            at += 1;
            if here == to {
                return true;
            }
            for (a, b) in &edges {
                if *a == here && !seen.contains(b) {
                    seen.push(b);
                }
            }
        }
        false
    };
    for (i, c) in raw.clients.iter().enumerate() {
        for (k, r) in c.token_exchange.iter().enumerate() {
            if r.subject_issuer != OWN {
                continue;
            }
            if let Some(back) = r
                .resources
                .iter()
                .find(|res| reaches(res, &r.subject_audience))
            {
                problems.add_hinted(
                    format!("clients[{i}].token_exchange[{k}]"),
                    format!(
                        "tokens exchanged under this rule (for {back}) can be exchanged again, back into tokens \
                         for {:?}: each hop nests one more actor in `act`, and past {} the exchange is refused",
                        r.subject_audience,
                        tollgate_core::exchange::MAX_ACTORS
                    ),
                    Some("let each rule lead to an API no rule takes tokens of, or split the audiences"),
                );
            }
        }
    }
}

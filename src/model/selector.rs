//! Label selectors in Kubernetes' syntax: `key=value`, `key==value`, `key!=value`,
//! `key in (a,b)`, `key notin (a,b)`, `key`, `!key`, joined by commas; a domain
//! matches when every requirement holds.

use std::collections::BTreeSet;

use super::{InvalidArgument, Labels, labels};

const FIELD: &str = "label_selector";
const MAX_SELECTOR_LEN: usize = 4096;

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Exists(String),
    Absent(String),
}

impl LabelSelector {
    /// Parses a selector.
    ///
    /// # Errors
    /// A malformed requirement, a bad key or value, named in the message.
    pub fn parse(input: &str) -> Result<Self, InvalidArgument> {
        if input.len() > MAX_SELECTOR_LEN {
            return Err(invalid(format!(
                "`{FIELD}` is {} bytes; at most {MAX_SELECTOR_LEN} are accepted",
                input.len()
            )));
        }
        let requirements = split_requirements(input)?
            .into_iter()
            .map(parse_requirement)
            .collect::<Result<_, _>>()?;
        Ok(LabelSelector { requirements })
    }

    /// Whether `labels` satisfy every requirement.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.requirements.iter().all(|r| match r {
            Requirement::In(key, values) => labels.get(key).is_some_and(|v| values.contains(v)),
            // As in Kubernetes, a domain without the key satisfies `!=` and `notin`.
            Requirement::NotIn(key, values) => labels.get(key).is_none_or(|v| !values.contains(v)),
            Requirement::Exists(key) => labels.contains_key(key),
            Requirement::Absent(key) => !labels.contains_key(key),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
}

/// Splits at commas outside parentheses; blank input is no requirement.
fn split_requirements(input: &str) -> Result<Vec<&str>, InvalidArgument> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0_u32, 0);
    for (i, c) in input.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| invalid(format!("`{FIELD}`: unbalanced ')' in {input:?}")))?;
            }
            ',' if depth == 0 => {
                parts.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(invalid(format!("`{FIELD}`: unclosed '(' in {input:?}")));
    }
    parts.push(&input[start..]);
    if parts.len() == 1 && parts[0].trim().is_empty() {
        return Ok(Vec::new());
    }
    Ok(parts)
}

fn parse_requirement(raw: &str) -> Result<Requirement, InvalidArgument> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(invalid(format!("`{FIELD}` has an empty requirement")));
    }
    if let Some(key) = text.strip_prefix('!') {
        return Ok(Requirement::Absent(key_of(key.trim())?));
    }
    for (op, negated) in [("!=", true), ("==", false), ("=", false)] {
        if let Some((key, value)) = text.split_once(op) {
            let key = key_of(key.trim())?;
            let value = value.trim().to_owned();
            labels::check_value(FIELD, &key, &value)?;
            let values = BTreeSet::from([value]);
            return Ok(if negated {
                Requirement::NotIn(key, values)
            } else {
                Requirement::In(key, values)
            });
        }
    }
    if let Some((key, rest)) = split_set_operator(text) {
        return set_requirement(text, key, rest);
    }
    if text.contains(char::is_whitespace) || text.contains(['(', ')']) {
        return Err(invalid(format!(
            "`{FIELD}`: cannot read {text:?}; expected key=value, key!=value, key in (a,b), key notin (a,b), key or !key"
        )));
    }
    Ok(Requirement::Exists(key_of(text)?))
}

/// `key in (...)` or `key notin (...)`: the key and the rest from the operator on.
fn split_set_operator(text: &str) -> Option<(&str, &str)> {
    let (key, rest) = text.split_once(char::is_whitespace)?;
    let rest = rest.trim_start();
    (rest.starts_with("in") || rest.starts_with("notin")).then_some((key, rest))
}

fn set_requirement(text: &str, key: &str, rest: &str) -> Result<Requirement, InvalidArgument> {
    let (negated, list) = match rest.strip_prefix("notin") {
        Some(list) => (true, list),
        None => (false, rest.strip_prefix("in").unwrap_or(rest)),
    };
    let list = list.trim();
    let inner = list
        .strip_prefix('(')
        .and_then(|l| l.strip_suffix(')'))
        .ok_or_else(|| {
            invalid(format!(
                "`{FIELD}`: {text:?} needs its values in parentheses, e.g. `{key} in (a,b)`"
            ))
        })?;
    let key = key_of(key)?;
    let mut values = BTreeSet::new();
    for value in inner.split(',').map(str::trim) {
        labels::check_value(FIELD, &key, value)?;
        values.insert(value.to_owned());
    }
    Ok(if negated {
        Requirement::NotIn(key, values)
    } else {
        Requirement::In(key, values)
    })
}

fn key_of(key: &str) -> Result<String, InvalidArgument> {
    labels::check_key(FIELD, key)?;
    Ok(key.to_owned())
}

fn invalid(message: String) -> InvalidArgument {
    InvalidArgument::new(FIELD, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn matches(selector: &str, pairs: &[(&str, &str)]) -> bool {
        LabelSelector::parse(selector)
            .expect("parses")
            .matches(&labels(pairs))
    }

    #[test]
    fn each_operator_matches_as_in_kubernetes() {
        let web = [("app", "web"), ("tier", "front")];
        assert!(matches("app=web", &web));
        assert!(matches("app==web", &web));
        assert!(!matches("app=db", &web));
        assert!(matches("app!=db", &web));
        assert!(matches("zone!=a", &web), "an absent key satisfies !=");
        assert!(matches("app in (db, web)", &web));
        assert!(!matches("app in (db)", &web));
        assert!(matches("app notin (db)", &web));
        assert!(matches("tier", &web));
        assert!(!matches("zone", &web));
        assert!(matches("!zone", &web));
        assert!(!matches("!app", &web));
        assert!(matches("app=web, tier in (front,back), !zone", &web));
        assert!(!matches("app=web,tier=back", &web));
        assert!(matches("", &web));
        assert!(matches("example.com/owner=", &[("example.com/owner", "")]));
    }

    #[test]
    fn malformed_selectors_say_what_is_wrong() {
        for (bad, says) in [
            ("app in db", "parentheses"),
            ("app in (a", "unclosed"),
            ("app)", "unbalanced"),
            ("app=web,,tier", "empty requirement"),
            ("-app=x", "label key"),
            ("app=not valid", "value"),
            ("app ~ x", "cannot read"),
        ] {
            let err = LabelSelector::parse(bad).expect_err(bad);
            assert_eq!(err.field, "label_selector");
            assert!(err.message.contains(says), "{bad}: {}", err.message);
        }
    }
}

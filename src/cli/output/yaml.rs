//! YAML from a JSON document: block style, strings quoted only where YAML would read them
//! as something else, multi-line text (domain XML) as literal blocks.

use super::node::Node as Value;

/// `value` as a YAML document, ending with a newline.
pub(crate) fn to_yaml(value: &Value) -> String {
    let mut out = String::new();
    if is_block(value) {
        block(&mut out, value, 0);
    } else {
        out.push_str(&scalar(value, 0));
        out.push('\n');
    }
    out
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Map(map) => !map.is_empty(),
        Value::List(items) => !items.is_empty(),
        _ => false,
    }
}

/// Writes a non-empty mapping or sequence, each line indented by `indent`.
fn block(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Map(map) => {
            for (key, item) in map {
                out.push_str(&pad);
                out.push_str(&key_text(key));
                out.push(':');
                child(out, item, indent);
            }
        }
        Value::List(items) => {
            for item in items {
                if is_block(item) {
                    // The item's first line goes on the dash's line.
                    let mut nested = String::new();
                    block(&mut nested, item, indent + 2);
                    out.push_str(&pad);
                    out.push_str("- ");
                    out.push_str(&nested[indent + 2..]);
                } else {
                    out.push_str(&pad);
                    out.push('-');
                    child(out, item, indent);
                }
            }
        }
        _ => {}
    }
}

/// Writes what follows `key:` or `-`: a scalar on the same line, a block below it.
fn child(out: &mut String, value: &Value, indent: usize) {
    if is_block(value) {
        out.push('\n');
        block(out, value, indent + 2);
    } else {
        out.push(' ');
        out.push_str(&scalar(value, indent + 2));
        out.push('\n');
    }
}

fn scalar(value: &Value, indent: usize) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s, indent),
        Value::Map(_) => "{}".to_owned(),
        Value::List(_) => "[]".to_owned(),
    }
}

fn string(s: &str, indent: usize) -> String {
    if s.contains('\n') && literal_safe(s) {
        let pad = " ".repeat(indent);
        let chomp = if s.ends_with('\n') { "|" } else { "|-" };
        let body = s.strip_suffix('\n').unwrap_or(s);
        let lines: Vec<String> = body
            .split('\n')
            .map(|line| {
                if line.is_empty() {
                    String::new()
                } else {
                    format!("{pad}{line}")
                }
            })
            .collect();
        return format!("{chomp}\n{}", lines.join("\n"));
    }
    if plain_safe(s) {
        s.to_owned()
    } else {
        quoted(s)
    }
}

/// A literal block keeps text as it is, unless its first line starts with a space (the
/// indentation would be misread), it ends in blank lines, or it holds control
/// characters or a carriage return.
fn literal_safe(s: &str) -> bool {
    !s.starts_with([' ', '\t'])
        && !s.ends_with("\n\n")
        && !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

/// A plain scalar that YAML reads back as this very string: starts with a letter or
/// `/`, holds no `: ` or ` #`, and is no boolean or null word of YAML 1.1 or 1.2.
fn plain_safe(s: &str) -> bool {
    const WORDS: [&str; 11] = [
        "true", "false", "yes", "no", "on", "off", "null", "y", "n", "nan", "inf",
    ];
    let Some(first) = s.chars().next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || first == '/')
        && !s.ends_with([' ', ':'])
        && !s.contains(": ")
        && !s.contains(" #")
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || " _-./:@+()=,".contains(c) || !c.is_ascii())
        && !s.chars().any(char::is_control)
        && !WORDS.contains(&s.to_ascii_lowercase().as_str())
}

fn key_text(key: &str) -> String {
    if plain_safe(key) && !key.contains(' ') {
        key.to_owned()
    } else {
        quoted(key)
    }
}

/// A double-quoted scalar: JSON's escapes are YAML's.
fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| format!("{s:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        Value::parse(text).expect("JSON")
    }

    #[test]
    fn nested_mappings_and_sequences_are_indented_blocks() {
        let value = json(
            r#"{"domains": [
                {"name": "web", "state": "DOMAIN_STATE_RUNNING", "labels": {"app": "web"}},
                {"name": "db", "vcpus": 2}
            ], "nextPageToken": "", "stale": false}"#,
        );
        assert_eq!(
            to_yaml(&value),
            "domains:\n  - name: web\n    state: DOMAIN_STATE_RUNNING\n    labels:\n      app: web\n  \
             - name: db\n    vcpus: 2\nnextPageToken: \"\"\nstale: false\n"
        );
    }

    #[test]
    fn ambiguous_strings_are_quoted() {
        let value = json(
            r#"{"id": "42", "answer": "yes", "uuid": "5f3e-01",
                "when": "2026-01-01T00:00:00Z", "path": "/var/lib/x.qcow2"}"#,
        );
        let yaml = to_yaml(&value);
        assert!(yaml.contains("id: \"42\"\n"), "{yaml}");
        assert!(yaml.contains("answer: \"yes\"\n"), "{yaml}");
        assert!(yaml.contains("uuid: \"5f3e-01\"\n"), "{yaml}");
        assert!(yaml.contains("when: \"2026-01-01T00:00:00Z\"\n"), "{yaml}");
        assert!(yaml.contains("path: /var/lib/x.qcow2\n"), "{yaml}");
    }

    #[test]
    fn multi_line_text_is_a_literal_block() {
        let value = json(r#"{"xml": "<domain>\n  <name>web</name>\n</domain>\n"}"#);
        assert_eq!(
            to_yaml(&value),
            "xml: |\n  <domain>\n    <name>web</name>\n  </domain>\n"
        );
    }

    #[test]
    fn empty_containers_are_flow_style() {
        assert_eq!(to_yaml(&json("{}")), "{}\n");
        assert_eq!(to_yaml(&json(r#"{"a": []}"#)), "a: []\n");
    }
}

//! The bits of libvirt XML the operations read and write: a child by tag, its text,
//! a memory value in KiB, and text escaped for an element or an attribute.

use roxmltree::Node;

/// The first child of `node` named `tag`.
pub(crate) fn child<'a, 'input>(node: Node<'a, 'input>, tag: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|n| n.has_tag_name(tag))
}

/// The trimmed text of `node`'s first child named `tag`.
pub(crate) fn child_text(node: Node<'_, '_>, tag: &str) -> Option<String> {
    child(node, tag)
        .and_then(|n| n.text())
        .map(|t| t.trim().to_owned())
}

/// An element holding a memory size (`<memory unit='MiB'>256</memory>`), in KiB.
pub(crate) fn memory_kib(node: Node<'_, '_>) -> Option<u64> {
    let value: u64 = node.text()?.trim().parse().ok()?;
    Some(match node.attribute("unit").unwrap_or("KiB") {
        "b" | "bytes" => value / 1024,
        "KB" => value * 1000 / 1024,
        "MB" => value * 1_000_000 / 1024,
        "GB" => value * 1_000_000_000 / 1024,
        "M" | "MiB" => value * 1024,
        "G" | "GiB" => value * 1024 * 1024,
        "T" | "TiB" => value * 1024 * 1024 * 1024,
        _ => value,
    })
}

/// `text` escaped for an element's content or a double-quoted attribute.
pub(crate) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_values_convert_from_libvirts_units_to_kib() {
        let doc = roxmltree::Document::parse(
            "<d><a>262144</a><b unit='MiB'>256</b><c unit='GiB'>1</c><e unit='bytes'>2048</e></d>",
        )
        .expect("parses");
        let kib = |tag| child(doc.root_element(), tag).and_then(memory_kib);
        assert_eq!(
            [kib("a"), kib("b"), kib("c"), kib("e")],
            [Some(262_144), Some(262_144), Some(1_048_576), Some(2)]
        );
        assert_eq!(escape(r#"<a&"b">"#), "&lt;a&amp;&quot;b&quot;&gt;");
    }
}

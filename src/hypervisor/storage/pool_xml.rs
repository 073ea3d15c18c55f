//! libvirt's storage pool XML (`<pool>`): written to define a directory pool, read for
//! the pool's type and directory.

use crate::hypervisor::{HypervisorError, xml};

/// What a pool's XML says beyond `virStoragePoolGetInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct PoolXml {
    pub(super) kind: String,
    pub(super) target_path: String,
}

/// The definition of a directory pool `name` keeping its volumes in `path`.
pub(super) fn render_dir_pool(name: &str, path: &str) -> String {
    format!(
        "<pool type=\"dir\"><name>{}</name><target><path>{}</path></target></pool>",
        xml::escape(name),
        xml::escape(path)
    )
}

/// Reads a pool's type and target directory.
pub(super) fn parse(text: &str) -> Result<PoolXml, HypervisorError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        HypervisorError::internal("read storage pool", format!("pool XML unreadable: {e}"))
    })?;
    let root = doc.root_element();
    Ok(PoolXml {
        kind: root.attribute("type").unwrap_or_default().to_owned(),
        target_path: xml::child(root, "target")
            .and_then(|target| xml::child_text(target, "path"))
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dir_pool_is_written_escaped_and_read_back() {
        let text = render_dir_pool("a&b", "/srv/vm/<x>");
        assert_eq!(
            text,
            "<pool type=\"dir\"><name>a&amp;b</name><target><path>/srv/vm/&lt;x&gt;</path></target></pool>"
        );
        let read = parse(&text).expect("parses");
        assert_eq!(
            read,
            PoolXml {
                kind: "dir".into(),
                target_path: "/srv/vm/<x>".into()
            }
        );
    }
}

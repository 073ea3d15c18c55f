//! libvirt's storage volume XML (`<volume>`): written to create a volume, read into
//! the model in one call per volume (it holds the path, sizes, format and backing
//! store that would otherwise take several).

use roxmltree::Node;

use crate::{
    hypervisor::{HypervisorError, xml},
    model::{BackingStore, VolumeInfo},
};

/// A volume to ask libvirt for.
#[derive(Debug, Clone, Copy)]
pub(super) struct Spec<'a> {
    pub(super) name: &'a str,
    /// libvirt's format word ("raw", "qcow2", or a cloned volume's own).
    pub(super) format: &'a str,
    pub(super) capacity_bytes: u64,
    pub(super) allocation_bytes: u64,
    pub(super) backing: Option<&'a BackingStore>,
}

/// The XML that asks for `spec`.
pub(super) fn render(spec: Spec<'_>) -> String {
    let Spec {
        name,
        format,
        capacity_bytes,
        allocation_bytes,
        backing,
    } = spec;
    let backing = backing.map_or(String::new(), |backing| {
        let format = if backing.format.is_empty() {
            String::new()
        } else {
            format!("<format type=\"{}\"/>", xml::escape(&backing.format))
        };
        format!(
            "<backingStore><path>{}</path>{format}</backingStore>",
            xml::escape(&backing.path)
        )
    });
    format!(
        "<volume><name>{}</name>\
         <capacity unit=\"bytes\">{capacity_bytes}</capacity>\
         <allocation unit=\"bytes\">{allocation_bytes}</allocation>\
         <target><format type=\"{}\"/></target>{backing}</volume>",
        xml::escape(name),
        xml::escape(format)
    )
}

/// Reads the description of a volume of `pool`.
pub(super) fn parse(text: &str, pool: &str) -> Result<VolumeInfo, HypervisorError> {
    let doc = roxmltree::Document::parse(text).map_err(|e| {
        HypervisorError::internal("read storage volume", format!("volume XML unreadable: {e}"))
    })?;
    let root = doc.root_element();
    let target = xml::child(root, "target");
    let backing = xml::child(root, "backingStore").and_then(|backing| {
        let path = xml::child_text(backing, "path").filter(|p| !p.is_empty())?;
        Some(BackingStore {
            path,
            format: format_of(backing),
        })
    });
    Ok(VolumeInfo {
        pool: pool.to_owned(),
        name: xml::child_text(root, "name").unwrap_or_default(),
        path: target
            .and_then(|t| xml::child_text(t, "path"))
            .unwrap_or_default(),
        kind: root.attribute("type").unwrap_or_default().to_owned(),
        format: target.map(format_of).unwrap_or_default(),
        capacity_bytes: xml::child(root, "capacity").and_then(bytes).unwrap_or(0),
        allocation_bytes: xml::child(root, "allocation").and_then(bytes).unwrap_or(0),
        backing,
    })
}

/// The `<format type='...'/>` of a target or backing store.
fn format_of(node: Node<'_, '_>) -> String {
    xml::child(node, "format")
        .and_then(|f| f.attribute("type"))
        .unwrap_or_default()
        .to_owned()
}

/// A size element (`<capacity unit='bytes'>N</capacity>`) in bytes.
fn bytes(node: Node<'_, '_>) -> Option<u64> {
    let value: u64 = node.text()?.trim().parse().ok()?;
    let scale: u64 = match node.attribute("unit").unwrap_or("bytes") {
        "b" | "byte" | "bytes" => 1,
        "KB" => 1000,
        "k" | "K" | "KiB" => 1 << 10,
        "MB" => 1_000_000,
        "M" | "MiB" => 1 << 20,
        "GB" => 1_000_000_000,
        "G" | "GiB" => 1 << 30,
        "TB" => 1_000_000_000_000,
        "T" | "TiB" => 1 << 40,
        _ => return None,
    };
    value.checked_mul(scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_volume_description_is_read_into_the_model() {
        let text = "<volume type='file'><name>web.qcow2</name><key>/p/web.qcow2</key>\
            <capacity unit='bytes'>1073741824</capacity><allocation unit='KiB'>196</allocation>\
            <target><path>/p/web.qcow2</path><format type='qcow2'/></target>\
            <backingStore><path>/p/base.img</path><format type='raw'/></backingStore></volume>";
        let info = parse(text, "images").expect("parses");
        assert_eq!(
            info,
            VolumeInfo {
                pool: "images".into(),
                name: "web.qcow2".into(),
                path: "/p/web.qcow2".into(),
                kind: "file".into(),
                format: "qcow2".into(),
                capacity_bytes: 1 << 30,
                allocation_bytes: 196 * 1024,
                backing: Some(BackingStore {
                    path: "/p/base.img".into(),
                    format: "raw".into()
                }),
            }
        );
        // An empty <backingStore/> (libvirt writes one for some volumes) is no backing.
        let plain = parse(
            "<volume type='file'><name>a</name><backingStore/></volume>",
            "images",
        )
        .expect("parses");
        assert_eq!(plain.backing, None);
    }

    #[test]
    fn a_new_overlay_names_its_backing_store() {
        let backing = BackingStore {
            path: "/p/base&1.qcow2".into(),
            format: "qcow2".into(),
        };
        let text = render(Spec {
            name: "web",
            format: "qcow2",
            capacity_bytes: 10,
            allocation_bytes: 0,
            backing: Some(&backing),
        });
        assert_eq!(
            text,
            "<volume><name>web</name><capacity unit=\"bytes\">10</capacity>\
             <allocation unit=\"bytes\">0</allocation><target><format type=\"qcow2\"/></target>\
             <backingStore><path>/p/base&amp;1.qcow2</path><format type=\"qcow2\"/></backingStore></volume>"
        );
    }
}

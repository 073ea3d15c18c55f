//! A domain's labels, kept in its libvirt metadata under the service's own XML
//! namespace: they outlive the service, and `virsh metadata` shows them.

use std::sync::{Mutex, PoisonError};

use virt::{connect::Connect, domain::Domain, sys};

use super::libvirt;
use crate::{
    hypervisor::{Admission, HypervisorError, Operation, Retry, xml},
    model::{DomainRef, DomainSummary, Labels, labels::MAX_LABELS},
};

/// The XML namespace of the service's metadata element.
pub const LABELS_NAMESPACE: &str = "https://virtplane.dev/xmlns/labels/v1";
/// The prefix libvirt writes the element with.
const LABELS_PREFIX: &str = "virtplane";

/// Label updates read, change and write the whole element: one at a time in this
/// process, so two concurrent updates cannot lose one another's labels.
static UPDATES: Mutex<()> = Mutex::new(());

/// Sets and removes labels of a domain; the domain afterwards.
#[derive(Debug, Clone)]
pub struct UpdateDomainLabels {
    pub domain: DomainRef,
    pub set: Labels,
    pub remove: Vec<String>,
}

impl Operation for UpdateDomainLabels {
    type Output = DomainSummary;
    const NAME: &'static str = "update domain labels";
    // Setting the same labels twice leaves the same labels.
    const RETRY: Retry = Retry::Safe;
    const ADMISSION: Admission = Admission::Always;

    fn call(&self, conn: &Connect) -> Result<Self::Output, HypervisorError> {
        let dom = libvirt::lookup(conn, &self.domain)?;
        let _one_at_a_time = UPDATES.lock().unwrap_or_else(PoisonError::into_inner);
        let mut labels = read(&dom)?;
        for key in &self.remove {
            labels.remove(key);
        }
        labels.extend(self.set.clone());
        if labels.len() > MAX_LABELS {
            return Err(HypervisorError::OutOfRange {
                operation: Self::NAME,
                message: format!(
                    "domain {} would have {} labels; at most {MAX_LABELS} are allowed",
                    self.domain,
                    labels.len()
                ),
            });
        }
        write(&dom, &labels)?;
        libvirt::summarize(&dom)
    }
}

/// The domain's labels (live for a running domain); none when it has no element.
pub(super) fn read(dom: &Domain) -> Result<Labels, HypervisorError> {
    match dom.metadata(
        sys::VIR_DOMAIN_METADATA_ELEMENT as i32,
        Some(LABELS_NAMESPACE),
        0,
    ) {
        Ok(xml) => Ok(parse(&xml)),
        Err(e) if e.code().to_raw() == sys::VIR_ERR_NO_DOMAIN_METADATA => Ok(Labels::new()),
        Err(e) => Err(HypervisorError::from_virt("read domain labels", &e)),
    }
}

/// Writes `labels` to the running domain and to its definition, so they hold now
/// and after the next start; no labels removes the element.
fn write(dom: &Domain, labels: &Labels) -> Result<(), HypervisorError> {
    let fail = |e: virt::error::Error| HypervisorError::from_virt("write domain labels", &e);
    let mut flags = 0;
    if dom.is_active().map_err(fail)? {
        flags |= sys::VIR_DOMAIN_AFFECT_LIVE;
    }
    if dom.is_persistent().map_err(fail)? {
        flags |= sys::VIR_DOMAIN_AFFECT_CONFIG;
    }
    let xml = (!labels.is_empty()).then(|| render(labels));
    dom.set_metadata(
        sys::VIR_DOMAIN_METADATA_ELEMENT as i32,
        xml.as_deref(),
        Some(LABELS_PREFIX),
        Some(LABELS_NAMESPACE),
        flags,
    )
    .map_err(fail)
}

/// The metadata element: `<labels><label key="k">v</label>...</labels>`; libvirt
/// puts it in the service's namespace.
fn render(labels: &Labels) -> String {
    let mut out = String::from("<labels>");
    for (key, value) in labels {
        out.push_str(&format!(
            "<label key=\"{}\">{}</label>",
            xml::escape(key),
            xml::escape(value)
        ));
    }
    out.push_str("</labels>");
    out
}

/// The labels in a domain's full XML (its `<metadata>`).
#[cfg(test)]
fn from_domain_xml(domain_xml: &str) -> Labels {
    let Ok(doc) = roxmltree::Document::parse(domain_xml) else {
        return Labels::new();
    };
    from_domain_element(doc.root_element())
}

/// The labels in a parsed domain XML's `<metadata>`, for a caller that reads the XML
/// anyway: one round trip fewer than asking for the element.
pub(super) fn from_domain_element(domain: roxmltree::Node<'_, '_>) -> Labels {
    domain
        .children()
        .filter(|n| n.has_tag_name("metadata"))
        .flat_map(|metadata| metadata.children())
        .find(|n| n.has_tag_name((LABELS_NAMESPACE, "labels")))
        .map(|element| labels_of(element))
        .unwrap_or_default()
}

/// Reads labels back; entries another client wrote malformed are skipped.
fn parse(xml: &str) -> Labels {
    let Ok(doc) = roxmltree::Document::parse(xml) else {
        return Labels::new();
    };
    labels_of(doc.root_element())
}

fn labels_of(element: roxmltree::Node<'_, '_>) -> Labels {
    element
        .children()
        .filter(|n| n.has_tag_name((LABELS_NAMESPACE, "label")) || n.has_tag_name("label"))
        .filter_map(|n| {
            let key = n.attribute("key")?;
            Some((key.to_owned(), n.text().unwrap_or_default().to_owned()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_survive_a_round_trip_through_the_metadata_element() {
        let labels: Labels = [("app", "web"), ("example.com/owner", ""), ("t", "a&b")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        // libvirt hands the element back in its namespace.
        let stored = render(&labels).replacen(
            "<labels>",
            &format!("<{LABELS_PREFIX}:labels xmlns:{LABELS_PREFIX}=\"{LABELS_NAMESPACE}\">"),
            1,
        );
        let stored = stored
            .replace("<label ", &format!("<{LABELS_PREFIX}:label "))
            .replace("</label>", &format!("</{LABELS_PREFIX}:label>"))
            .replace("</labels>", &format!("</{LABELS_PREFIX}:labels>"));
        assert_eq!(parse(&stored), labels);
        assert_eq!(parse(&render(&labels)), labels);
        assert!(parse("not xml").is_empty());
        let domain = format!(
            "<domain><name>a</name><metadata><other xmlns=\"urn:x\"/>{stored}</metadata></domain>"
        );
        assert_eq!(from_domain_xml(&domain), labels);
        assert!(from_domain_xml("<domain><name>a</name></domain>").is_empty());
    }
}

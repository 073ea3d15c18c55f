use std::collections::HashSet;

use super::*;
use crate::model::{Devices, DomainState, DomainSummary, Labels};

fn view(uuid: &str, name: &str, state: DomainState) -> DomainView {
    DomainView {
        summary: DomainSummary {
            uuid: uuid.into(),
            name: name.into(),
            state,
            state_reason: String::new(),
            id: None,
            vcpus: 1,
            memory_kib: 1024,
            max_memory_kib: 1024,
            persistent: true,
            autostart: false,
            has_managed_save: false,
            labels: Labels::new(),
        },
        devices: Devices::default(),
    }
}

fn names(views: &[Arc<DomainView>]) -> Vec<&str> {
    views.iter().map(|v| v.summary.name.as_str()).collect()
}

#[test]
fn an_older_read_never_overwrites_a_newer_one() {
    let mut catalog = Catalog::default();
    catalog.apply(2, "u1", Some(view("u1", "a", DomainState::Shutoff)));
    catalog.apply(1, "u1", Some(view("u1", "a", DomainState::Running)));
    let a = catalog.get(&DomainRef::Name("a".into())).expect("known");
    assert_eq!(a.summary.state, DomainState::Shutoff);

    catalog.apply(3, "u1", None);
    catalog.apply(2, "u1", Some(view("u1", "a", DomainState::Running)));
    assert!(
        catalog.get(&DomainRef::Uuid("u1".into())).is_none(),
        "gone stays gone"
    );
}

#[test]
fn renames_and_reused_names_keep_one_entry_per_name() {
    let mut catalog = Catalog::default();
    catalog.apply(1, "u1", Some(view("u1", "a", DomainState::Shutoff)));
    catalog.apply(2, "u1", Some(view("u1", "b", DomainState::Shutoff)));
    assert!(catalog.get(&DomainRef::Name("a".into())).is_none());
    catalog.apply(3, "u2", Some(view("u2", "b", DomainState::Running)));
    assert_eq!(catalog.len(), 1);
    assert!(catalog.get(&DomainRef::Uuid("u1".into())).is_none());
    assert_eq!(
        catalog.uuid_of(&DomainRef::Name("b".into())).as_deref(),
        Some("u2")
    );
}

#[test]
fn pages_resume_after_the_last_name_and_filter_first() {
    let mut catalog = Catalog::default();
    for (i, name) in ["a", "b", "c", "d", "e"].iter().enumerate() {
        let state = if i % 2 == 0 {
            DomainState::Running
        } else {
            DomainState::Shutoff
        };
        catalog.apply(
            1,
            &format!("u{i}"),
            Some(view(&format!("u{i}"), name, state)),
        );
    }
    assert_eq!(names(&catalog.page(None, 2, |_| true)), ["a", "b"]);
    assert_eq!(names(&catalog.page(Some("b"), 2, |_| true)), ["c", "d"]);
    // The cursor needs not exist any more.
    assert_eq!(
        names(&catalog.page(Some("bb"), 9, |_| true)),
        ["c", "d", "e"]
    );
    let running = |v: &DomainView| v.summary.state == DomainState::Running;
    assert_eq!(names(&catalog.page(Some("a"), 2, running)), ["c", "e"]);
}

#[test]
fn a_refill_drops_what_it_did_not_list_unless_a_newer_read_found_it() {
    let mut catalog = Catalog::default();
    catalog.apply(1, "old", Some(view("old", "old", DomainState::Shutoff)));
    catalog.apply(5, "new", Some(view("new", "new", DomainState::Running)));
    catalog.apply(6, "x", None);
    // The listing (read 4) shows x and y; their views come from later reads.
    catalog.apply(7, "y", Some(view("y", "y", DomainState::Running)));
    catalog.apply(8, "x", Some(view("x", "x", DomainState::Running)));
    let listed: HashSet<String> = ["x".to_owned(), "y".to_owned()].into();
    catalog.forget_unlisted(4, &listed);
    assert_eq!(names(&catalog.page(None, 9, |_| true)), ["new", "x", "y"]);
    // An older read cannot bring back what the listing dropped.
    catalog.apply(3, "old", Some(view("old", "old", DomainState::Shutoff)));
    assert!(catalog.get(&DomainRef::Name("old".into())).is_none());
}

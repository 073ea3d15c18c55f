//! Saving a domain to a file in the service's save directory and restoring it, and
//! libvirt's managed save: on the test driver, with the events they lead to and each
//! refusal.

use std::time::Duration;

use tonic::Code;
use virtplane::grpc::pb::{self, DomainState, LifecycleEventType as Type};

use crate::support::{
    TEST_DRIVER, TestApp, TestOptions, events::events_of, eventually, fixtures::state, unique_name,
};

fn save(domain: &str, file: &str) -> pb::SaveDomainRequest {
    pb::SaveDomainRequest {
        domain: domain.into(),
        file: file.into(),
        ..Default::default()
    }
}

fn restore(file: &str) -> pb::RestoreDomainRequest {
    pb::RestoreDomainRequest {
        file: file.into(),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_saved_domain_stops_and_is_restored_running_from_its_file() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("save");
    app.define(&name).await;
    app.start(&name).await;

    let saved = app
        .domains
        .save_domain(save(&name, ""))
        .await
        .expect("save")
        .into_inner();
    assert_eq!(state(&saved), DomainState::Shutoff);
    let file = format!("{name}.save");
    assert!(
        app.scratch.join("save").join(&file).is_file(),
        "the default file is the domain's name in the save directory"
    );

    let restored = app
        .domains
        .restore_domain(restore(&file))
        .await
        .expect("restore")
        .into_inner();
    assert_eq!(state(&restored), DomainState::Running);
    assert_eq!(restored.name, name);

    // The start before the save is a Started event too: wait for the restore's own.
    eventually(Duration::from_secs(5), "the restore recorded", || async {
        events_of(&app, &name)
            .await
            .iter()
            .any(|e| e.detail == "restored")
    })
    .await;
    let details: Vec<(i32, String)> = events_of(&app, &name)
        .await
        .into_iter()
        .map(|e| (e.r#type, e.detail))
        .collect();
    assert!(
        details.contains(&(Type::Stopped.into(), "saved".into()))
            && details.contains(&(Type::Started.into(), "restored".into())),
        "{details:?}"
    );

    app.stop().await;
}

#[tokio::test]
async fn save_files_are_names_in_the_save_directory_never_paths() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("save-refusals");
    app.define(&name).await;
    app.start(&name).await;

    for path in ["/tmp/evil", "../escape", "a/b", ".hidden"] {
        let status = app
            .domains
            .save_domain(save(&name, path))
            .await
            .expect_err(path);
        assert_eq!(status.code(), Code::InvalidArgument, "{path}");
        assert!(
            status.message().contains("is not a file name"),
            "{}",
            status.message()
        );
        let status = app
            .domains
            .restore_domain(restore(path))
            .await
            .expect_err(path);
        assert_eq!(status.code(), Code::InvalidArgument, "{path}");
    }

    let missing = app
        .domains
        .restore_domain(restore("never-written"))
        .await
        .expect_err("no such file");
    assert_eq!(missing.code(), Code::NotFound);
    assert!(
        missing.message().contains("never-written"),
        "{}",
        missing.message()
    );

    app.domains
        .save_domain(save(&name, "taken"))
        .await
        .expect("first save");
    app.start(&name).await;
    let taken = app
        .domains
        .save_domain(save(&name, "taken"))
        .await
        .expect_err("the file exists");
    assert_eq!(taken.code(), Code::AlreadyExists);

    app.domains
        .destroy_domain(pb::DestroyDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("destroy");
    let off = app
        .domains
        .save_domain(save(&name, "off"))
        .await
        .expect_err("nothing runs");
    assert_eq!(off.code(), Code::FailedPrecondition);
    assert!(
        off.message().contains("a running or paused domain"),
        "{}",
        off.message()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_managed_save_is_resumed_by_start_removed_on_request_and_named_by_undefine() {
    let mut app = TestApp::spawn(TestOptions::new(TEST_DRIVER)).await;
    let name = unique_name("managed");
    app.define(&name).await;
    app.start(&name).await;
    let managed = |domain: &str| pb::ManagedSaveDomainRequest {
        domain: domain.into(),
        ..Default::default()
    };

    let saved = app
        .domains
        .managed_save_domain(managed(&name))
        .await
        .expect("managed save")
        .into_inner();
    assert_eq!(state(&saved), DomainState::Shutoff);
    assert!(saved.has_managed_save);

    let resumed = app.start(&name).await;
    assert_eq!(state(&resumed), DomainState::Running);
    assert!(
        !resumed.has_managed_save,
        "the image is used up by the start"
    );

    app.domains
        .managed_save_domain(managed(&name))
        .await
        .expect("managed save again");
    let refused = app
        .domains
        .undefine_domain(pb::UndefineDomainRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect_err("libvirt keeps a domain with a managed save image");
    assert_eq!(refused.code(), Code::FailedPrecondition);

    let removed = app
        .domains
        .remove_managed_save(pb::RemoveManagedSaveRequest {
            domain: name.clone(),
            ..Default::default()
        })
        .await
        .expect("remove")
        .into_inner();
    assert!(!removed.has_managed_save);

    app.start(&name).await;
    app.domains
        .managed_save_domain(managed(&name))
        .await
        .expect("managed save a third time");
    app.domains
        .undefine_domain(pb::UndefineDomainRequest {
            domain: name.clone(),
            remove_managed_save: true,
            ..Default::default()
        })
        .await
        .expect("undefine removes the image too");
    app.stop().await;
}

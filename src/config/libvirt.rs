//! `[libvirt]`: how the service reaches libvirt, resolved into
//! [`crate::hypervisor::Settings`].

use std::path::PathBuf;

use serde::Deserialize;

use super::{
    Cli, ConfigError,
    values::{millis, read_secret_file},
};
use crate::hypervisor::Settings;

/// Where saved domains go unless configured otherwise.
const DEFAULT_SAVE_DIR: &str = "/var/lib/virtplane/save";

/// Where clients may name storage paths unless configured otherwise: libvirt's own
/// default pool.
const DEFAULT_STORAGE_ROOT: &str = "/var/lib/libvirt/images";

/// The libvirt URI real hosts use; only the demo points elsewhere.
pub const DEFAULT_LIBVIRT_URI: &str = "qemu:///system";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileLibvirt {
    uri: Option<String>,
    read_only: Option<bool>,
    username: Option<String>,
    passphrase_file: Option<PathBuf>,
    connect_timeout_ms: Option<u64>,
    call_timeout_ms: Option<u64>,
    max_concurrent_calls: Option<u64>,
    reconnect_backoff_initial_ms: Option<u64>,
    reconnect_backoff_max_ms: Option<u64>,
    keepalive_interval_s: Option<u32>,
    keepalive_count: Option<u32>,
    save_dir: Option<PathBuf>,
    storage_roots: Option<Vec<PathBuf>>,
    manage_networks: Option<bool>,
}

/// `[libvirt]`, with `--libvirt-uri` and `--libvirt-read-only` over the file.
pub(super) fn resolve(file: FileLibvirt, cli: &Cli) -> Result<Settings, ConfigError> {
    let FileLibvirt {
        uri,
        read_only,
        username,
        passphrase_file,
        connect_timeout_ms,
        call_timeout_ms,
        max_concurrent_calls,
        reconnect_backoff_initial_ms,
        reconnect_backoff_max_ms,
        keepalive_interval_s,
        keepalive_count,
        save_dir,
        storage_roots,
        manage_networks,
    } = file;
    let uri = cli
        .libvirt_uri
        .clone()
        .or(uri)
        .unwrap_or_else(|| DEFAULT_LIBVIRT_URI.to_owned());
    if uri.trim().is_empty() || !uri.contains(':') {
        return Err(ConfigError::invalid(
            "libvirt.uri",
            "expected a libvirt URI such as qemu:///system",
        ));
    }
    let username = username.filter(|u| !u.is_empty());
    let passphrase = match passphrase_file {
        Some(path) => Some(read_secret_file("libvirt.passphrase_file", &path)?),
        None => None,
    };
    let max_concurrent_calls = max_concurrent_calls.unwrap_or(4);
    if !(1..=64).contains(&max_concurrent_calls) {
        return Err(ConfigError::invalid(
            "libvirt.max_concurrent_calls",
            "must be between 1 and 64 (libvirtd serves 5 requests per client by default)",
        ));
    }
    let reconnect_backoff_initial = millis(
        "libvirt.reconnect_backoff_initial_ms",
        reconnect_backoff_initial_ms,
        100,
    )?;
    let reconnect_backoff_max = millis(
        "libvirt.reconnect_backoff_max_ms",
        reconnect_backoff_max_ms,
        30_000,
    )?;
    if reconnect_backoff_max < reconnect_backoff_initial {
        return Err(ConfigError::invalid(
            "libvirt.reconnect_backoff_max_ms",
            "must not be below libvirt.reconnect_backoff_initial_ms",
        ));
    }
    Ok(Settings {
        uri,
        read_only: cli.libvirt_read_only.or(read_only).unwrap_or(false),
        username,
        passphrase,
        connect_timeout: millis("libvirt.connect_timeout_ms", connect_timeout_ms, 10_000)?,
        call_timeout: millis("libvirt.call_timeout_ms", call_timeout_ms, 30_000)?,
        max_concurrent_calls: max_concurrent_calls as usize,
        reconnect_backoff_initial,
        reconnect_backoff_max,
        keepalive_interval_secs: keepalive_interval_s.unwrap_or(5),
        keepalive_count: keepalive_count.unwrap_or(3),
        save_dir: save_dir_of(save_dir)?,
        storage_roots: storage_roots_of(storage_roots)?,
        // Off unless asked for: on most hosts the networking is the provisioning's,
        // not the VM agent's.
        manage_networks: manage_networks.unwrap_or(false),
    })
}

/// `libvirt.storage_roots`: absolute directories, `/` excepted (it would allow any
/// path); an empty list allows none.
fn storage_roots_of(configured: Option<Vec<PathBuf>>) -> Result<Vec<PathBuf>, ConfigError> {
    let roots = configured.unwrap_or_else(|| vec![PathBuf::from(DEFAULT_STORAGE_ROOT)]);
    for root in &roots {
        let plain = root.is_absolute()
            && root.components().all(|c| {
                matches!(
                    c,
                    std::path::Component::RootDir | std::path::Component::Normal(_)
                )
            });
        if !plain || root.parent().is_none() {
            return Err(ConfigError::invalid(
                "libvirt.storage_roots",
                format!(
                    "{} is not allowed: each root must be an absolute directory without '.' or '..', and not '/'",
                    root.display()
                ),
            ));
        }
    }
    Ok(roots)
}

/// `libvirt.save_dir`: an absolute path, since libvirtd resolves it, not the service.
fn save_dir_of(configured: Option<PathBuf>) -> Result<PathBuf, ConfigError> {
    let dir = configured.unwrap_or_else(|| PathBuf::from(DEFAULT_SAVE_DIR));
    if !dir.is_absolute() {
        return Err(ConfigError::invalid(
            "libvirt.save_dir",
            "must be an absolute path (libvirtd opens the files, from its own working directory)",
        ));
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    #[test]
    fn too_few_concurrent_calls_are_named_by_their_key() {
        let err = Config::from_toml("[libvirt]\nmax_concurrent_calls = 0").expect_err("zero");
        assert!(
            err.to_string().contains("libvirt.max_concurrent_calls"),
            "{err}"
        );
    }

    #[test]
    fn storage_roots_default_to_libvirts_images_and_must_be_plain_absolute_directories() {
        let config = Config::from_toml("").expect("defaults");
        assert_eq!(
            config.libvirt.storage_roots,
            vec![std::path::PathBuf::from("/var/lib/libvirt/images")]
        );
        for bad in ["\"images\"", "\"/\"", "\"/srv/../etc\""] {
            let err =
                Config::from_toml(&format!("[libvirt]\nstorage_roots = [{bad}]")).expect_err(bad);
            assert!(err.to_string().contains("libvirt.storage_roots"), "{err}");
        }
    }

    #[test]
    fn managing_networks_is_off_unless_a_boolean_turns_it_on() {
        assert!(
            !Config::from_toml("")
                .expect("defaults")
                .libvirt
                .manage_networks
        );
        let on = Config::from_toml("[libvirt]\nmanage_networks = true").expect("on");
        assert!(on.libvirt.manage_networks);
        let err = Config::from_toml("[libvirt]\nmanage_networks = \"yes\"").expect_err("a string");
        assert!(err.to_string().contains("manage_networks"), "{err}");
    }

    #[test]
    fn a_relative_save_dir_is_refused_by_its_key() {
        let err = Config::from_toml("[libvirt]\nsave_dir = \"save\"").expect_err("relative");
        assert!(err.to_string().contains("libvirt.save_dir"), "{err}");
    }
}

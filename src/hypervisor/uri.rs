//! libvirt URIs as shown to people: any password replaced by `***`.

/// Returns `uri` with the password of its user-info part (`user:password@`) and any
/// `password=`-like query parameter hidden.
pub fn redact(uri: &str) -> String {
    let mut out = redact_userinfo(uri);
    for key in ["password=", "passwd=", "pass="] {
        out = redact_query_value(&out, key);
    }
    out
}

fn redact_userinfo(uri: &str) -> String {
    let Some(scheme_end) = uri.find("://") else {
        return uri.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &uri[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return uri.to_owned();
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return uri.to_owned();
    };
    format!(
        "{}{}:***{}",
        &uri[..authority_start],
        &userinfo[..colon],
        &uri[authority_start + at..]
    )
}

fn redact_query_value(uri: &str, key: &str) -> String {
    let Some(query_start) = uri.find('?') else {
        return uri.to_owned();
    };
    let mut out = String::with_capacity(uri.len());
    out.push_str(&uri[..=query_start]);
    let params: Vec<String> = uri[query_start + 1..]
        .split('&')
        .map(|param| {
            if param.to_ascii_lowercase().starts_with(key) {
                format!("{}***", &param[..key.len()])
            } else {
                param.to_owned()
            }
        })
        .collect();
    out.push_str(&params.join("&"));
    out
}

/// True for URIs that reach libvirt over a socket, where keepalive matters.
pub fn is_remote(uri: &str) -> bool {
    let scheme = uri.split(':').next().unwrap_or_default();
    let has_transport = scheme.contains('+');
    let has_host = uri
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.starts_with('/') && !rest.is_empty());
    let in_process = scheme == "test" && !has_transport;
    !in_process && (has_transport || has_host || scheme == "qemu" || scheme == "xen")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_in_userinfo_is_hidden() {
        assert_eq!(
            redact("qemu+tcp://admin:s3cret@host:16509/system"),
            "qemu+tcp://admin:***@host:16509/system"
        );
    }

    #[test]
    fn password_in_query_is_hidden() {
        assert_eq!(
            redact("esx://host/?no_verify=1&password=s3cret"),
            "esx://host/?no_verify=1&password=***"
        );
    }

    #[test]
    fn uris_without_secrets_are_unchanged() {
        for uri in [
            "qemu:///system",
            "test:///default",
            "qemu+ssh://root@host/system",
        ] {
            assert_eq!(redact(uri), uri);
        }
    }

    #[test]
    fn in_process_test_driver_is_not_remote() {
        assert!(!is_remote("test:///default"));
        assert!(is_remote("test+unix:///default?socket=/tmp/s"));
        assert!(is_remote("qemu:///system"));
        assert!(is_remote("qemu+ssh://host/system"));
    }
}

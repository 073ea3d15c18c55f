//! CA bundles (PEM files), for the API's mutual TLS and the webhooks' https: checked
//! at start and read when TLS is set up; errors name the file, never its content.

/// Checks that a CA file holds PEM certificates.
///
/// # Errors
/// Unreadable, not PEM, or no certificate in it.
pub fn check_ca_file(path: &std::path::Path) -> Result<(), String> {
    load_ca_certs(path).map(|_| ())
}

/// Every certificate of a PEM file (a CA bundle).
///
/// # Errors
/// Unreadable, not PEM, or no certificate in it.
pub fn load_ca_certs(
    path: &std::path::Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: cannot read certificates: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: not PEM certificates: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: holds no certificate", path.display()));
    }
    Ok(certs)
}

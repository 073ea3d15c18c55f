//! CA files (PEM bundles) checked at start and read for TLS; errors name the file only.

use super::connection;

/// Checks that a CA file holds PEM certificates; the error names the file only.
///
/// # Errors
/// Unreadable, not PEM, or no certificate in it.
pub fn check_ca_file(path: &std::path::Path) -> Result<(), String> {
    connection::load_pem_certs(path).map(|_| ())
}

/// The certificates of a PEM file (a CA bundle); the error names the file only.
///
/// # Errors
/// Unreadable, not PEM, or no certificate in it.
pub fn load_ca_certs(
    path: &std::path::Path,
) -> Result<Vec<rustls::pki_types::CertificateDer<'static>>, String> {
    connection::load_pem_certs(path)
}

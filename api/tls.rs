//! TLS served by the binary itself. Service workers and installing the volunteers' app need
//! a secure context; `localhost` is one, a ward server reached at its network address is
//! not. A ward without a TLS proxy names a certificate chain and its private key (PEM files,
//! `EID_TLS_CERT` and `EID_TLS_KEY`) and the binary speaks HTTPS with rustls (ring crypto,
//! TLS 1.2 and 1.3).

use std::path::{Path, PathBuf};

use anyhow::Context;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// Both files, neither (plain HTTP), or a start-up error for one without the other.
    pub fn from_paths(cert: Option<String>, key: Option<String>) -> anyhow::Result<Option<Self>> {
        match (cert, key) {
            (Some(cert), Some(key)) => Ok(Some(TlsFiles {
                cert: cert.into(),
                key: key.into(),
            })),
            (None, None) => Ok(None),
            _ => anyhow::bail!(
                "EID_TLS_CERT and EID_TLS_KEY go together: set both (HTTPS) or neither (HTTP)"
            ),
        }
    }

    /// Reads and checks the files: a missing file, an empty chain or a key that does not
    /// match is a start-up error naming the file, never a server that cannot shake hands.
    pub fn server_config(&self) -> anyhow::Result<rustls::ServerConfig> {
        let chain = read_chain(&self.cert)?;
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .with_context(|| format!("reading the TLS private key {}", self.key.display()))?;
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .with_context(|| {
                format!(
                    "the TLS key {} does not fit the certificate {}",
                    self.key.display(),
                    self.cert.display()
                )
            })
    }
}

fn read_chain(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let chain = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading the TLS certificate {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading the TLS certificate {}", path.display()))?;
    anyhow::ensure!(
        !chain.is_empty(),
        "the TLS certificate file {} holds no certificate",
        path.display()
    );
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_without_its_key_or_a_key_without_its_certificate_is_a_start_up_error() {
        assert!(TlsFiles::from_paths(None, None).unwrap().is_none());
        assert!(TlsFiles::from_paths(Some("c.pem".into()), None).is_err());
        assert!(TlsFiles::from_paths(None, Some("k.pem".into())).is_err());
        let both = TlsFiles::from_paths(Some("c.pem".into()), Some("k.pem".into())).unwrap();
        assert!(both.is_some());
    }

    #[test]
    fn a_missing_certificate_file_is_named_in_the_start_up_error() {
        let files = TlsFiles {
            cert: "/nonexistent/eid-cert.pem".into(),
            key: "/nonexistent/eid-key.pem".into(),
        };
        let error = format!("{:#}", files.server_config().unwrap_err());
        assert!(error.contains("/nonexistent/eid-cert.pem"), "{error}");
    }
}

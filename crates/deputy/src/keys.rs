//! Key material in the data directory: the TLS certificate for STARTTLS
//! (self-signed, made at `init` when none is configured), the key Graph
//! tokens are signed with, and the DKIM key.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result};
use deputy_mailauth::DkimKey;

fn tls_paths(data: &Path) -> (PathBuf, PathBuf) {
    let dir = data.join("tls");
    (dir.join("cert.pem"), dir.join("key.pem"))
}

fn token_key_path(data: &Path) -> PathBuf {
    data.join("tokens").join("es256.pk8")
}

fn dkim_path(data: &Path) -> PathBuf {
    data.join("dkim").join("rsa.pem")
}

/// Writes `contents` readable by the owner only (private keys).
fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut file = options.open(path).with_context(|| format!("creating {}", path.display()))?;
    file.write_all(contents)?;
    file.sync_all()?;
    Ok(())
}

/// Creates whatever key material `data` lacks: a self-signed certificate for
/// `hostname`, the ES256 key Graph tokens are signed with, and a DKIM key.
/// Idempotent.
pub fn ensure(data: &Path, hostname: &str) -> Result<()> {
    let (cert_path, key_path) = tls_paths(data);
    if !cert_path.exists() || !key_path.exists() {
        let names = vec![hostname.to_owned(), "localhost".to_owned()];
        let cert = rcgen::generate_simple_self_signed(names).context("generating the TLS certificate")?;
        write_private(&key_path, cert.signing_key.serialize_pem().as_bytes())?;
        write_private(&cert_path, cert.cert.pem().as_bytes())?;
    }
    let token_key = token_key_path(data);
    if !token_key.exists() {
        let key =
            rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).context("generating the token signing key")?;
        write_private(&token_key, &key.serialize_der())?;
    }
    let dkim = dkim_path(data);
    if !dkim.exists() {
        let key = DkimKey::generate().context("generating the DKIM key")?;
        key.save(&dkim).with_context(|| format!("writing {}", dkim.display()))?;
    }
    Ok(())
}

/// The rustls server configuration for STARTTLS from the data directory's certificate.
pub fn tls_config(data: &Path) -> Result<Arc<deputy_smtp::rustls::ServerConfig>> {
    use deputy_smtp::rustls::pki_types::pem::PemObject;
    use deputy_smtp::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let (cert_path, key_path) = tls_paths(data);
    let certs = CertificateDer::pem_file_iter(&cert_path)
        .and_then(Iterator::collect::<Result<Vec<_>, _>>)
        .with_context(|| format!("reading {}", cert_path.display()))?;
    let key = PrivateKeyDer::from_pem_file(&key_path).with_context(|| format!("reading {}", key_path.display()))?;
    let provider = Arc::new(deputy_smtp::rustls::crypto::ring::default_provider());
    let config = deputy_smtp::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("loading the TLS certificate")?;
    Ok(Arc::new(config))
}

/// The DKIM key.
pub fn dkim_key(data: &Path) -> Result<DkimKey> {
    let path = dkim_path(data);
    DkimKey::load(&path).with_context(|| format!("reading {}", path.display()))
}

/// The Graph token signing key: (PKCS#8 DER private key, uncompressed public point).
pub fn token_key(data: &Path) -> Result<(Vec<u8>, Vec<u8>)> {
    let path = token_key_path(data);
    let der = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let pair = rcgen::KeyPair::try_from(der.as_slice()).with_context(|| format!("loading {}", path.display()))?;
    Ok((der, pair.public_key_raw().to_vec()))
}

/// The key files every node of a cluster must hold alike: the certificate
/// and its key, the DKIM key, and the token signing key.
const SHARED: [&str; 4] = ["tls/cert.pem", "tls/key.pem", "dkim/rsa.pem", "tokens/es256.pk8"];

/// With a store several nodes share, makes this node's key files the
/// cluster's: the first node to start offers its files as one bundle (so a
/// certificate never pairs with another node's key), and every node writes
/// the bundle the store kept into its data directory. A store only this
/// process uses keeps the local files.
pub async fn share(data: &Path, deputy: &deputy_core::Deputy) -> Result<()> {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let mut ours = std::collections::BTreeMap::new();
    for name in SHARED {
        let path = data.join(name);
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        ours.insert(name.to_owned(), STANDARD.encode(bytes));
    }
    let offered = serde_json::to_vec(&ours)?;
    let kept = deputy.shared_key("data-directory-keys/v1", offered.clone()).await.context("sharing the key files")?;
    if kept == offered {
        return Ok(());
    }
    let theirs: std::collections::BTreeMap<String, String> =
        serde_json::from_slice(&kept).context("reading the cluster's key files")?;
    for name in SHARED {
        let encoded = theirs.get(name).with_context(|| format!("the cluster's key files lack {name}"))?;
        let bytes = STANDARD.decode(encoded).with_context(|| format!("decoding the cluster's {name}"))?;
        write_private(&data.join(name), &bytes)?;
    }
    Ok(())
}

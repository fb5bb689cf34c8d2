//! DKIM keys (RSA 2048, PKCS#8 PEM on disk) and the signer that adds a
//! `DKIM-Signature:` to mail leaving for other servers (RFC 6376).

use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use mail_auth::common::crypto::{Algorithm, RsaKey, Sha256, SigningKey};
use mail_auth::common::headers::{HeaderWriter, Writable};
use mail_auth::dkim::Canonicalization;
use rsa::pkcs1::DecodeRsaPrivateKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use rsa::{RsaPrivateKey, RsaPublicKey};
use rustls_pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

use crate::MailAuthError;

/// The selector Deputy publishes its key under unless told otherwise.
pub const DEFAULT_SELECTOR: &str = "deputy";

/// Header fields signed when present (RFC 6376 §5.4.1's list of fields a
/// verifier's user sees, plus the threading ones).
pub const SIGNED_HEADERS: [&str; 12] = [
    "From",
    "To",
    "Cc",
    "Subject",
    "Date",
    "Message-ID",
    "Sender",
    "Reply-To",
    "MIME-Version",
    "Content-Type",
    "In-Reply-To",
    "References",
];

const RSA_BITS: usize = 2048;

/// A DKIM private key with its selector.
#[derive(Clone)]
pub struct DkimKey {
    /// The private key, PKCS#8 DER.
    pkcs8: Vec<u8>,
    /// The public key, SubjectPublicKeyInfo DER (what `p=` carries, as
    /// `openssl rsa -pubout` and opendkim publish it).
    public: Vec<u8>,
    selector: String,
}

impl std::fmt::Debug for DkimKey {
    /// Never prints the private key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimKey").field("selector", &self.selector).finish_non_exhaustive()
    }
}

fn key_error(e: impl std::fmt::Display) -> MailAuthError {
    MailAuthError::Key(e.to_string())
}

impl DkimKey {
    /// A fresh RSA 2048 key with the default selector.
    pub fn generate() -> Result<Self, MailAuthError> {
        let private = RsaPrivateKey::new(&mut rsa::rand_core::OsRng, RSA_BITS).map_err(key_error)?;
        Self::from_rsa(&private)
    }

    fn from_rsa(private: &RsaPrivateKey) -> Result<Self, MailAuthError> {
        let pkcs8 = private.to_pkcs8_der().map_err(key_error)?.as_bytes().to_vec();
        let public = RsaPublicKey::from(private).to_public_key_der().map_err(key_error)?.into_vec();
        Ok(Self { pkcs8, public, selector: DEFAULT_SELECTOR.to_owned() })
    }

    /// Reads a PEM key: PKCS#8 (`BEGIN PRIVATE KEY`) or, as opendkim writes
    /// it, PKCS#1 (`BEGIN RSA PRIVATE KEY`).
    pub fn from_pem(pem: &str) -> Result<Self, MailAuthError> {
        let private = if pem.contains("BEGIN RSA PRIVATE KEY") {
            RsaPrivateKey::from_pkcs1_pem(pem).map_err(key_error)?
        } else {
            RsaPrivateKey::from_pkcs8_pem(pem).map_err(key_error)?
        };
        Self::from_rsa(&private)
    }

    /// The private key as PKCS#8 PEM.
    pub fn to_pem(&self) -> Result<String, MailAuthError> {
        let private = RsaPrivateKey::from_pkcs8_der(&self.pkcs8).map_err(key_error)?;
        Ok(private.to_pkcs8_pem(LineEnding::LF).map_err(key_error)?.to_string())
    }

    /// Reads the key saved at `path`.
    pub fn load(path: &Path) -> Result<Self, MailAuthError> {
        let pem =
            std::fs::read_to_string(path).map_err(|source| MailAuthError::KeyFile { path: path.to_owned(), source })?;
        Self::from_pem(&pem).map_err(|e| MailAuthError::Key(format!("{}: {e}", path.display())))
    }

    /// Writes the key to `path` as PKCS#8 PEM, readable by its owner only
    /// (mode 0600 from the moment the file exists), replacing any file there
    /// only once the new one is complete on disk. Missing parent directories
    /// are created.
    pub fn save(&self, path: &Path) -> Result<(), MailAuthError> {
        let pem = self.to_pem()?;
        let file_error = |source| MailAuthError::KeyFile { path: path.to_owned(), source };
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(file_error)?;
        }
        let mut tmp = path.as_os_str().to_owned();
        tmp.push(".tmp");
        let tmp = std::path::PathBuf::from(tmp);
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp).map_err(file_error)?;
        file.write_all(pem.as_bytes()).map_err(file_error)?;
        file.sync_all().map_err(file_error)?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(file_error)
    }

    /// The selector (`s=`) this key is published under.
    pub fn selector(&self) -> &str {
        &self.selector
    }

    /// The same key under another selector (e.g. for a key rollover).
    pub fn with_selector(mut self, selector: impl Into<String>) -> Self {
        self.selector = selector.into();
        self
    }

    /// The public key, base64 (the `p=` tag).
    pub fn public_key_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.public)
    }

    /// The TXT record to publish for `domain`: its name
    /// (`deputy._domainkey.<domain>`) and value (`v=DKIM1; k=rsa; p=…`).
    pub fn dns_record(&self, domain: &str) -> (String, String) {
        (
            format!("{}._domainkey.{}", self.selector, domain.trim_end_matches('.')),
            format!("v=DKIM1; k=rsa; p={}", self.public_key_base64()),
        )
    }
}

/// An RSA key mail-auth can sign with, shared by every signature so the key
/// is parsed and checked once rather than per message.
#[derive(Clone)]
struct SharedKey(Arc<RsaKey<Sha256>>);

impl SigningKey for SharedKey {
    type Hasher = Sha256;

    fn sign(&self, input: impl Writable) -> mail_auth::Result<Vec<u8>> {
        self.0.sign(input)
    }

    fn algorithm(&self) -> Algorithm {
        self.0.algorithm()
    }
}

/// Signs outgoing mail with one key for any of the organization's domains.
#[derive(Clone)]
pub struct DkimSigner {
    key: SharedKey,
    selector: String,
}

impl std::fmt::Debug for DkimSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DkimSigner").field("selector", &self.selector).finish_non_exhaustive()
    }
}

impl DkimSigner {
    /// A signer for `key`.
    pub fn new(key: &DkimKey) -> Result<Self, MailAuthError> {
        let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.pkcs8.clone()));
        let rsa = RsaKey::<Sha256>::from_key_der(der).map_err(key_error)?;
        Ok(Self { key: SharedKey(Arc::new(rsa)), selector: key.selector.clone() })
    }

    /// The `DKIM-Signature:` field (ending CRLF) to prepend to `raw` for
    /// `domain` (`d=`), relaxed/relaxed, over [`SIGNED_HEADERS`] present.
    pub fn sign(&self, domain: &str, raw: &[u8]) -> Result<Vec<u8>, MailAuthError> {
        let signer = mail_auth::dkim::DkimSigner::from_key(self.key.clone())
            .domain(domain.trim_end_matches('.'))
            .selector(self.selector.as_str())
            .headers(SIGNED_HEADERS)
            .header_canonicalization(Canonicalization::Relaxed)
            .body_canonicalization(Canonicalization::Relaxed);
        let signature = signer.sign(raw).map_err(|e| MailAuthError::Sign(e.to_string()))?;
        Ok(signature.to_header().into_bytes())
    }
}

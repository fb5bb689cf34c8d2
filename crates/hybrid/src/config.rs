//! `hybrid.json` in a forest's data directory: written by `deputy hybrid
//! configure`, read afresh by the server on every sync request and by the
//! sync at every run (so a change needs no restart).

use crate::protocol::Role;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The file name in the data directory.
pub const CONFIG_FILE: &str = "hybrid.json";
/// The sync's progress file in the data directory (the cursor).
pub const STATE_FILE: &str = "hybrid-state.json";
/// The shortest shared secret accepted.
pub const MIN_SECRET: usize = 16;

/// A forest's hybrid configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HybridConfig {
    /// This forest's name (`onprem`, `cloud`).
    pub forest: String,
    /// This forest's role.
    pub role: Role,
    /// This forest's own server (`http://127.0.0.1:8080`): where the sync applies changes.
    pub local_url: String,
    /// The other forest's server.
    pub peer_url: String,
    /// A file holding the secret both forests share.
    pub secret_file: PathBuf,
    /// The domain that routes mail to this forest (`onprem.contoso.test`).
    pub routing_domain: String,
    /// The domain that routes mail to the other forest (`cloud.contoso.test`).
    pub peer_routing_domain: String,
    /// Exchange hybrid writeback: cloud mailboxes and `PublicDelegates` flow back on-premises.
    #[serde(default)]
    pub writeback: bool,
    /// Deputy's opt-in: the on-premises Send As entries are applied in the cloud.
    #[serde(default)]
    pub sync_send_as: bool,
    /// Seconds between runs of the continuous sync.
    #[serde(default = "default_interval")]
    pub interval_secs: u64,
    /// Azure AD Connect's accidental-delete threshold: a run that would remove
    /// more objects than this stops before changing anything, unless allowed
    /// (`deputy hybrid sync --allow-deletes`); `0` turns the check off.
    #[serde(default = "default_delete_threshold")]
    pub delete_threshold: usize,
}

fn default_interval() -> u64 {
    30
}

/// Azure AD Connect's default: 500 deletions per run.
pub const DEFAULT_DELETE_THRESHOLD: usize = 500;

fn default_delete_threshold() -> usize {
    DEFAULT_DELETE_THRESHOLD
}

/// Why the configuration can't be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not a configuration.
    #[error("{path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The error.
        source: serde_json::Error,
    },
    /// The shared secret is too short.
    #[error("the shared secret in {0} is shorter than {MIN_SECRET} characters")]
    WeakSecret(PathBuf),
    /// A value is unusable.
    #[error("{0}")]
    Invalid(String),
}

impl HybridConfig {
    /// The configuration in `data`, if the forest has one.
    pub fn load(data: &Path) -> Result<Option<Self>, ConfigError> {
        let path = data.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(ConfigError::Io { path, source }),
        };
        serde_json::from_str(&text).map(Some).map_err(|source| ConfigError::Parse { path, source })
    }

    /// Checks the values and writes the configuration to `data` (replacing it atomically).
    pub fn save(&self, data: &Path) -> Result<(), ConfigError> {
        if self.forest.is_empty() || !self.forest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(ConfigError::Invalid(format!("forest name {:?}: letters, digits and - only", self.forest)));
        }
        for (what, d) in [("routing domain", &self.routing_domain), ("peer routing domain", &self.peer_routing_domain)]
        {
            if !d.contains('.') || d.contains('@') || d.contains(char::is_whitespace) {
                return Err(ConfigError::Invalid(format!("{what} {d:?} is not a DNS domain")));
            }
        }
        if self.routing_domain.eq_ignore_ascii_case(&self.peer_routing_domain) {
            return Err(ConfigError::Invalid("the two forests need different routing domains".into()));
        }
        self.secret()?;
        let text = serde_json::to_string_pretty(self).map_err(|e| ConfigError::Invalid(e.to_string()))?;
        write_atomically(&data.join(CONFIG_FILE), text.as_bytes())
    }

    /// The shared secret (the file's first line).
    pub fn secret(&self) -> Result<String, ConfigError> {
        let text = std::fs::read_to_string(&self.secret_file)
            .map_err(|source| ConfigError::Io { path: self.secret_file.clone(), source })?;
        let secret = text.lines().next().unwrap_or_default().trim().to_owned();
        if secret.len() < MIN_SECRET {
            return Err(ConfigError::WeakSecret(self.secret_file.clone()));
        }
        Ok(secret)
    }
}

/// Writes `path` through a temporary file and a rename, with fsync, so a
/// crash leaves the old file or the new one, never half of one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ConfigError> {
    use std::io::Write as _;
    let tmp = path.with_extension("tmp");
    let io = |source| ConfigError::Io { path: path.to_owned(), source };
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

//! The sync run (`deputy hybrid sync`): fetch both exports, plan, apply each
//! operation to this forest's server, and only then remember how far it got.
//!
//! Safety: nothing is applied unless the peer's export was fetched with the
//! shared secret and parsed whole (an unreachable peer deletes nothing); each
//! operation is idempotent, so a run killed half-way is finished by the next
//! one, which plans again from both forests' current state; the cursor (the
//! two exports' generations) is written after the last operation succeeded.

use crate::config::{ConfigError, HybridConfig, STATE_FILE, write_atomically};
use crate::plan::{PlanError, plan};
use crate::protocol::{Applied, Export, Op};
use crate::server::PageTaken;
use deputy_core::hybrid::MailboxContent;
use deputy_types::{FolderId, RecipientId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The configuration or the secret can't be read.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A forest could not be reached or refused the secret; nothing was applied from it.
    #[error("{what} ({url}) is unreachable or refused the request: {detail}")]
    Unreachable {
        /// `the peer forest` or `this forest`.
        what: &'static str,
        /// Its URL.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The two forests can't be paired.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The run would remove more objects than the accidental-delete
    /// threshold allows (Azure AD Connect's `Stopped-Deletion-Threshold-Exceeded`).
    #[error(
        "stopped: this run would remove {count} object(s), more than the accidental-delete threshold of \
         {threshold}; nothing was applied. If the deletions are intended, run once with --allow-deletes, \
         or change the threshold (deputy hybrid configure --delete-threshold N)"
    )]
    TooManyDeletes {
        /// Removals the run planned.
        count: usize,
        /// The threshold.
        threshold: usize,
    },
    /// Some operations were refused; the others were applied.
    #[error("{0} operation(s) were refused; the cursor was not advanced")]
    Refused(usize),
}

/// The cursor: both exports' generations after the last complete run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The peer's export generation the last complete run planned from.
    pub peer: String,
    /// This forest's export generation after that run.
    pub local: String,
    /// The configuration of that run: a change (say `SyncSendAs`) means planning again.
    #[serde(default)]
    pub config: String,
}

/// What a run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Operations planned.
    pub planned: usize,
    /// Operations that changed something.
    pub changed: usize,
    /// Whether the cursor said there was nothing to do.
    pub up_to_date: bool,
}

/// The largest page of messages read from the peer (see the server's limit).
const MAX_PAGE: u64 = 96 * 1024 * 1024;

struct Http {
    agent: ureq::Agent,
    secret: String,
}

impl Http {
    fn new(secret: String) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Self { agent, secret }
    }

    fn export(&self, what: &'static str, base: &str) -> Result<Export, SyncError> {
        let url = format!("{}/hybrid/export", base.trim_end_matches('/'));
        self.get_json(what, url, 256 * 1024 * 1024, "export")
    }

    fn mailbox(&self, base: &str, id: RecipientId) -> Result<MailboxContent, SyncError> {
        let url = format!("{}/hybrid/mailbox/{id}", base.trim_end_matches('/'));
        self.get_json("the peer forest", url, 16 * 1024 * 1024, "mailbox")
    }

    /// An authenticated `GET` of a JSON document of at most `limit` bytes;
    /// anything but `200` with readable JSON makes `what` unreachable.
    fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        what: &'static str,
        url: String,
        limit: u64,
        document: &str,
    ) -> Result<T, SyncError> {
        let fail = |detail: String| SyncError::Unreachable { what, url: url.clone(), detail };
        let mut resp = self
            .agent
            .get(&url)
            .header("Authorization", &format!("Bearer {}", self.secret))
            .call()
            .map_err(|e| fail(e.to_string()))?;
        if resp.status() != 200 {
            return Err(fail(format!("HTTP {}", resp.status())));
        }
        resp.body_mut().with_config().limit(limit).read_json().map_err(|e| fail(format!("unreadable {document}: {e}")))
    }

    /// Copies the messages of mailbox `id` from the peer into this forest, a
    /// page at a time, from where the copy stopped last (the target says how
    /// far each folder got), then marks the move done.
    fn copy_messages(
        &self,
        config: &HybridConfig,
        content: &MailboxContent,
        id: RecipientId,
        page_messages: Option<usize>,
        progress: &mut impl FnMut(&str),
    ) -> Result<bool, SyncError> {
        let limit = page_messages.map(|n| format!("&limit={n}")).unwrap_or_default();
        let (peer, local) = (config.peer_url.trim_end_matches('/'), config.local_url.trim_end_matches('/'));
        let url = format!("{local}/hybrid/mailbox/{id}/progress");
        let copied: BTreeMap<FolderId, u32> =
            serde_json::from_slice(&self.call("this forest", &url, None, 1 << 20)?).map_err(|e| {
                SyncError::Unreachable { what: "this forest", url, detail: format!("unreadable answer: {e}") }
            })?;
        for folder in &content.folders {
            let mut after = copied.get(&folder.id).copied().unwrap_or(0);
            loop {
                let url = format!("{peer}/hybrid/mailbox/{id}/messages?folder={}&after={after}{limit}", folder.id);
                let page = self.call("the peer forest", &url, None, MAX_PAGE)?;
                let count = crate::pages::decode(&page)
                    .map_err(|e| SyncError::Unreachable { what: "the peer forest", url, detail: e.to_string() })?
                    .len();
                if count == 0 {
                    break;
                }
                let url = format!("{local}/hybrid/mailbox/{id}/messages?folder={}", folder.id);
                let answer = self.call("this forest", &url, Some((crate::pages::CONTENT_TYPE, &page)), 1 << 20)?;
                let taken: PageTaken = serde_json::from_slice(&answer).map_err(|e| SyncError::Unreachable {
                    what: "this forest",
                    url: url.clone(),
                    detail: format!("unreadable answer: {e}"),
                })?;
                if let Some(e) = taken.error {
                    progress(&format!("refused messages of {id} ({}): {e}", folder.name));
                    return Ok(false);
                }
                if taken.copied <= after {
                    // Nothing advanced: stop rather than ask for the same page forever.
                    progress(&format!("refused messages of {id} ({}): the copy made no progress", folder.name));
                    return Ok(false);
                }
                after = taken.copied;
                progress(&format!("copied {count} message(s) of {id} ({}) through UID {after}", folder.name));
            }
        }
        let url = format!("{local}/hybrid/mailbox/{id}/done");
        let answer = self.call("this forest", &url, Some(("application/json", b"{}")), 1 << 20)?;
        let applied: Applied = serde_json::from_slice(&answer).map_err(|e| SyncError::Unreachable {
            what: "this forest",
            url,
            detail: format!("unreadable answer: {e}"),
        })?;
        if let Some(e) = applied.error {
            progress(&format!("refused move done {id}: {e}"));
            return Ok(false);
        }
        progress(&format!("applied move done {id}"));
        Ok(true)
    }

    /// A request with the secret and `body` (empty: a GET) whose `200` answer is read whole, up to `limit`.
    fn call(
        &self,
        what: &'static str,
        url: &str,
        body: Option<(&str, &[u8])>,
        limit: u64,
    ) -> Result<Vec<u8>, SyncError> {
        let fail = |detail: String| SyncError::Unreachable { what, url: url.to_owned(), detail };
        let bearer = format!("Bearer {}", self.secret);
        let resp = match body {
            None => self.agent.get(url).header("Authorization", &bearer).call(),
            Some((kind, bytes)) => {
                self.agent.post(url).header("Authorization", &bearer).header("Content-Type", kind).send(bytes)
            }
        };
        let mut resp = resp.map_err(|e| fail(e.to_string()))?;
        if resp.status() != 200 {
            return Err(fail(format!("HTTP {}", resp.status())));
        }
        resp.body_mut().with_config().limit(limit).read_to_vec().map_err(|e| fail(format!("unreadable answer: {e}")))
    }

    fn apply(&self, base: &str, op: &Op) -> Result<Applied, SyncError> {
        let url = format!("{}/hybrid/apply", base.trim_end_matches('/'));
        let fail = |detail: String| SyncError::Unreachable { what: "this forest", url: url.clone(), detail };
        let mut resp = self
            .agent
            .post(&url)
            .header("Authorization", &format!("Bearer {}", self.secret))
            .send_json(op)
            .map_err(|e| fail(e.to_string()))?;
        if resp.status() != 200 {
            return Err(fail(format!("HTTP {}", resp.status())));
        }
        resp.body_mut().read_json().map_err(|e| fail(format!("unreadable answer: {e}")))
    }
}

fn load_cursor(data: &Path) -> Cursor {
    std::fs::read_to_string(data.join(STATE_FILE)).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or_default()
}

/// The accidental-delete check: `count` planned removals against `threshold`
/// (`0`: no limit), unless the run was told the deletions are intended.
pub fn check_deletes(count: usize, threshold: usize, allow_deletes: bool) -> Result<(), SyncError> {
    if allow_deletes || threshold == 0 || count <= threshold {
        return Ok(());
    }
    Err(SyncError::TooManyDeletes { count, threshold })
}

/// How one run behaves beyond the configuration.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Lift the accidental-delete threshold for this run (`--allow-deletes`).
    pub allow_deletes: bool,
    /// Messages per page of a mailbox move (the source caps it; `None`: its default).
    pub page_messages: Option<usize>,
}

/// One run for the forest whose data directory is `data`; `progress` gets a
/// line per applied operation and per page of a mailbox move.
pub fn sync_once(
    data: &Path,
    config: &HybridConfig,
    options: RunOptions,
    mut progress: impl FnMut(&str),
) -> Result<Report, SyncError> {
    let http = Http::new(config.secret()?);
    // The peer first: if it can't be reached, nothing at all happens here.
    let peer = http.export("the peer forest", &config.peer_url)?;
    let local = http.export("this forest", &config.local_url)?;
    let cursor = load_cursor(data);
    let settings = serde_json::to_string(config).unwrap_or_default();
    if cursor.peer == peer.generation && cursor.local == local.generation && cursor.config == settings {
        return Ok(Report { up_to_date: true, ..Report::default() });
    }
    let ops = plan(config, &local, &peer)?;
    // Before anything is applied: a peer that lost its directory (a bad
    // restore, a filter change) must not empty this one.
    check_deletes(
        ops.iter().filter(|op| matches!(op, Op::Remove { .. })).count(),
        config.delete_threshold,
        options.allow_deletes,
    )?;
    let mut report = Report { planned: ops.len(), ..Report::default() };
    let mut refused = 0;
    for op in &ops {
        let mut moving = None;
        let filled;
        let op = match op {
            Op::MoveIn { object, routing_address, content: None } => {
                // The folders and permissions as they are now, fetched just
                // before they are applied; the messages follow in pages.
                let content = http.mailbox(&config.peer_url, object.id)?;
                filled = Op::MoveIn {
                    object: object.clone(),
                    routing_address: routing_address.clone(),
                    content: Some(Box::new(content.clone())),
                };
                moving = Some((object.id, content));
                &filled
            }
            other => other,
        };
        let applied = http.apply(&config.local_url, op)?;
        match applied.error {
            Some(e) => {
                refused += 1;
                progress(&format!("refused {}: {e}", op.summary()));
            }
            None => {
                report.changed += usize::from(applied.changed);
                progress(&format!("applied {}", op.summary()));
                if let Some((id, content)) = moving {
                    if http.copy_messages(config, &content, id, options.page_messages, &mut progress)? {
                        report.changed += 1;
                    } else {
                        refused += 1;
                    }
                }
            }
        }
    }
    if refused > 0 {
        return Err(SyncError::Refused(refused));
    }
    // Remember only now, after every operation is in this forest's store.
    let after = http.export("this forest", &config.local_url)?;
    let cursor = Cursor { peer: peer.generation, local: after.generation, config: settings };
    let text = serde_json::to_vec_pretty(&cursor).unwrap_or_default();
    write_atomically(&data.join(STATE_FILE), &text)?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_delete_threshold_stops_a_run_above_it_only() {
        let default = crate::config::DEFAULT_DELETE_THRESHOLD;
        assert_eq!(default, 500);
        assert!(check_deletes(500, default, false).is_ok());
        let e = check_deletes(501, default, false).expect_err("above the threshold");
        assert!(e.to_string().contains("would remove 501 object(s)"), "{e}");
        assert!(e.to_string().contains("threshold of 500"), "{e}");
        assert!(check_deletes(501, default, true).is_ok(), "--allow-deletes");
        assert!(check_deletes(10_000, 0, false).is_ok(), "0 turns the check off");
    }
}

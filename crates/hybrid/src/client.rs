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
use crate::server::{ChangesCarried, PageTaken, Purged};
use deputy_core::hybrid::{FolderProgress, MailboxContent};
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

/// Where a move's messages come from and go to: (name for errors, base URL).
struct Ends<'a> {
    source: (&'static str, &'a str),
    target: (&'static str, &'a str),
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

    fn mailbox(&self, what: &'static str, base: &str, id: RecipientId) -> Result<MailboxContent, SyncError> {
        let url = format!("{}/hybrid/mailbox/{id}", base.trim_end_matches('/'));
        self.get_json(what, url, 16 * 1024 * 1024, "mailbox")
    }

    /// Before the switch of mailbox `id` here: gives the peer the folders
    /// made here after its copy, so the final pass has somewhere to put
    /// their messages. Nothing once the switch happened (a resumed run).
    fn push_new_folders(&self, config: &HybridConfig, id: RecipientId) -> Result<Applied, SyncError> {
        let local = config.local_url.trim_end_matches('/');
        let frozen: Vec<FolderId> =
            self.get_json("this forest", format!("{local}/hybrid/mailbox/{id}/frozen"), 1 << 20, "answer")?;
        if !frozen.is_empty() {
            return Ok(Applied { changed: false, error: None });
        }
        let content = serde_json::to_vec(&self.mailbox("this forest", &config.local_url, id)?).unwrap_or_default();
        let url = format!("{}/hybrid/mailbox/{id}/folders", config.peer_url.trim_end_matches('/'));
        self.post_json("the peer forest", &url, "application/json", &content)
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
    /// far each folder got), carries what changed in the source since
    /// (flags, expunges), then marks the move done.
    fn copy_messages(
        &self,
        config: &HybridConfig,
        content: &MailboxContent,
        id: RecipientId,
        page_messages: Option<usize>,
        progress: &mut impl FnMut(&str),
    ) -> Result<bool, SyncError> {
        let ends = Ends { source: ("the peer forest", &config.peer_url), target: ("this forest", &config.local_url) };
        for folder in &content.folders {
            if self.sync_folder(&ends, id, folder.id, &folder.name, page_messages, progress)?.is_none() {
                return Ok(false);
            }
        }
        let url = format!("{}/hybrid/mailbox/{id}/done", ends.target.1.trim_end_matches('/'));
        let applied: Applied = self.post_json("this forest", &url, "application/json", b"{}")?;
        if let Some(e) = applied.error {
            progress(&format!("refused move done {id}: {e}"));
            return Ok(false);
        }
        progress(&format!("applied move done {id}"));
        Ok(true)
    }

    /// The final pass, in the source forest's run right after the switch
    /// (`MoveOut`) froze mailbox `id` here: every frozen folder's new
    /// messages and changes go to the peer, which holds the mailbox now;
    /// then the messages are removed here. A folder that changed after the
    /// pass read it (a request under way at the switch) stays frozen, and
    /// the next run passes it again, so nothing is lost in between.
    fn final_pass(
        &self,
        config: &HybridConfig,
        id: RecipientId,
        page_messages: Option<usize>,
        progress: &mut impl FnMut(&str),
    ) -> Result<bool, SyncError> {
        let ends = Ends { source: ("this forest", &config.local_url), target: ("the peer forest", &config.peer_url) };
        let local = config.local_url.trim_end_matches('/');
        let frozen: Vec<FolderId> =
            self.get_json("this forest", format!("{local}/hybrid/mailbox/{id}/frozen"), 1 << 20, "answer")?;
        // A folder the peer refused (reported) is left out of the purge and
        // stays frozen; the others need not wait for it.
        let mut carried = BTreeMap::new();
        for folder in frozen {
            if let Some(modseq) = self.sync_folder(&ends, id, folder, &folder.to_string(), page_messages, progress)? {
                carried.insert(folder, modseq);
            }
        }
        let body = serde_json::to_vec(&carried).unwrap_or_default();
        let url = format!("{local}/hybrid/mailbox/{id}/purge");
        let purged: Purged = self.post_json("this forest", &url, "application/json", &body)?;
        if let Some(e) = purged.error {
            progress(&format!("refused move purge {id}: {e}"));
            return Ok(false);
        }
        if !purged.left.is_empty() {
            progress(&format!(
                "refused move purge {id}: {} folder(s) stay frozen (refused above, or changed after the final \
                 pass read them); the next run passes them again",
                purged.left.len()
            ));
            return Ok(false);
        }
        progress(&format!("applied move final pass {id}"));
        Ok(true)
    }

    /// Brings folder `folder` of the moving mailbox `id` up to date in the
    /// target: pages of the messages not yet copied, then the incremental
    /// pass (flags, expunges) over what was; then pages again, and another
    /// pass if they found messages that arrived before the pass read the
    /// folder (a few rounds at most: the final pass reads a frozen folder,
    /// and the purge checks what it carried). Answers the source
    /// HIGHESTMODSEQ carried, or `None` when the target refused (reported).
    fn sync_folder(
        &self,
        ends: &Ends<'_>,
        id: RecipientId,
        folder: FolderId,
        name: &str,
        page_messages: Option<usize>,
        progress: &mut impl FnMut(&str),
    ) -> Result<Option<u64>, SyncError> {
        let ((src_what, src), (dst_what, dst)) = (ends.source, ends.target);
        let (src, dst) = (src.trim_end_matches('/'), dst.trim_end_matches('/'));
        let all: BTreeMap<FolderId, FolderProgress> =
            self.get_json(dst_what, format!("{dst}/hybrid/mailbox/{id}/progress"), 1 << 24, "answer")?;
        let mut at = all.get(&folder).copied().unwrap_or_default();
        for round in 0..3 {
            let Some(new) = self.copy_pages(ends, id, folder, name, &mut at.copied, page_messages, progress)? else {
                return Ok(None);
            };
            if round > 0 && new == 0 {
                break;
            }
            let url =
                format!("{src}/hybrid/mailbox/{id}/manifest?folder={folder}&through={}&since={}", at.copied, at.modseq);
            let manifest = self.call(src_what, &url, None, crate::server::MAX_MANIFEST as u64)?;
            let url = format!("{dst}/hybrid/mailbox/{id}/carry?folder={folder}");
            let answer: ChangesCarried = self.post_json(dst_what, &url, "application/json", &manifest)?;
            let Some(carried) = answer.carried else {
                progress(&format!("refused changes of {id} ({name}): {}", answer.error.unwrap_or_default()));
                return Ok(None);
            };
            if carried.removed + carried.reflagged > 0 {
                progress(&format!(
                    "carried changes of {id} ({name}): {} removed, {} reflagged, through modseq {}",
                    carried.removed, carried.reflagged, carried.modseq
                ));
            }
            at.modseq = carried.modseq;
        }
        Ok(Some(at.modseq))
    }

    /// Copies the pages of folder `folder` after source UID `*after`,
    /// advancing it; answers how many messages, or `None` when the target
    /// refused (reported).
    #[expect(clippy::too_many_arguments, reason = "one move's coordinates, passed through")]
    fn copy_pages(
        &self,
        ends: &Ends<'_>,
        id: RecipientId,
        folder: FolderId,
        name: &str,
        after: &mut u32,
        page_messages: Option<usize>,
        progress: &mut impl FnMut(&str),
    ) -> Result<Option<usize>, SyncError> {
        let limit = page_messages.map(|n| format!("&limit={n}")).unwrap_or_default();
        let ((src_what, src), (dst_what, dst)) = (ends.source, ends.target);
        let (src, dst) = (src.trim_end_matches('/'), dst.trim_end_matches('/'));
        let mut copied = 0;
        loop {
            let url = format!("{src}/hybrid/mailbox/{id}/messages?folder={folder}&after={after}{limit}");
            let page = self.call(src_what, &url, None, MAX_PAGE)?;
            let count = crate::pages::decode(&page)
                .map_err(|e| SyncError::Unreachable { what: src_what, url, detail: e.to_string() })?
                .len();
            if count == 0 {
                return Ok(Some(copied));
            }
            let url = format!("{dst}/hybrid/mailbox/{id}/messages?folder={folder}");
            let taken: PageTaken = self.post_json(dst_what, &url, crate::pages::CONTENT_TYPE, &page)?;
            if let Some(e) = taken.error {
                progress(&format!("refused messages of {id} ({name}): {e}"));
                return Ok(None);
            }
            if taken.copied <= *after {
                // Nothing advanced: stop rather than ask for the same page forever.
                progress(&format!("refused messages of {id} ({name}): the copy made no progress"));
                return Ok(None);
            }
            *after = taken.copied;
            copied += count;
            progress(&format!("copied {count} message(s) of {id} ({name}) through UID {after}"));
        }
    }

    /// A `POST` of `body` whose `200` answer is JSON of at most 1 MiB.
    fn post_json<T: serde::de::DeserializeOwned>(
        &self,
        what: &'static str,
        url: &str,
        kind: &str,
        body: &[u8],
    ) -> Result<T, SyncError> {
        let answer = self.call(what, url, Some((kind, body)), 1 << 20)?;
        serde_json::from_slice(&answer).map_err(|e| SyncError::Unreachable {
            what,
            url: url.to_owned(),
            detail: format!("unreadable answer: {e}"),
        })
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
                let content = http.mailbox("the peer forest", &config.peer_url, object.id)?;
                filled = Op::MoveIn {
                    object: object.clone(),
                    routing_address: routing_address.clone(),
                    content: Some(Box::new(content.clone())),
                };
                moving = Some((object.id, content));
                &filled
            }
            Op::MoveOut { object, .. } => {
                // The switch needs the peer to hold every folder first.
                if let Some(e) = http.push_new_folders(config, object.id)?.error {
                    refused += 1;
                    progress(&format!("refused new folders of {}: {e}", object.id));
                    continue;
                }
                op
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
                if let Op::MoveOut { object, .. } = op {
                    if http.final_pass(config, object.id, options.page_messages, &mut progress)? {
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

//! Deputy's services: the one place every door (shell, admin API, SMTP, IMAP,
//! Graph, web) asks for a change or a decision.
//!
//! Invariants:
//! - every mutation is planned against a consistent read of [`State`], committed
//!   to the [`Store`] as one batch with its audit record, and only then applied
//!   to memory; a failed plan or commit changes nothing;
//! - mutations are serialized by one writer lock, so a plan never races another;
//! - questions read the current state: a committed change is visible to the very
//!   next question on any door (spec §2, Deputy decision);
//! - no door reimplements a rule: permission questions go to `deputy_access`.

mod apps;
pub mod calendar;
mod delegates;
mod error;
mod folders;
pub mod hybrid;
pub mod mail;
mod mailbox;
mod permissions;
mod queries;
mod recipients;
mod signin;
mod state;

pub use apps::{APP_SECRET_LIFETIME_MONTHS, CreatedSecret, NewAppSecret, NewServicePrincipal};
pub use delegates::{DelegateAccess, DelegateFolder};
pub use error::{CoreError, Result};
pub use folders::{FolderPermissionEdit, FolderPermissionRow};
pub use mailbox::{FolderChangeError, MailboxError, VisibleFolder};
pub use permissions::{MailboxGrant, MailboxPermissionRow, SendAsRow};
pub use queries::{AccessCheck, DelegatedRow};
pub use recipients::{MultiEdit, NewRecipient, RecipientEdit};
pub use signin::{Account, basic_credentials};
pub use state::State;

use chrono::{DateTime, Utc};
use deputy_store::{AuditQuery, Change, MailStore, Store};
use deputy_types::{AuditRecord, RecipientId};
use std::sync::{Arc, RwLock};

/// Who is making a change and how, for the audit log (issue 3 §5).
#[derive(Debug, Clone)]
pub struct Ctx {
    /// The caller's UPN.
    pub caller: String,
    /// The cmdlet (or door operation) name.
    pub cmdlet: String,
    /// The command line as typed.
    pub command: String,
    /// `-WhatIf`: plan and describe, change nothing.
    pub what_if: bool,
}

impl Ctx {
    /// A context for `cmdlet` run by `caller` with the command text `command`.
    pub fn new(caller: &str, cmdlet: &str, command: &str) -> Self {
        Self { caller: caller.to_owned(), cmdlet: cmdlet.to_owned(), command: command.to_owned(), what_if: false }
    }
}

/// The result of a mutation.
#[derive(Debug, Clone)]
pub struct Applied<T> {
    /// What the operation returns (usually the changed object).
    pub value: T,
    /// Exchange-style warnings (e.g. a grant that already exists changes nothing).
    pub warnings: Vec<String>,
    /// With `-WhatIf`: what would have been done.
    pub what_if: Option<String>,
    /// Whether anything was stored (false for `-WhatIf` and for a change that
    /// is already in place, which Exchange answers with a warning only).
    pub changed: bool,
}

/// A planned mutation: computed from a consistent read, applied only if committed.
pub(crate) struct Plan<T> {
    pub changes: Vec<Change>,
    pub value: T,
    pub warnings: Vec<String>,
    /// `ObjectModified` in the audit log.
    pub object: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// For `-WhatIf`: `Adding … on target "…"`.
    pub description: String,
}

impl<T> Plan<T> {
    pub(crate) fn new(value: T, object: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            changes: Vec::new(),
            value,
            warnings: Vec::new(),
            object: object.into(),
            before: None,
            after: None,
            description: description.into(),
        }
    }

    /// A plan that changes nothing and says why.
    pub(crate) fn warn(value: T, object: impl Into<String>, warning: String) -> Self {
        let mut p = Self::new(value, object, String::new());
        p.warnings.push(warning);
        p
    }
}

/// Facts about the running server that cmdlets show but the organization's
/// data does not hold (set once by the binary at start).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServerInfo {
    /// The name the server uses in SMTP greetings and trace fields.
    pub hostname: String,
    /// The DKIM selector and the `p=` public key of the signing key, when signing is on.
    pub dkim: Option<DkimPublic>,
    /// The submission listener's port, for clients told where to send (Autodiscover).
    pub submission_port: Option<u16>,
    /// The IMAP listener's port, once there is one.
    pub imap_port: Option<u16>,
}

/// What a domain must publish for Deputy's DKIM signatures to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DkimPublic {
    /// The selector (`s=` of signatures; the record lives at `<selector>._domainkey.<domain>`).
    pub selector: String,
    /// The TXT record's value, e.g. `v=DKIM1; k=rsa; p=MIIB…`.
    pub record: String,
}

/// The running organization: its store and its in-memory state.
pub struct Deputy {
    store: Arc<dyn Store>,
    mail: Arc<dyn MailStore>,
    server: RwLock<ServerInfo>,
    sign_ins: SignInCache<RecipientId>,
    app_sign_ins: SignInCache<uuid::Uuid>,
    /// Shared with a mutation's commit task, which applies what it committed
    /// even when the caller has gone away.
    state: Arc<RwLock<State>>,
    /// One planner and committer at a time; a commit task holds it until its
    /// batch is in memory.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// The change-log position the state includes (shared stores only).
    applied: std::sync::atomic::AtomicU64,
    /// Serializes applying the change log.
    catching_up: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Deputy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deputy").finish_non_exhaustive()
    }
}

impl Deputy {
    /// Loads the organization from `store`; messages live in `mail` (usually the same backend).
    pub async fn load(store: Arc<dyn Store>, mail: Arc<dyn MailStore>) -> Result<Self> {
        // The head first: batches committed meanwhile are replayed, harmlessly.
        let head = store.head().await?;
        let snapshot = store.load().await?;
        Ok(Self {
            store,
            mail,
            server: RwLock::new(ServerInfo::default()),
            sign_ins: SignInCache::new(),
            app_sign_ins: SignInCache::new(),
            state: Arc::new(RwLock::new(State::from_snapshot(snapshot))),
            writer: Arc::new(tokio::sync::Mutex::new(())),
            applied: std::sync::atomic::AtomicU64::new(head),
            catching_up: tokio::sync::Mutex::new(()),
        })
    }

    /// Key material shared by the nodes of a cluster ([`Store::shared_key`]):
    /// `value` unless another node stored one first.
    pub async fn shared_key(&self, name: &str, value: Vec<u8>) -> Result<Vec<u8>> {
        Ok(self.store.shared_key(name, value).await?)
    }

    /// Applies what other nodes of a cluster committed since this node last
    /// looked (the store's change log), so the next decision sees it. Doors
    /// call this at the start of every request; with a store only this
    /// process uses it returns at once.
    pub async fn catch_up(&self) -> Result<()> {
        use std::sync::atomic::Ordering;
        if !self.store.is_shared() {
            return Ok(());
        }
        let head = self.store.head().await?;
        if head <= self.applied.load(Ordering::Acquire) {
            return Ok(());
        }
        let _one = self.catching_up.lock().await;
        let from = self.applied.load(Ordering::Acquire);
        if head <= from {
            return Ok(());
        }
        let batches = match self.store.changes_since(from).await {
            Ok(batches) => batches,
            // The log was pruned past this node's position (it sat idle
            // through many changes): reload as at start, head first. Under
            // `catching_up`, and on a shared store commits never write the
            // in-memory state, so nothing races with the replacement.
            Err(deputy_store::StoreError::HistoryPruned { .. }) => {
                let head = self.store.head().await?;
                let snapshot = self.store.load().await?;
                *self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner) = State::from_snapshot(snapshot);
                self.applied.store(head, Ordering::Release);
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        };
        let mut state = self.state.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        for (position, changes) in batches {
            for change in &changes {
                state.apply(change);
            }
            self.applied.store(position, Ordering::Release);
        }
        Ok(())
    }

    /// Answers a question from the current state.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        // A poisoned lock only means a panic elsewhere mid-read; the state
        // itself is only written by `apply`, which cannot leave it half-done
        // for a reader, so reading on is sound.
        let guard = self.state.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&guard)
    }

    /// Facts about the running server.
    pub fn server_info(&self) -> ServerInfo {
        self.server.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Records facts about the running server (the binary, at start).
    pub fn set_server_info(&self, info: ServerInfo) {
        *self.server.write().unwrap_or_else(std::sync::PoisonError::into_inner) = info;
    }

    /// Whether the organization exists (`init` has run).
    pub fn is_initialized(&self) -> bool {
        self.read(State::is_initialized)
    }

    /// Plans with `plan`, then commits and applies, unless `ctx.what_if`.
    pub(crate) async fn mutate<T>(&self, ctx: &Ctx, plan: impl Fn(&State) -> Result<Plan<T>>) -> Result<Applied<T>> {
        let mut writer = self.writer.clone().lock_owned().await;
        // A cluster: plan on the newest state, and commit only if no other
        // node committed since; otherwise catch up and plan again.
        let mut attempts = 0;
        loop {
            self.catch_up().await?;
            let base = self.applied.load(std::sync::atomic::Ordering::Acquire);
            match self.mutate_at(ctx, base, &plan, writer).await {
                (Err(CoreError::Store(deputy_store::StoreError::Conflict)), Some(w)) if attempts < 16 => {
                    attempts += 1;
                    writer = w;
                }
                (other, _) => return other,
            }
        }
    }

    /// Plans and commits one batch. The commit and the in-memory apply run
    /// in a task of their own that holds the writer lock until both are done,
    /// so a caller that goes away mid-way (a dropped future: an HTTP client
    /// that hung up) never leaves memory behind what the store committed.
    /// Gives the writer lock back when nothing was committed.
    async fn mutate_at<T>(
        &self,
        ctx: &Ctx,
        base: u64,
        plan: &impl Fn(&State) -> Result<Plan<T>>,
        writer: tokio::sync::OwnedMutexGuard<()>,
    ) -> (Result<Applied<T>>, Option<tokio::sync::OwnedMutexGuard<()>>) {
        let plan = match self.read(plan) {
            Ok(p) => p,
            Err(e) => return (Err(e), Some(writer)),
        };
        if ctx.what_if {
            let what_if = (!plan.description.is_empty()).then_some(plan.description);
            return (Ok(Applied { value: plan.value, warnings: plan.warnings, what_if, changed: false }), Some(writer));
        }
        if plan.changes.is_empty() {
            let applied = Applied { value: plan.value, warnings: plan.warnings, what_if: None, changed: false };
            return (Ok(applied), Some(writer));
        }
        let record = AuditRecord {
            time: now(),
            caller: ctx.caller.clone(),
            cmdlet: ctx.cmdlet.clone(),
            command: ctx.command.clone(),
            object: plan.object.clone(),
            succeeded: true,
            error: None,
            before: plan.before.as_ref().map(ToString::to_string),
            after: plan.after.as_ref().map(ToString::to_string),
        };
        let (store, state, changes) = (self.store.clone(), self.state.clone(), plan.changes);
        let task = tokio::spawn(async move {
            let result = store.commit_after(base, changes.clone(), vec![record]).await;
            // A cluster's node applies the log in order instead (catch_up).
            if result.is_ok() && !store.is_shared() {
                let mut state = state.write().unwrap_or_else(std::sync::PoisonError::into_inner);
                for change in &changes {
                    state.apply(change);
                }
            }
            (result, writer)
        });
        let (result, writer) = match task.await {
            Ok(done) => done,
            Err(e) => return (Err(CoreError::Store(deputy_store::StoreError::Backend(e.to_string()))), None),
        };
        if let Err(e) = result {
            return (Err(e.into()), Some(writer));
        }
        if self.store.is_shared() {
            // The batch is in the log now, after any others: apply them in order.
            if let Err(e) = self.catch_up().await {
                return (Err(e), None);
            }
        }
        (Ok(Applied { value: plan.value, warnings: plan.warnings, what_if: None, changed: true }), Some(writer))
    }

    /// `Search-AdminAuditLog`.
    pub async fn search_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>> {
        Ok(self.store.search_audit(query).await?)
    }

    /// Checks a sign-in: `login` is a UPN, SMTP address or other identity of a
    /// recipient that can sign in; returns it when the password matches.
    ///
    /// A success is remembered for [`SIGN_IN_CACHE_TTL`] as a keyed fingerprint
    /// of the password and the stored hash (as Dovecot's auth cache does), so
    /// clients that sign in per connection (IMAP, SMTP AUTH) pay Argon2 once,
    /// not every time. The account is still looked up afresh each time: a
    /// disabled account, a removed recipient or a changed password (new hash,
    /// new fingerprint) is refused at once. Failures are never cached.
    pub async fn authenticate(&self, login: &str, password: &str) -> Option<RecipientId> {
        let (id, hash) = self.read(|s| {
            let r = s.dir.resolve_where(login, &|r| r.kind.can_sign_in() && !r.account_disabled).ok()?;
            Some((r.id, r.password_hash.clone()?))
        })?;
        let fingerprint = deputy_directory::password::fingerprint(&self.sign_ins.key, &hash, password);
        if self.sign_ins.remembers(id, &fingerprint) {
            return Some(id);
        }
        let password = password.to_owned();
        // Argon2 is deliberately slow: keep it off the async workers.
        let ok = tokio::task::spawn_blocking(move || deputy_directory::password::verify(&password, &hash))
            .await
            .unwrap_or(false);
        if ok {
            self.sign_ins.remember(id, fingerprint);
        }
        ok.then_some(id)
    }
}

/// How long a verified sign-in is remembered.
pub const SIGN_IN_CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(300);

/// Verified sign-ins: who (a recipient, or an application's secret by `KeyId`)
/// → (fingerprint, when verified). Bounded: when full, expired entries go
/// first, and if none has expired the map is cleared.
struct SignInCache<K> {
    key: [u8; 32],
    entries: std::sync::Mutex<rustc_hash::FxHashMap<K, ([u8; 32], std::time::Instant)>>,
}

impl<K: std::hash::Hash + Eq> SignInCache<K> {
    const CAPACITY: usize = 100_000;

    fn new() -> Self {
        Self { key: rand::random(), entries: std::sync::Mutex::new(rustc_hash::FxHashMap::default()) }
    }

    fn remembers(&self, id: K, fingerprint: &[u8; 32]) -> bool {
        let entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(&id).is_some_and(|(f, at)| {
            // Constant time, so a timing difference never hints at a partial match.
            let same = f.iter().zip(fingerprint).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
            same && at.elapsed() < SIGN_IN_CACHE_TTL
        })
    }

    fn remember(&self, id: K, fingerprint: [u8; 32]) {
        let mut entries = self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= Self::CAPACITY {
            entries.retain(|_, (_, at)| at.elapsed() < SIGN_IN_CACHE_TTL);
            if entries.len() >= Self::CAPACITY {
                entries.clear();
            }
        }
        entries.insert(id, (fingerprint, std::time::Instant::now()));
    }
}

/// The current time, truncated to milliseconds (what every store keeps).
pub(crate) fn now() -> DateTime<Utc> {
    let t = Utc::now();
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

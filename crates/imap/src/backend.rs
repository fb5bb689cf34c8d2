//! What the server asks of the application: who may sign in, which mailboxes
//! a user sees, and the messages in them. The engine speaks IMAP and decides
//! nothing about mail; the backend decides nothing about IMAP.

use async_trait::async_trait;

/// A machine-readable response code (RFC 5530 and RFC 3501) for a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// `[NONEXISTENT]`: the mailbox does not exist (or may not be seen).
    NonExistent,
    /// `[TRYCREATE]`: the target mailbox of COPY/MOVE/APPEND does not exist.
    TryCreate,
    /// `[NOPERM]`: the user lacks the right (ACL) for this.
    NoPerm,
    /// `[ALREADYEXISTS]`: the mailbox exists already.
    AlreadyExists,
    /// `[OVERQUOTA]`: the operation would exceed a quota.
    OverQuota,
    /// `[TOOBIG]`: the message is larger than the server accepts.
    TooBig,
    /// `[INUSE]`: the mailbox is in use; try later.
    InUse,
    /// `[CANNOT]`: the operation can never succeed.
    Cannot,
    /// `[HASCHILDREN]`: the mailbox has inferiors (RFC 9051 §7.1).
    HasChildren,
    /// `[LIMIT]`: a server limit was reached.
    Limit,
    /// `[SERVERBUG]`: the server failed; not the client's fault.
    ServerBug,
    /// `[UNAVAILABLE]`: a temporary failure.
    Unavailable,
}

impl Code {
    /// The atom as written between brackets.
    pub fn atom(self) -> &'static str {
        match self {
            Code::NonExistent => "NONEXISTENT",
            Code::TryCreate => "TRYCREATE",
            Code::NoPerm => "NOPERM",
            Code::AlreadyExists => "ALREADYEXISTS",
            Code::OverQuota => "OVERQUOTA",
            Code::TooBig => "TOOBIG",
            Code::InUse => "INUSE",
            Code::Cannot => "CANNOT",
            Code::HasChildren => "HASCHILDREN",
            Code::Limit => "LIMIT",
            Code::ServerBug => "SERVERBUG",
            Code::Unavailable => "UNAVAILABLE",
        }
    }
}

/// A refusal: sent to the client as a tagged `NO [code] text`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text}")]
pub struct No {
    /// The response code, if one fits.
    pub code: Option<Code>,
    /// Human-readable text (one line; CR and LF are replaced before sending).
    pub text: String,
}

impl No {
    /// A refusal with a code.
    pub fn new(code: Code, text: impl Into<String>) -> Self {
        No { code: Some(code), text: text.into() }
    }
}

/// One mailbox in a LIST answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxInfo {
    /// The full name, `/`-separated, in UTF-8 (the engine encodes modified UTF-7).
    pub name: String,
    /// The hierarchy delimiter (Deputy uses `/`).
    pub delimiter: char,
    /// Attributes with their backslash, e.g. `\Sent`, `\Noselect`, `\HasChildren`.
    pub attributes: Vec<String>,
}

/// A namespace prefix and its delimiter (RFC 2342).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    /// The prefix, e.g. `""` or `"Other Users/"`.
    pub prefix: String,
    /// The hierarchy delimiter.
    pub delimiter: char,
}

/// The three namespace kinds of RFC 2342.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespaces {
    /// The user's own mailboxes.
    pub personal: Vec<Namespace>,
    /// Other users' mailboxes the user was delegated.
    pub other_users: Vec<Namespace>,
    /// Shared (public) folders.
    pub shared: Vec<Namespace>,
}

/// A mailbox's state when it is selected (or asked for with STATUS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    /// UIDVALIDITY: changes when UIDs are reassigned.
    pub uidvalidity: u32,
    /// The UID the next message will get.
    pub uidnext: u32,
    /// The UIDs of the messages, ascending: position `i` is sequence number `i + 1`.
    pub uids: Vec<u32>,
    /// How many messages lack `\Seen`.
    pub unseen: u32,
    /// The UID of the first message without `\Seen` (SELECT's `[UNSEEN n]`), if any.
    pub first_unseen: Option<u32>,
    /// Flags defined in the mailbox.
    pub flags: Vec<String>,
    /// Flags the client may change permanently (`\*` for keywords).
    pub permanent_flags: Vec<String>,
    /// HIGHESTMODSEQ (RFC 7162), when the store keeps one.
    pub highest_modseq: Option<u64>,
    /// Whether the user may only read (EXAMINE, or no write rights).
    pub read_only: bool,
}

/// What a FETCH needs from the backend beyond UID and flags.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchItems {
    /// The whole message (`BODY[]`, `RFC822`, `ENVELOPE`).
    pub raw: bool,
    /// Whether fetching sets `\Seen` (`BODY[]` without `.PEEK` on a writable mailbox).
    pub set_seen: bool,
}

/// One message in a FETCH answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageData {
    /// The message's UID.
    pub uid: u32,
    /// Its flags, e.g. `\Seen`.
    pub flags: Vec<String>,
    /// When it arrived, in seconds since the Unix epoch (UTC).
    pub internal_date: i64,
    /// Its size in octets.
    pub size: u64,
    /// The message itself, when `FetchItems::raw` asked for it.
    pub raw: Option<Vec<u8>>,
    /// Its mod-sequence (RFC 7162 CONDSTORE), when the backend keeps one.
    pub modseq: Option<u64>,
}

/// What a STORE did (RFC 7162 §3.1.3 for `UNCHANGEDSINCE`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreOutcome {
    /// Each message whose flags changed: UID, resulting flags, and new mod-sequence if kept.
    pub changed: Vec<(u32, Vec<String>, Option<u64>)>,
    /// UIDs left alone because their mod-sequence is above `UNCHANGEDSINCE` (`[MODIFIED]`).
    pub modified: Vec<u32>,
}

/// How STORE changes flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreMode {
    /// `FLAGS`: replace.
    Replace,
    /// `+FLAGS`: add.
    Add,
    /// `-FLAGS`: remove.
    Remove,
}

/// Where copied or moved messages went (UIDPLUS `COPYUID`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyUids {
    /// The target mailbox's UIDVALIDITY.
    pub uidvalidity: u32,
    /// Source UIDs, in the order copied.
    pub source: Vec<u32>,
    /// The new UIDs, in the same order.
    pub target: Vec<u32>,
}

/// Where an appended message went (UIDPLUS `APPENDUID`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendUid {
    /// The mailbox's UIDVALIDITY.
    pub uidvalidity: u32,
    /// The new message's UID.
    pub uid: u32,
}

/// The answer to LISTRIGHTS (RFC 4314).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRights {
    /// Rights always granted to the identifier.
    pub required: String,
    /// Groups of rights that may be granted, each granted together.
    pub optional: Vec<String>,
}

/// The application behind the IMAP listener. `Self::User` is the signed-in
/// session the application hands back; every later call gets it.
#[async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The signed-in user, opaque to the engine.
    type User: Send + Sync + 'static;

    /// Called before every command: brings the application's view up to date
    /// (a cluster node applies what other nodes committed). A refusal answers
    /// the command `NO` with its code (`[UNAVAILABLE]`) and runs nothing.
    async fn refresh(&self) -> Result<(), No> {
        Ok(())
    }

    /// Checks a user name and password (LOGIN, AUTHENTICATE PLAIN). `None` when they are wrong.
    async fn authenticate(&self, user: &str, password: &str) -> Option<Self::User>;

    /// The namespaces the user sees (NAMESPACE).
    async fn namespace(&self, user: &Self::User) -> Namespaces;

    /// Mailboxes matching `reference` + `pattern` (`*` and `%` wildcards, RFC 3501 §6.3.8).
    async fn list(&self, user: &Self::User, reference: &str, pattern: &str) -> Vec<MailboxInfo>;

    /// Opens a mailbox (SELECT, EXAMINE; STATUS with `read_only`).
    async fn select(&self, user: &Self::User, mailbox: &str, read_only: bool) -> Result<Selected, No>;

    /// The messages with these UIDs; UIDs that no longer exist are left out.
    async fn fetch(
        &self,
        user: &Self::User,
        mailbox: &str,
        uids: &[u32],
        items: FetchItems,
    ) -> Result<Vec<MessageData>, No>;

    /// Changes flags of the messages whose mod-sequence is at most
    /// `unchanged_since` (all of them when `None`); reports what changed and what was left alone.
    async fn store_flags(
        &self,
        user: &Self::User,
        mailbox: &str,
        uids: &[u32],
        mode: StoreMode,
        flags: &[String],
        unchanged_since: Option<u64>,
    ) -> Result<StoreOutcome, No>;

    /// Removes `\Deleted` messages (all of them, or only those in `uids`); returns the UIDs removed.
    async fn expunge(&self, user: &Self::User, mailbox: &str, uids: Option<&[u32]>) -> Result<Vec<u32>, No>;

    /// Copies messages to `target`.
    async fn copy(&self, user: &Self::User, mailbox: &str, uids: &[u32], target: &str) -> Result<CopyUids, No>;

    /// Moves messages to `target` (RFC 6851): copy, then remove from the source.
    async fn move_messages(&self, user: &Self::User, mailbox: &str, uids: &[u32], target: &str)
    -> Result<CopyUids, No>;

    /// Stores a message. A positive answer must mean it is durably stored.
    async fn append(
        &self,
        user: &Self::User,
        mailbox: &str,
        flags: &[String],
        internal_date: Option<i64>,
        message: Vec<u8>,
    ) -> Result<AppendUid, No>;

    /// The user's own rights on a mailbox (MYRIGHTS, RFC 4314), e.g. `lrswipkxtecda`.
    async fn myrights(&self, user: &Self::User, mailbox: &str) -> Result<String, No>;

    /// The mailbox's access control list: identifier and rights (GETACL).
    async fn getacl(&self, user: &Self::User, mailbox: &str) -> Result<Vec<(String, String)>, No>;

    /// Sets an identifier's rights (SETACL; `+`/`-` prefixes add or remove).
    async fn setacl(&self, user: &Self::User, mailbox: &str, identifier: &str, rights: &str) -> Result<(), No>;

    /// Removes an identifier's entry (DELETEACL).
    async fn deleteacl(&self, user: &Self::User, mailbox: &str, identifier: &str) -> Result<(), No>;

    /// Which rights may be granted to an identifier (LISTRIGHTS).
    async fn listrights(&self, user: &Self::User, mailbox: &str, identifier: &str) -> Result<ListRights, No>;

    /// Creates a mailbox (CREATE), and any missing levels above it.
    async fn create(&self, user: &Self::User, mailbox: &str) -> Result<(), No> {
        let _ = (user, mailbox);
        Err(No::new(Code::Cannot, "Mailboxes can't be created here"))
    }

    /// Removes a mailbox and its messages (DELETE).
    async fn delete(&self, user: &Self::User, mailbox: &str) -> Result<(), No> {
        let _ = (user, mailbox);
        Err(No::new(Code::Cannot, "Mailboxes can't be removed here"))
    }

    /// Renames (or moves) a mailbox (RENAME).
    async fn rename(&self, user: &Self::User, from: &str, to: &str) -> Result<(), No> {
        let _ = (user, from, to);
        Err(No::new(Code::Cannot, "Mailboxes can't be renamed here"))
    }

    /// `RENAME INBOX to` (RFC 9051 §6.3.6): creates `to` and moves every
    /// message of INBOX there, leaving INBOX empty. By default it is CREATE
    /// then MOVE through the calls above, so the same rights apply (create
    /// in the parent, delete from INBOX); a move that fails removes the new
    /// mailbox again when it can.
    async fn rename_inbox(&self, user: &Self::User, to: &str) -> Result<(), No> {
        self.create(user, to).await?;
        let moved = match self.select(user, "INBOX", false).await {
            Ok(inbox) if inbox.uids.is_empty() => Ok(()),
            Ok(inbox) => self.move_messages(user, "INBOX", &inbox.uids, to).await.map(|_| ()),
            Err(no) => Err(no),
        };
        if moved.is_err() {
            let _ = self.delete(user, to).await;
        }
        moved
    }

    /// Subscribes to (`true`) or unsubscribes from a mailbox name (SUBSCRIBE, UNSUBSCRIBE).
    async fn subscribe(&self, user: &Self::User, mailbox: &str, subscribed: bool) -> Result<(), No> {
        let _ = (user, mailbox, subscribed);
        Ok(())
    }

    /// The subscribed mailboxes matching `reference` + `pattern` (LSUB); by default every listed one.
    async fn lsub(&self, user: &Self::User, reference: &str, pattern: &str) -> Vec<MailboxInfo> {
        self.list(user, reference, pattern).await
    }
}

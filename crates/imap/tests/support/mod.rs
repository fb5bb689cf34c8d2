//! An in-memory `Backend`: two users (alice, bob), INBOX and Sent per user,
//! and bob sees alice's INBOX as `Other Users/alice/INBOX`.

use std::collections::BTreeMap;
use std::sync::Mutex;

use async_trait::async_trait;
use deputy_imap::{
    AppendUid, Backend, Code, CopyUids, FetchItems, ListRights, MailboxInfo, MessageData, Namespace, Namespaces, No,
    Selected, StoreMode, StoreOutcome,
};

#[derive(Default, Clone)]
pub struct Message {
    pub flags: Vec<String>,
    pub raw: Vec<u8>,
    pub modseq: u64,
}

#[derive(Default)]
pub struct Folder {
    pub next: u32,
    /// The highest mod-sequence given out in the folder.
    pub modseq: u64,
    pub messages: BTreeMap<u32, Message>,
}

/// Mailboxes keyed by owner and name.
pub struct Memory {
    pub folders: Mutex<BTreeMap<(String, String), Folder>>,
    /// Names subscribed beyond the listed mailboxes (which count as subscribed), by user.
    pub subscriptions: Mutex<Vec<(String, String)>>,
}

pub const MESSAGE: &[u8] = b"From: alice@example.com\r\nSubject: hello\r\n\r\nHi there\r\n";

impl Memory {
    pub fn new() -> Self {
        let mut folders = BTreeMap::new();
        for user in ["alice", "bob"] {
            let mut inbox = Folder { next: 1, ..Folder::default() };
            inbox.messages.insert(1, Message { flags: vec![], raw: MESSAGE.to_vec(), modseq: 1 });
            inbox.next = 2;
            inbox.modseq = 1;
            folders.insert((user.to_owned(), "INBOX".to_owned()), inbox);
            folders.insert((user.to_owned(), "Sent".to_owned()), Folder { next: 1, ..Folder::default() });
        }
        Memory { folders: Mutex::new(folders), subscriptions: Mutex::default() }
    }

    /// `Other Users/alice/INBOX` for bob resolves to alice's INBOX.
    fn key(user: &str, mailbox: &str) -> (String, String) {
        if let Some(rest) = mailbox.strip_prefix("Other Users/")
            && let Some((owner, name)) = rest.split_once('/')
        {
            return (owner.to_owned(), name.to_owned());
        }
        let name = if mailbox.eq_ignore_ascii_case("INBOX") { "INBOX" } else { mailbox };
        (user.to_owned(), name.to_owned())
    }

    fn missing() -> No {
        No::new(Code::NonExistent, "No such mailbox")
    }
}

#[async_trait]
impl Backend for Memory {
    type User = String;

    async fn authenticate(&self, user: &str, password: &str) -> Option<String> {
        (matches!(user, "alice" | "bob") && password == "secret").then(|| user.to_owned())
    }

    async fn namespace(&self, _user: &String) -> Namespaces {
        Namespaces {
            personal: vec![Namespace { prefix: String::new(), delimiter: '/' }],
            other_users: vec![Namespace { prefix: "Other Users/".into(), delimiter: '/' }],
            shared: vec![],
        }
    }

    async fn list(&self, user: &String, _reference: &str, _pattern: &str) -> Vec<MailboxInfo> {
        let mut out = vec![
            MailboxInfo { name: "INBOX".into(), delimiter: '/', attributes: vec![] },
            MailboxInfo { name: "Sent".into(), delimiter: '/', attributes: vec!["\\Sent".into()] },
        ];
        if user == "bob" {
            out.push(MailboxInfo { name: "Other Users/alice/INBOX".into(), delimiter: '/', attributes: vec![] });
        }
        out
    }

    async fn select(&self, user: &String, mailbox: &str, read_only: bool) -> Result<Selected, No> {
        let folders = self.folders.lock().unwrap();
        let f = folders.get(&Self::key(user, mailbox)).ok_or_else(Self::missing)?;
        Ok(Selected {
            uidvalidity: 7,
            uidnext: f.next,
            uids: f.messages.keys().copied().collect(),
            unseen: u32::try_from(f.messages.values().filter(|m| !m.flags.iter().any(|f| f == "\\Seen")).count())
                .unwrap(),
            first_unseen: f.messages.iter().find(|(_, m)| !m.flags.iter().any(|f| f == "\\Seen")).map(|(u, _)| *u),
            flags: vec!["\\Seen".into(), "\\Deleted".into(), "\\Flagged".into()],
            permanent_flags: vec!["\\Seen".into(), "\\Deleted".into(), "\\Flagged".into()],
            highest_modseq: Some(f.modseq.max(1)),
            read_only,
        })
    }

    async fn fetch(
        &self,
        user: &String,
        mailbox: &str,
        uids: &[u32],
        items: FetchItems,
    ) -> Result<Vec<MessageData>, No> {
        let mut folders = self.folders.lock().unwrap();
        let f = folders.get_mut(&Self::key(user, mailbox)).ok_or_else(Self::missing)?;
        Ok(uids
            .iter()
            .filter_map(|u| {
                let m = f.messages.get_mut(u)?;
                if items.set_seen && !m.flags.iter().any(|f| f == "\\Seen") {
                    m.flags.push("\\Seen".into());
                }
                Some(MessageData {
                    uid: *u,
                    flags: m.flags.clone(),
                    internal_date: 837_571_465,
                    size: m.raw.len() as u64,
                    raw: items.raw.then(|| m.raw.clone()),
                    modseq: Some(m.modseq),
                })
            })
            .collect())
    }

    async fn store_flags(
        &self,
        user: &String,
        mailbox: &str,
        uids: &[u32],
        mode: StoreMode,
        flags: &[String],
        unchanged_since: Option<u64>,
    ) -> Result<StoreOutcome, No> {
        let mut folders = self.folders.lock().unwrap();
        let f = folders.get_mut(&Self::key(user, mailbox)).ok_or_else(Self::missing)?;
        let mut out = StoreOutcome::default();
        for u in uids {
            let Some(m) = f.messages.get_mut(u) else { continue };
            if unchanged_since.is_some_and(|n| m.modseq > n) {
                out.modified.push(*u);
                continue;
            }
            match mode {
                StoreMode::Replace => m.flags = flags.to_vec(),
                StoreMode::Add => {
                    m.flags.extend(flags.iter().filter(|f| !m.flags.contains(f)).cloned().collect::<Vec<_>>())
                }
                StoreMode::Remove => m.flags.retain(|f| !flags.contains(f)),
            }
            f.modseq += 1;
            m.modseq = f.modseq;
            out.changed.push((*u, m.flags.clone(), Some(m.modseq)));
        }
        Ok(out)
    }

    async fn expunge(&self, user: &String, mailbox: &str, uids: Option<&[u32]>) -> Result<Vec<u32>, No> {
        let mut folders = self.folders.lock().unwrap();
        let f = folders.get_mut(&Self::key(user, mailbox)).ok_or_else(Self::missing)?;
        let gone: Vec<u32> = f
            .messages
            .iter()
            .filter(|(u, m)| m.flags.iter().any(|f| f == "\\Deleted") && uids.is_none_or(|s| s.contains(u)))
            .map(|(u, _)| *u)
            .collect();
        for u in &gone {
            f.messages.remove(u);
        }
        Ok(gone)
    }

    async fn copy(&self, user: &String, mailbox: &str, uids: &[u32], target: &str) -> Result<CopyUids, No> {
        let mut folders = self.folders.lock().unwrap();
        let src = folders.get(&Self::key(user, mailbox)).ok_or_else(Self::missing)?;
        let msgs: Vec<(u32, Message)> = uids.iter().filter_map(|u| Some((*u, src.messages.get(u)?.clone()))).collect();
        let dst =
            folders.get_mut(&Self::key(user, target)).ok_or_else(|| No::new(Code::TryCreate, "No such mailbox"))?;
        let mut out = CopyUids { uidvalidity: 7, source: vec![], target: vec![] };
        for (u, m) in msgs {
            dst.modseq += 1;
            dst.messages.insert(dst.next, Message { modseq: dst.modseq, ..m });
            out.source.push(u);
            out.target.push(dst.next);
            dst.next += 1;
        }
        Ok(out)
    }

    async fn move_messages(&self, user: &String, mailbox: &str, uids: &[u32], target: &str) -> Result<CopyUids, No> {
        let out = self.copy(user, mailbox, uids, target).await?;
        let mut folders = self.folders.lock().unwrap();
        let src = folders.get_mut(&Self::key(user, mailbox)).ok_or_else(Self::missing)?;
        for u in &out.source {
            src.messages.remove(u);
        }
        Ok(out)
    }

    async fn append(
        &self,
        user: &String,
        mailbox: &str,
        flags: &[String],
        _date: Option<i64>,
        message: Vec<u8>,
    ) -> Result<AppendUid, No> {
        let mut folders = self.folders.lock().unwrap();
        let f =
            folders.get_mut(&Self::key(user, mailbox)).ok_or_else(|| No::new(Code::TryCreate, "No such mailbox"))?;
        let uid = f.next;
        f.modseq += 1;
        f.messages.insert(uid, Message { flags: flags.to_vec(), raw: message, modseq: f.modseq });
        f.next += 1;
        Ok(AppendUid { uidvalidity: 7, uid })
    }

    async fn myrights(&self, _user: &String, _mailbox: &str) -> Result<String, No> {
        Ok("lrswipkxtecda".into())
    }

    async fn getacl(&self, user: &String, _mailbox: &str) -> Result<Vec<(String, String)>, No> {
        Ok(vec![(user.clone(), "lrswipkxtecda".into())])
    }

    async fn setacl(&self, _user: &String, _mailbox: &str, _identifier: &str, _rights: &str) -> Result<(), No> {
        Err(No::new(Code::Cannot, "read-only test backend"))
    }

    async fn deleteacl(&self, _user: &String, _mailbox: &str, _identifier: &str) -> Result<(), No> {
        Err(No::new(Code::Cannot, "read-only test backend"))
    }

    async fn create(&self, user: &String, mailbox: &str) -> Result<(), No> {
        let mut folders = self.folders.lock().unwrap();
        let key = Self::key(user, mailbox);
        if key.0 != *user {
            return Err(No::new(Code::NoPerm, "not yours"));
        }
        if folders.contains_key(&key) {
            return Err(No::new(Code::AlreadyExists, "exists"));
        }
        folders.insert(key, Folder { next: 1, ..Folder::default() });
        Ok(())
    }

    async fn delete(&self, user: &String, mailbox: &str) -> Result<(), No> {
        let key = Self::key(user, mailbox);
        if key.1 == "INBOX" {
            return Err(No::new(Code::Cannot, "INBOX stays"));
        }
        self.folders.lock().unwrap().remove(&key).map(|_| ()).ok_or_else(Self::missing)
    }

    async fn rename(&self, user: &String, from: &str, to: &str) -> Result<(), No> {
        let mut folders = self.folders.lock().unwrap();
        let f = folders.remove(&Self::key(user, from)).ok_or_else(Self::missing)?;
        folders.insert(Self::key(user, to), f);
        Ok(())
    }

    async fn subscribe(&self, user: &String, mailbox: &str, subscribed: bool) -> Result<(), No> {
        let mut subs = self.subscriptions.lock().unwrap();
        let entry = (user.clone(), mailbox.to_owned());
        subs.retain(|e| *e != entry);
        if subscribed {
            subs.push(entry);
        }
        Ok(())
    }

    /// The listed mailboxes and any other name subscribed (which may not exist).
    async fn lsub(&self, user: &String, reference: &str, pattern: &str) -> Vec<MailboxInfo> {
        let mut out = self.list(user, reference, pattern).await;
        for (owner, name) in self.subscriptions.lock().unwrap().iter() {
            if owner == user && !out.iter().any(|m| m.name == *name) {
                out.push(MailboxInfo { name: name.clone(), delimiter: '/', attributes: vec![] });
            }
        }
        out
    }

    async fn listrights(&self, _user: &String, _mailbox: &str, _identifier: &str) -> Result<ListRights, No> {
        Ok(ListRights { required: String::new(), optional: vec!["lrswipkxtecda".into()] })
    }
}

//! The organization the core calendar tests share: Mary, Rob and Patti on
//! the embedded store, and an external organizer's meeting request for Mary.

#![allow(clippy::unwrap_used, reason = "test scaffolding: a failed unwrap is a failed test")]
#![allow(dead_code, reason = "each test binary uses a different part of this module")]

use deputy_core::mail::Inbound;
use deputy_core::{Ctx, Deputy, FolderPermissionEdit, NewRecipient};
use deputy_store_sqlite::SqliteStore;
use deputy_types::{FolderId, FolderRole, FolderUser, RecipientId, RecipientType, SharingFlags, WellKnownFolder};
use std::path::PathBuf;
use std::sync::Arc;

pub struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
pub fn temp_dir(name: &str) -> TempDir {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    TempDir(std::env::temp_dir().join(format!("deputy-cal-{name}-{}-{n}", std::process::id())))
}

pub fn ctx() -> Ctx {
    Ctx::new("admin@contoso.test", "Test", "test")
}

pub struct Org {
    _dir: TempDir,
    pub d: Deputy,
    pub mary: RecipientId,
    pub rob: RecipientId,
    pub patti: RecipientId,
}

pub async fn org(name: &str) -> Org {
    let dir = temp_dir(name);
    let store = Arc::new(SqliteStore::open(&dir.0).unwrap());
    let d = Deputy::load(store.clone(), store).await.unwrap();
    d.initialize("contoso.test", "Adm1n!pass").await.unwrap();
    let mut ids = Vec::new();
    for n in ["Mary", "Rob", "Patti"] {
        let spec = NewRecipient {
            kind: Some(RecipientType::UserMailbox),
            name: n.into(),
            password: Some("P@ssw0rd!".into()),
            ..Default::default()
        };
        ids.push(d.new_recipient(&ctx(), spec).await.unwrap().value.id);
    }
    Org { _dir: dir, d, mary: ids[0], rob: ids[1], patti: ids[2] }
}

impl Org {
    pub fn folder(&self, mailbox: RecipientId, w: WellKnownFolder) -> FolderId {
        self.d.read(|s| s.folders_of(mailbox).find(|f| f.well_known == Some(w)).unwrap().id)
    }

    pub async fn grant_calendar(&self, who: RecipientId, role: FolderRole, flags: SharingFlags) {
        let calendar = self.folder(self.mary, WellKnownFolder::Calendar);
        let edit = FolderPermissionEdit { rights: role.rights(), flags: Some(flags), send_notification: false };
        self.d.add_folder_permission(&ctx(), calendar, FolderUser::Recipient(who), edit).await.unwrap();
    }

    pub async fn count(&self, mailbox: RecipientId, w: WellKnownFolder) -> usize {
        self.d.mail_store().entries(self.folder(mailbox, w)).await.unwrap().len()
    }

    pub async fn bodies(&self, mailbox: RecipientId, w: WellKnownFolder) -> Vec<String> {
        let mut out = Vec::new();
        for e in self.d.mail_store().entries(self.folder(mailbox, w)).await.unwrap() {
            let body = self.d.mail_store().body(e.blob).await.unwrap().unwrap();
            out.push(String::from_utf8(body).unwrap());
        }
        out
    }
}

pub const REQUEST: &str = "From: Olga Organizer <olga@fabrikam.test>\r\n\
To: Mary <mary@contoso.test>\r\n\
Subject: Budget review\r\n\
Message-ID: <req-1@fabrikam.test>\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/alternative; boundary=\"b\"\r\n\
\r\n\
--b\r\n\
Content-Type: text/plain; charset=utf-8\r\n\
\r\n\
Let's review the budget.\r\n\
--b\r\n\
Content-Type: text/calendar; charset=utf-8; method=REQUEST\r\n\
\r\n\
BEGIN:VCALENDAR\r\n\
VERSION:2.0\r\n\
PRODID:-//Fabrikam//EN\r\n\
METHOD:REQUEST\r\n\
BEGIN:VEVENT\r\n\
UID:budget-2026@fabrikam.test\r\n\
SEQUENCE:0\r\n\
DTSTAMP:20261120T090000Z\r\n\
DTSTART:20261201T140000Z\r\n\
DTEND:20261201T150000Z\r\n\
SUMMARY:Budget review\r\n\
ORGANIZER;CN=Olga Organizer:mailto:olga@fabrikam.test\r\n\
ATTENDEE;CN=Mary;ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:mary@contoso.test\r\n\
END:VEVENT\r\n\
END:VCALENDAR\r\n\
--b--\r\n";

pub async fn invite(o: &Org) {
    let inbound = Inbound {
        mail_from: "olga@fabrikam.test".into(),
        recipients: vec!["mary@contoso.test".into()],
        raw: REQUEST.as_bytes().to_vec(),
        trace: b"Return-Path: <olga@fabrikam.test>\r\n".to_vec(),
    };
    o.d.deliver(inbound).await.unwrap();
}

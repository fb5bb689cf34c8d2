//! Denials for calendars and hybrid moves in the core: meeting messages
//! that forge their organizer, an Editor without the §10 Delegate flag
//! answering for the manager, and a peer forest's move aimed at a mailbox
//! homed here. Each must change nothing.

#![allow(clippy::unwrap_used, reason = "test scaffolding: a failed unwrap is a failed test")]

mod calendar_org;

use calendar_org::{Org, REQUEST, ctx, invite, org};
use deputy_calendar::PartStat;
use deputy_core::hybrid::SyncedRecipient;
use deputy_core::mail::Inbound;
use deputy_types::{FolderRole, RecipientId, RecipientType, SharingFlags, WellKnownFolder};

fn message(from: &str, method: &str, organizer: &str, sequence: u32, summary: &str) -> Inbound {
    let raw = REQUEST
        .replace("From: Olga Organizer <olga@fabrikam.test>", from)
        .replace("method=REQUEST", &format!("method={method}"))
        .replace("METHOD:REQUEST", &format!("METHOD:{method}"))
        .replace("ORGANIZER;CN=Olga Organizer:mailto:olga@fabrikam.test\r\n", organizer)
        .replace("SEQUENCE:0", &format!("SEQUENCE:{sequence}"))
        .replace("SUMMARY:Budget review", &format!("SUMMARY:{summary}"));
    Inbound {
        mail_from: "mallory@evil.test".into(),
        recipients: vec!["mary@contoso.test".into()],
        raw: raw.into_bytes(),
        trace: Vec::new(),
    }
}

async fn marys_event(o: &Org) -> String {
    o.bodies(o.mary, WellKnownFolder::Calendar).await.concat()
}

#[tokio::test]
async fn forged_cancels_and_updates_leave_the_meeting_alone() {
    let o = org("forged").await;
    invite(&o).await;
    let before = marys_event(&o).await;
    assert!(before.contains("SUMMARY:Budget review") && !before.contains("CANCELLED"), "{before}");
    let olga = "ORGANIZER:mailto:olga@fabrikam.test\r\n";
    let sent_by = "ORGANIZER;SENT-BY=\"mailto:mallory@evil.test\":mailto:olga@fabrikam.test\r\n";
    let forgeries = [
        // No ORGANIZER at all.
        message("From: Mallory <mallory@evil.test>", "CANCEL", "", 5, "Budget review"),
        // The organizer's SENT-BY names the sender herself.
        message("From: Mallory <mallory@evil.test>", "CANCEL", sent_by, 5, "Budget review"),
        message("From: Mallory <mallory@evil.test>", "REQUEST", sent_by, 5, "Moved to my office"),
        // No From: at all.
        message("X-Nothing: here", "CANCEL", olga, 5, "Budget review"),
    ];
    for m in forgeries {
        o.d.deliver(m).await.unwrap();
        assert_eq!(marys_event(&o).await, before, "a forged message changed Mary's calendar");
    }
    // The organizer herself still cancels.
    o.d.deliver(message("From: Olga <olga@fabrikam.test>", "CANCEL", olga, 5, "Budget review")).await.unwrap();
    assert!(marys_event(&o).await.contains("STATUS:CANCELLED"));
}

#[tokio::test]
async fn an_editor_without_the_delegate_flag_cannot_answer_for_the_manager() {
    let o = org("editor").await;
    o.grant_calendar(o.rob, FolderRole::Editor, SharingFlags::empty()).await;
    invite(&o).await;
    let before = marys_event(&o).await;
    let uid = "budget-2026@fabrikam.test";
    let answer = o.d.respond_to_event(o.rob, o.mary, uid, PartStat::Accepted, None, true).await;
    assert!(matches!(answer, Err(deputy_core::calendar::CalendarError::Denied(_))), "{answer:?}");
    assert_eq!(marys_event(&o).await, before, "the refused answer is not recorded either");
    assert!(o.d.mail_store().queue_all().await.unwrap().is_empty(), "nothing was sent");
    assert_eq!(o.count(o.rob, WellKnownFolder::SentItems).await, 0);
}

fn spec(o: &Org, id: RecipientId) -> SyncedRecipient {
    let r = o.d.read(|s| s.dir.get(id).cloned()).unwrap();
    SyncedRecipient {
        id,
        source_forest: String::new(),
        kind: RecipientType::UserMailbox,
        remote_kind: None,
        name: r.name.clone(),
        alias: r.alias.clone(),
        display_name: "Taken over".into(),
        primary_smtp: r.primary_smtp.clone(),
        proxy_addresses: Vec::new(),
        upn: r.upn.clone(),
        external_address: None,
        password_hash: Some(
            "$argon2id$v=19$m=19456,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA".into(),
        ),
        hidden: false,
        account_disabled: false,
    }
}

#[tokio::test]
async fn a_peer_forest_cannot_take_over_or_release_a_mailbox_homed_here() {
    let o = org("hybrid").await;
    let before =
        o.d.read(|s| (s.dir.get(o.mary).cloned(), s.folders_of(o.mary).count(), s.folders_of(o.patti).count()));
    // A move-in naming Mary's id.
    let content = o.d.mailbox_content(o.mary).await.unwrap();
    let taken = o.d.take_mailbox(&ctx(), spec(&o, o.mary), None, &content).await;
    assert!(taken.is_err(), "{taken:?}");
    // A move-in of a new id whose folders are Patti's.
    let mut stranger = spec(&o, o.mary);
    stranger.id = RecipientId(uuid::Uuid::new_v4());
    stranger.name = "Stranger".into();
    stranger.alias = "stranger".into();
    stranger.primary_smtp = None;
    stranger.upn = None;
    let pattis = o.d.mailbox_content(o.patti).await.unwrap();
    let stolen = o.d.take_mailbox(&ctx(), stranger, None, &pattis).await;
    assert!(stolen.is_err(), "{stolen:?}");
    // A move-out nobody queued here.
    let mut out = spec(&o, o.mary);
    out.kind = RecipientType::MailUser;
    out.external_address = Some(deputy_types::EmailAddress::parse("mary@fabrikam.test").unwrap());
    let released = o.d.release_mailbox(&ctx(), out).await;
    assert!(released.is_err(), "{released:?}");
    let after = o.d.read(|s| (s.dir.get(o.mary).cloned(), s.folders_of(o.mary).count(), s.folders_of(o.patti).count()));
    assert_eq!(after, before, "nothing changed");
}

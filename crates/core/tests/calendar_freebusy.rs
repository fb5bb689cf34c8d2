//! Free/busy in the core (spec §5, §10): a colleague sees busy times through
//! the Calendar's `Default` AvailabilityOnly entry, a LimitedDetails viewer
//! also subjects and locations, private items stay bare busy time for both,
//! a `Default` of `None` or a hidden mailbox hides everything, and the window
//! is bounded.

#![allow(clippy::unwrap_used, reason = "test scaffolding: a failed unwrap is a failed test")]

use chrono::{DateTime, TimeZone, Utc};
use deputy_calendar::{BusyStatus, Visibility};
use deputy_core::calendar::CalendarError;
use deputy_core::{Ctx, Deputy, FolderPermissionEdit, NewRecipient, RecipientEdit};
use deputy_store_sqlite::SqliteStore;
use deputy_types::{FolderId, FolderRole, FolderUser, RecipientId, RecipientType, SharingFlags, WellKnownFolder};
use std::path::PathBuf;
use std::sync::Arc;

struct TempDir(PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn ctx() -> Ctx {
    Ctx::new("admin@contoso.test", "Test", "test")
}

struct Org {
    _dir: TempDir,
    d: Deputy,
    mary: RecipientId,
    rob: RecipientId,
    lina: RecipientId,
    pat: RecipientId,
}

async fn org(name: &str) -> Org {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let dir = TempDir(std::env::temp_dir().join(format!("deputy-fb-{name}-{}-{n}", std::process::id())));
    let store = Arc::new(SqliteStore::open(&dir.0).unwrap());
    let d = Deputy::load(store.clone(), store).await.unwrap();
    d.initialize("contoso.test", "Adm1n!pass").await.unwrap();
    let mut ids = Vec::new();
    for n in ["Mary", "Rob", "Lina", "Pat"] {
        let spec = NewRecipient {
            kind: Some(RecipientType::UserMailbox),
            name: n.into(),
            password: Some("P@ssw0rd!".into()),
            ..Default::default()
        };
        ids.push(d.new_recipient(&ctx(), spec).await.unwrap().value.id);
    }
    let o = Org { _dir: dir, d, mary: ids[0], rob: ids[1], lina: ids[2], pat: ids[3] };
    let calendar = o.calendar();
    // Lina: LimitedDetails; Pat: a delegate who sees private items.
    for (who, role, flags) in [
        (o.lina, FolderRole::LimitedDetails, SharingFlags::empty()),
        (o.pat, FolderRole::Editor, SharingFlags::DELEGATE | SharingFlags::CAN_VIEW_PRIVATE_ITEMS),
    ] {
        let edit = FolderPermissionEdit { rights: role.rights(), flags: Some(flags), send_notification: false };
        o.d.add_folder_permission(&ctx(), calendar, FolderUser::Recipient(who), edit).await.unwrap();
    }
    o.save("team", "Team sync", "Room 4", "PUBLIC", "RRULE:FREQ=WEEKLY;COUNT=3\r\n", "").await;
    o.save("doctor", "Doctor", "Clinic", "PRIVATE", "", "").await;
    o.save("maybe", "Maybe lunch", "Cafe", "PUBLIC", "", "STATUS:TENTATIVE\r\n").await;
    o.save("gone", "Cancelled thing", "Nowhere", "PUBLIC", "", "STATUS:CANCELLED\r\n").await;
    o
}

impl Org {
    fn calendar(&self) -> FolderId {
        self.d.read(|s| s.folders_of(self.mary).find(|f| f.well_known == Some(WellKnownFolder::Calendar)).unwrap().id)
    }

    /// Mary saves an event on 2026-12-02 (the hour from its position).
    async fn save(&self, uid: &str, summary: &str, location: &str, class: &str, rrule: &str, extra: &str) {
        let hour = match uid {
            "team" => 9,
            "doctor" => 11,
            "maybe" => 13,
            _ => 15,
        };
        let ics = format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//EN\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:20261202T{hour:02}0000Z\r\nDTEND:20261202T{hour:02}3000Z\r\nSUMMARY:{summary}\r\nLOCATION:{location}\r\nCLASS:{class}\r\n{rrule}{extra}END:VEVENT\r\nEND:VCALENDAR\r\n"
        );
        let calendar = deputy_calendar::parse(&ics).unwrap();
        self.d.save_event(self.mary, self.calendar(), calendar).await.unwrap();
    }
}

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, day, hour, 0, 0).unwrap()
}

fn december() -> (DateTime<Utc>, DateTime<Utc>) {
    (at(1, 0), Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap())
}

#[tokio::test]
async fn an_availability_only_colleague_sees_times_only() {
    let o = org("avail").await;
    let (start, end) = december();
    let (access, view) = o.d.free_busy(o.rob, o.mary, start, end).await.unwrap();
    assert_eq!(access.viewer.visibility, Visibility::FreeBusy);
    let seen: Vec<_> = view.items.iter().map(|i| (i.start, i.status)).collect();
    assert_eq!(
        seen,
        [
            (at(2, 9), BusyStatus::Busy),
            (at(2, 11), BusyStatus::Busy),
            (at(2, 13), BusyStatus::Tentative),
            (at(9, 9), BusyStatus::Busy),
            (at(16, 9), BusyStatus::Busy),
        ],
        "the series is expanded and the cancelled event left out"
    );
    assert!(view.items.iter().all(|i| i.subject.is_none() && i.location.is_none() && !i.private));
    assert_eq!(view.items[0].end, Utc.with_ymd_and_hms(2026, 12, 2, 9, 30, 0).unwrap());
    assert!(!view.truncated);
}

#[tokio::test]
async fn limited_details_add_subject_and_location_but_not_of_private_items() {
    let o = org("limited").await;
    let (start, end) = december();
    let (access, view) = o.d.free_busy(o.lina, o.mary, start, end).await.unwrap();
    assert_eq!(access.viewer.visibility, Visibility::Limited);
    let team = &view.items[0];
    assert_eq!((team.subject.as_deref(), team.location.as_deref()), (Some("Team sync"), Some("Room 4")));
    let doctor = &view.items[1];
    assert_eq!((doctor.private, doctor.subject.as_deref(), doctor.location.as_deref()), (true, None, None));
    assert_eq!(doctor.status, BusyStatus::Busy);
    // A delegate with CanViewPrivateItems, and the owner, see the private one.
    for who in [o.pat, o.mary] {
        let (_, view) = o.d.free_busy(who, o.mary, start, end).await.unwrap();
        let doctor = &view.items[1];
        assert_eq!((doctor.private, doctor.subject.as_deref()), (true, Some("Doctor")));
    }
}

#[tokio::test]
async fn default_none_or_a_hidden_mailbox_is_not_found() {
    let o = org("none").await;
    let (start, end) = december();
    let none = FolderPermissionEdit { rights: FolderRole::None.rights(), flags: None, send_notification: false };
    o.d.set_folder_permission(&ctx(), o.calendar(), FolderUser::Default, none).await.unwrap();
    assert!(matches!(o.d.free_busy(o.rob, o.mary, start, end).await, Err(CalendarError::NotFound)));
    // Her own entries still count.
    assert!(o.d.free_busy(o.lina, o.mary, start, end).await.is_ok());

    let o = org("hidden").await;
    o.d.set_recipient(&ctx(), o.mary, RecipientEdit { hidden: Some(true), ..Default::default() }).await.unwrap();
    assert!(matches!(o.d.free_busy(o.rob, o.mary, start, end).await, Err(CalendarError::NotFound)));
    assert_eq!(o.d.read(|s| s.free_busy_mailbox(o.rob, "mary@contoso.test")), None);
    assert_eq!(o.d.read(|s| s.free_busy_mailbox(o.mary, "MAILTO:Mary@contoso.test")), Some(o.mary));
    assert!(o.d.free_busy(o.mary, o.mary, start, end).await.is_ok());
}

#[tokio::test]
async fn the_window_is_bounded() {
    let o = org("window").await;
    let start = at(1, 0);
    let too_long = start + chrono::TimeDelta::days(63);
    assert!(matches!(o.d.free_busy(o.rob, o.mary, start, too_long).await, Err(CalendarError::Invalid(_))));
    assert!(matches!(o.d.free_busy(o.rob, o.mary, start, start).await, Err(CalendarError::Invalid(_))));
    let ok = start + chrono::TimeDelta::days(62);
    assert!(o.d.free_busy(o.rob, o.mary, start, ok).await.is_ok());
    // A window that only overlaps an item still shows it whole.
    let (_, view) = o.d.free_busy(o.rob, o.mary, at(2, 9) + chrono::TimeDelta::minutes(10), at(2, 10)).await.unwrap();
    assert_eq!(view.items.iter().map(|i| i.start).collect::<Vec<_>>(), [at(2, 9)]);
}

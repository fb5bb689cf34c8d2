//! Calendars in the core (spec §5, §10): meeting requests delivered to a
//! manager with a calendar delegate under each `MeetingDelivery`, the
//! delegate answering for her through the submission pipeline, what each
//! viewer sees, and who may change events.

#![allow(clippy::unwrap_used, reason = "test scaffolding: a failed unwrap is a failed test")]

mod calendar_org;

use calendar_org::{ctx, invite, org};
use deputy_calendar::{PartStat, Visibility};
use deputy_core::{FolderPermissionEdit, RecipientEdit};
use deputy_types::{FolderRole, FolderUser, MeetingDelivery, SharingFlags, WellKnownFolder};

#[tokio::test]
async fn without_delegates_the_request_goes_to_the_principal_and_creates_a_tentative_event() {
    let o = org("nodelegate").await;
    invite(&o).await;
    assert_eq!(o.count(o.mary, WellKnownFolder::Inbox).await, 1);
    assert_eq!(o.count(o.rob, WellKnownFolder::Inbox).await, 0);
    let calendar = o.folder(o.mary, WellKnownFolder::Calendar);
    let (_, event) = o.d.calendar_event(o.mary, calendar, "budget-2026@fabrikam.test").await.unwrap();
    let event = event.expect("the request created an event in Mary's calendar");
    let master = &event.calendar.events[0];
    assert_eq!(master.summary.as_deref(), Some("Budget review"));
    assert_eq!(master.attendee("mary@contoso.test").unwrap().partstat, Some(PartStat::NeedsAction));
}

#[tokio::test]
async fn each_delivery_option_routes_the_request_as_spec_10_says() {
    for option in MeetingDelivery::ALL {
        let o = org("routing").await;
        o.grant_calendar(o.rob, FolderRole::Editor, SharingFlags::DELEGATE).await;
        o.d.set_recipient(&ctx(), o.mary, RecipientEdit { meeting_delivery: Some(option), ..Default::default() })
            .await
            .unwrap();
        invite(&o).await;
        let rob_inbox = o.bodies(o.rob, WellKnownFolder::Inbox).await;
        assert_eq!(rob_inbox.len(), 1, "{option}: the delegate gets the request");
        assert!(rob_inbox[0].contains("method=REQUEST"), "{option}: the delegate's copy is actionable");
        let mary_inbox = o.bodies(o.mary, WellKnownFolder::Inbox).await;
        let mary_deleted = o.count(o.mary, WellKnownFolder::DeletedItems).await;
        match option {
            MeetingDelivery::SendToDelegateOnly => {
                assert!(mary_inbox.is_empty(), "{option}");
                assert_eq!(mary_deleted, 1, "{option}: the principal's copy goes to Deleted Items");
            }
            MeetingDelivery::SendToDelegateAndInformationToPrincipal => {
                assert_eq!(mary_inbox.len(), 1, "{option}");
                assert!(!mary_inbox[0].contains("text/calendar"), "{option}: informational copy has no calendar part");
                assert!(mary_inbox[0].contains("review the budget"), "{option}: but keeps the text");
                assert!(mary_inbox[0].contains("Subject: Budget review"), "{option}");
                assert_eq!(mary_deleted, 0, "{option}");
            }
            MeetingDelivery::SendToDelegateAndPrincipal => {
                assert_eq!(mary_inbox.len(), 1, "{option}");
                assert!(mary_inbox[0].contains("method=REQUEST"), "{option}: both get the actionable request");
            }
        }
        let calendar = o.folder(o.mary, WellKnownFolder::Calendar);
        let (_, event) = o.d.calendar_event(o.mary, calendar, "budget-2026@fabrikam.test").await.unwrap();
        assert!(event.is_some(), "{option}: Mary's calendar has the meeting");
        assert_eq!(o.count(o.patti, WellKnownFolder::Inbox).await, 0, "{option}: nobody else gets it");
    }
}

#[tokio::test]
async fn a_reviewer_is_not_a_delegate_and_gets_no_meeting_messages() {
    let o = org("reviewer").await;
    o.grant_calendar(o.rob, FolderRole::Reviewer, SharingFlags::empty()).await;
    invite(&o).await;
    assert_eq!(o.count(o.rob, WellKnownFolder::Inbox).await, 0);
    assert_eq!(o.count(o.mary, WellKnownFolder::Inbox).await, 1);
}

#[tokio::test]
async fn the_delegate_accepts_for_the_manager_on_her_behalf() {
    let o = org("accept").await;
    o.grant_calendar(o.rob, FolderRole::Editor, SharingFlags::DELEGATE).await;
    invite(&o).await;
    let (stored, submitted) =
        o.d.respond_to_event(o.rob, o.mary, "budget-2026@fabrikam.test", PartStat::Accepted, None, true).await.unwrap();
    let me = stored.calendar.events[0].attendee("mary@contoso.test").unwrap();
    assert_eq!(me.partstat, Some(PartStat::Accepted));
    assert!(me.sent_by.as_deref().is_some_and(|a| a.eq_ignore_ascii_case("rob@contoso.test")));
    let submitted = submitted.expect("a reply went to the organizer");
    assert_eq!(submitted.authoring.author, o.mary);
    assert_eq!(submitted.authoring.mode, deputy_access::SendMode::SendOnBehalf);
    assert_eq!(submitted.queued, 1);
    let queued = o.d.mail_store().queue_all().await.unwrap();
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].recipients[0].address, "olga@fabrikam.test");
    let raw = String::from_utf8(o.d.mail_store().body(queued[0].blob).await.unwrap().unwrap()).unwrap();
    let header = |name: &str| {
        raw.lines()
            .find(|l| l.to_ascii_lowercase().starts_with(&format!("{name}:")))
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    assert!(header("from").contains("<mary@contoso.test>"), "{raw}");
    assert!(header("sender").contains("<rob@contoso.test>"), "{raw}");
    let reply = deputy_calendar::extract(raw.as_bytes()).unwrap().unwrap();
    let attendee = &reply.calendar.events[0].attendees[0];
    assert_eq!(reply.method, deputy_calendar::Method::Reply);
    assert_eq!(attendee.partstat, Some(PartStat::Accepted));
    assert!(attendee.sent_by.as_deref().is_some_and(|a| a.eq_ignore_ascii_case("rob@contoso.test")));
    // Spec §4.2: the delegate's Sent Items always; Mary's only with MessageCopyForSendOnBehalfEnabled.
    assert_eq!(o.count(o.rob, WellKnownFolder::SentItems).await, 1);
    assert_eq!(o.count(o.mary, WellKnownFolder::SentItems).await, 0);
}

#[tokio::test]
async fn the_sent_items_copy_flag_puts_the_reply_in_the_managers_sent_items_too() {
    let o = org("copy").await;
    o.grant_calendar(o.rob, FolderRole::Editor, SharingFlags::DELEGATE).await;
    o.d.set_recipient(&ctx(), o.mary, RecipientEdit { copy_send_on_behalf: Some(true), ..Default::default() })
        .await
        .unwrap();
    invite(&o).await;
    o.d.respond_to_event(o.rob, o.mary, "budget-2026@fabrikam.test", PartStat::Declined, None, true).await.unwrap();
    assert_eq!(o.count(o.rob, WellKnownFolder::SentItems).await, 1);
    assert_eq!(o.count(o.mary, WellKnownFolder::SentItems).await, 1);
}

#[tokio::test]
async fn only_writers_answer_and_nobody_else_may() {
    let o = org("deny").await;
    o.grant_calendar(o.rob, FolderRole::Reviewer, SharingFlags::empty()).await;
    invite(&o).await;
    let uid = "budget-2026@fabrikam.test";
    let reviewer = o.d.respond_to_event(o.rob, o.mary, uid, PartStat::Accepted, None, true).await;
    assert!(matches!(reviewer, Err(deputy_core::calendar::CalendarError::Denied(_))), "{reviewer:?}");
    let stranger = o.d.respond_to_event(o.patti, o.mary, uid, PartStat::Accepted, None, true).await;
    assert!(matches!(stranger, Err(deputy_core::calendar::CalendarError::NotFound)), "{stranger:?}");
    assert!(o.d.mail_store().queue_all().await.unwrap().is_empty(), "nothing was sent");
}

#[tokio::test]
async fn viewers_see_what_their_role_and_flags_allow() {
    let o = org("viewers").await;
    let calendar = o.folder(o.mary, WellKnownFolder::Calendar);
    let view = |who| o.d.read(|s| s.calendar_access(who, calendar));
    // Default is AvailabilityOnly on calendars.
    assert_eq!(view(o.patti).unwrap().viewer.visibility, Visibility::FreeBusy);
    o.grant_calendar(o.rob, FolderRole::Editor, SharingFlags::DELEGATE).await;
    let rob = view(o.rob).unwrap();
    assert_eq!(rob.viewer.visibility, Visibility::Full);
    assert!(!rob.viewer.can_view_private && rob.delegate);
    let edit = FolderPermissionEdit {
        rights: FolderRole::Editor.rights(),
        flags: Some(SharingFlags::DELEGATE | SharingFlags::CAN_VIEW_PRIVATE_ITEMS),
        send_notification: false,
    };
    o.d.set_folder_permission(&ctx(), calendar, FolderUser::Recipient(o.rob), edit).await.unwrap();
    assert!(view(o.rob).unwrap().viewer.can_view_private);
    let owner = view(o.mary).unwrap();
    assert!(owner.viewer.can_view_private && owner.viewer.visibility == Visibility::Full);
}

#[tokio::test]
async fn events_are_saved_by_writers_only_and_private_ones_stay_private() {
    let o = org("save").await;
    let calendar = o.folder(o.mary, WellKnownFolder::Calendar);
    let private = deputy_calendar::parse(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:doctor\r\nDTSTAMP:20261120T090000Z\r\n\
         DTSTART:20261202T090000Z\r\nDTEND:20261202T100000Z\r\nSUMMARY:Doctor\r\nCLASS:PRIVATE\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    o.d.save_event(o.mary, calendar, private.clone()).await.unwrap();
    o.grant_calendar(o.rob, FolderRole::Editor, SharingFlags::DELEGATE).await;
    let (access, events) = o.d.calendar_events(o.rob, calendar).await.unwrap();
    let shown = deputy_calendar::project(&events[0].calendar.events[0], &access.viewer).unwrap();
    assert_eq!(shown.summary.as_deref(), Some(deputy_calendar::PRIVATE_SUBJECT));
    let denied = o.d.save_event(o.rob, calendar, private).await;
    assert!(matches!(denied, Err(deputy_core::calendar::CalendarError::Denied(_))), "{denied:?}");
    let denied = o.d.remove_event(o.rob, calendar, "doctor").await;
    assert!(matches!(denied, Err(deputy_core::calendar::CalendarError::Denied(_))), "{denied:?}");
    let stranger = o.d.save_event(o.patti, calendar, events[0].calendar.clone()).await;
    assert!(matches!(stranger, Err(deputy_core::calendar::CalendarError::Denied(_))), "{stranger:?}");
    o.d.remove_event(o.mary, calendar, "doctor").await.unwrap();
    assert!(o.d.calendar_events(o.mary, calendar).await.unwrap().1.is_empty());
}

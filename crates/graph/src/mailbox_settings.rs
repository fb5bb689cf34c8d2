//! `…/mailboxSettings` (exchange-reference §3.1): the owner's own settings,
//! with `MailboxSettings.Read`/`ReadWrite` (an application with the role
//! acts for any mailbox). Graph has no shared scope for them, so even a Full
//! Access holder gets `403 ErrorAccessDenied`, as Exchange Online answers.
//!
//! Deputy stores one of them, `delegateMeetingMessageDeliveryOptions` (the
//! recipient's `MeetingDelivery`, spec §10, also `Set-MailboxCalendarConfiguration`);
//! the others are answered with fixed defaults and refused on `PATCH`.

use axum::http::StatusCode;
use axum::response::Response;
use deputy_core::RecipientEdit;
use deputy_types::{MeetingDelivery, RecipientId, RecipientType, WellKnownFolder};
use serde_json::{Value, json};

use crate::Call;
use crate::auth::Need;
use crate::error::GraphError;
use crate::events::{audit, context, core_error, ok};
use crate::ids;
use crate::mail::json_body;

type Result<T> = std::result::Result<T, GraphError>;

/// The property Deputy stores.
const DELIVERY: &str = "delegateMeetingMessageDeliveryOptions";

fn purpose(kind: RecipientType) -> &'static str {
    match kind {
        RecipientType::UserMailbox => "user",
        RecipientType::LinkedMailbox => "linked",
        RecipientType::SharedMailbox => "shared",
        RecipientType::RoomMailbox => "room",
        RecipientType::EquipmentMailbox => "equipment",
        _ => "others",
    }
}

fn settings(call: &Call, mailbox: RecipientId) -> Result<Value> {
    let found = call.state.deputy.read(|s| {
        let r = s.dir.get(mailbox)?;
        let archive = s.folders_of(mailbox).find(|f| f.well_known == Some(WellKnownFolder::Archive)).map(|f| f.id);
        Some((r.kind, r.meeting_delivery, archive))
    });
    let (kind, delivery, archive) = found.ok_or_else(GraphError::not_found)?;
    Ok(json!({
        "@odata.context": context(call, mailbox, "mailboxSettings"),
        "archiveFolder": archive.map(ids::folder),
        "timeZone": "UTC",
        "automaticRepliesSetting": {
            "status": "disabled",
            "externalAudience": "all",
            "internalReplyMessage": "",
            "externalReplyMessage": "",
            "scheduledStartDateTime": {"dateTime": "0001-01-01T00:00:00.0000000", "timeZone": "UTC"},
            "scheduledEndDateTime": {"dateTime": "0001-01-01T00:00:00.0000000", "timeZone": "UTC"},
        },
        "language": {"locale": "en-US", "displayName": "English (United States)"},
        "dateFormat": "yyyy-MM-dd",
        "timeFormat": "HH:mm",
        "workingHours": {
            "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
            "startTime": "08:00:00.0000000",
            "endTime": "17:00:00.0000000",
            "timeZone": {"name": "UTC"},
        },
        "userPurpose": purpose(kind),
        DELIVERY: delivery.graph_name(),
    }))
}

/// `GET …/mailboxSettings`.
pub(crate) fn get(call: &Call, mailbox: RecipientId) -> Result<Response> {
    call.caller.acting(mailbox, Need::SettingsRead)?;
    Ok(ok(settings(call, mailbox)?))
}

/// `PATCH …/mailboxSettings`: `delegateMeetingMessageDeliveryOptions` only.
pub(crate) async fn update(call: &Call, mailbox: RecipientId) -> Result<Response> {
    let acting = call.caller.acting(mailbox, Need::SettingsWrite)?;
    let body = json_body(call)?;
    if let Some(key) = body.keys().find(|k| !k.starts_with('@') && *k != DELIVERY) {
        return Err(GraphError::new(
            StatusCode::BAD_REQUEST,
            "ErrorInvalidRequest",
            format!("Deputy doesn't store the mailbox setting '{key}' yet; only '{DELIVERY}' can be changed."),
        ));
    }
    if let Some(value) = body.get(DELIVERY) {
        let name = value.as_str().unwrap_or_default();
        let delivery = MeetingDelivery::parse(name).ok_or_else(|| {
            GraphError::bad_request(format!(
                "Invalid value for property '{DELIVERY}': '{name}' (sendToDelegateOnly, sendToDelegateAndInformationToPrincipal, sendToDelegateAndPrincipal)."
            ))
        })?;
        let identity = call.state.deputy.read(|s| s.dir.get(mailbox).map(|r| r.alias.clone())).unwrap_or_default();
        let ctx = audit(
            call,
            acting,
            "Set-MailboxCalendarConfiguration",
            format!(
                "Set-MailboxCalendarConfiguration -Identity '{identity}' -DelegateMeetingMessageDeliveryOptions {}",
                delivery.graph_name()
            ),
        );
        let edit = RecipientEdit { meeting_delivery: Some(delivery), ..RecipientEdit::default() };
        call.state.deputy.set_recipient(&ctx, mailbox, edit).await.map_err(core_error)?;
    }
    Ok(ok(settings(call, mailbox)?))
}

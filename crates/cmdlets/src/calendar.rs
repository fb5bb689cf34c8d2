//! Calendar settings of a mailbox (spec §10): `Get-` and
//! `Set-MailboxCalendarConfiguration`.
//!
//! Exchange has no cmdlet for the delegates' meeting-message delivery (it is
//! Outlook's "Deliver meeting requests…" choice, Graph's
//! `mailboxSettings.delegateMeetingMessageDeliveryOptions`); Deputy adds the
//! parameter `-DelegateMeetingMessageDeliveryOptions` to the cmdlets Exchange
//! uses for a mailbox's calendar settings, with Graph's values.

use crate::ExchangeHost;
use crate::catalog::{IDENTITY, Spec, p};
use crate::recipients::done;
use crate::resolve::{Accept, core_error, param_error, recipient, required};
use deputy_core::RecipientEdit;
use deputy_pwsh::{CommandError, Invocation, Object, Output, ParamKind as K};
use deputy_types::MeetingDelivery;

type Res = Result<Output, CommandError>;

const DELIVERY: &[&str] =
    &["SendToDelegateOnly", "SendToDelegateAndInformationToPrincipal", "SendToDelegateAndPrincipal"];

/// The calendar cmdlets' parameters (the catalog lists them after its own).
pub(crate) const SPECS: &[Spec] = &[
    Spec { name: "Get-MailboxCalendarConfiguration", params: &[IDENTITY] },
    Spec {
        name: "Set-MailboxCalendarConfiguration",
        params: &[IDENTITY, p("DelegateMeetingMessageDeliveryOptions", K::Enum(DELIVERY))],
    },
];

pub(crate) async fn invoke(host: &ExchangeHost, call: &Invocation) -> Option<Res> {
    let out = match call.command {
        "Get-MailboxCalendarConfiguration" => get(host, call),
        "Set-MailboxCalendarConfiguration" => set(host, call).await,
        _ => return None,
    };
    Some(out)
}

fn get(host: &ExchangeHost, call: &Invocation) -> Res {
    let identity = required(call, "Identity")?;
    host.deputy().read(|s| {
        let id = recipient(s, "Identity", identity, Accept::Mailbox)?;
        let r = s.dir.get(id).ok_or_else(|| param_error("Identity", format!("\"{identity}\" was not found.")))?;
        let delegates: Vec<String> =
            s.calendar_delegates(id).into_iter().filter_map(|(d, _)| s.dir.get(d).map(|d| d.name.clone())).collect();
        let o = Object::new("Microsoft.Exchange.Data.Storage.Management.MailboxCalendarConfiguration")
            .with("Identity", r.name.as_str())
            .with("DelegateMeetingMessageDeliveryOptions", pascal(r.meeting_delivery))
            .with("CalendarDelegates", delegates)
            .display(&["Identity", "DelegateMeetingMessageDeliveryOptions", "CalendarDelegates"]);
        Ok(Output { objects: vec![o.into()], warnings: Vec::new() })
    })
}

async fn set(host: &ExchangeHost, call: &Invocation) -> Res {
    let identity = required(call, "Identity")?;
    let id = host.deputy().read(|s| recipient(s, "Identity", identity, Accept::Mailbox))?;
    let meeting_delivery = call
        .string("DelegateMeetingMessageDeliveryOptions")
        .map(|v| {
            MeetingDelivery::parse(v).ok_or_else(|| {
                param_error(
                    "DelegateMeetingMessageDeliveryOptions",
                    format!("\"{v}\" is not one of {}.", DELIVERY.join(", ")),
                )
            })
        })
        .transpose()?;
    let edit = RecipientEdit { meeting_delivery, ..RecipientEdit::default() };
    let applied = host.deputy().set_recipient(&host.ctx(call), id, edit).await.map_err(core_error)?;
    Ok(done(applied, Vec::new()))
}

/// PowerShell's spelling of the enumeration (`SendToDelegateOnly`).
fn pascal(m: MeetingDelivery) -> String {
    let name = m.graph_name();
    name[..1].to_ascii_uppercase() + &name[1..]
}

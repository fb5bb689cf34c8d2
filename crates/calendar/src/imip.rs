//! iMIP (RFC 6047): the `text/calendar` part of a message, read and written.

use chrono::{DateTime, Utc};
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::mime::MimePart;
use mail_parser::{MessageParser, MimeHeaders};

use crate::model::{Calendar, Method};
use crate::read::ingest;
use crate::{Error, Result};

/// The scheduling part of a received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImipPart {
    /// The iTIP method (the part's `method=` and the object's METHOD agree).
    pub method: Method,
    /// The calendar object, through [`ingest`].
    pub calendar: Calendar,
    /// The message's `From:` address, if any.
    pub from: Option<String>,
    /// The message's `Sender:` address, if any (a delegate, spec §3.3).
    pub sender: Option<String>,
}

/// Finds the first `text/calendar` part of a MIME message and reads it.
/// `Ok(None)` when there is none; an error when it is malformed or its
/// `method=` parameter disagrees with its METHOD (RFC 6047 §2.4).
pub fn extract(message: &[u8]) -> Result<Option<ImipPart>> {
    let parsed =
        MessageParser::default().parse(message).ok_or_else(|| Error::Imip("the message cannot be parsed".into()))?;
    let Some(part) = parsed.parts.iter().find(|p| {
        p.content_type().is_some_and(|ct| {
            ct.ctype().eq_ignore_ascii_case("text") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("calendar"))
        })
    }) else {
        return Ok(None);
    };
    let declared = part.content_type().and_then(|ct| ct.attribute("method")).map(str::to_owned);
    let body = part.text_contents().map(str::as_bytes).unwrap_or_else(|| part.contents());
    let calendar = ingest(body)?;
    let method = calendar.method.ok_or_else(|| Error::Imip("the text/calendar part has no METHOD".into()))?;
    if let Some(declared) = declared
        && !declared.trim().eq_ignore_ascii_case(method.as_str())
    {
        return Err(Error::Imip(format!("Content-Type method={declared} disagrees with METHOD:{}", method.as_str())));
    }
    let first =
        |a: Option<&mail_parser::Address<'_>>| a.and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_owned);
    Ok(Some(ImipPart { method, calendar, from: first(parsed.from()), sender: first(parsed.sender()) }))
}

/// A display name and an address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MailAddress {
    /// Display name.
    pub name: Option<String>,
    /// E-mail address.
    pub address: String,
}

/// The headers of an iMIP message; the caller owns identities and time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImipHeaders {
    /// `From:` — the organizer or attendee the message speaks for.
    pub from: MailAddress,
    /// `Sender:` — the delegate who sends it for `from` (spec §3.3), if any.
    pub sender: Option<MailAddress>,
    /// `To:`.
    pub to: Vec<MailAddress>,
    /// `Subject:`.
    pub subject: String,
    /// `Message-ID:` without angle brackets.
    pub message_id: String,
    /// `Date:`.
    pub date: DateTime<Utc>,
}

fn address(a: &MailAddress) -> Address<'static> {
    Address::new_address(a.name.clone(), a.address.clone())
}

/// Writes an iMIP message (RFC 6047 §2): `multipart/alternative` with
/// `text/plain` (`text`) and `text/calendar; method=…` matching the
/// calendar's METHOD.
pub fn build_imip(calendar: &Calendar, headers: &ImipHeaders, text: &str) -> Result<Vec<u8>> {
    let method = calendar.method.ok_or_else(|| Error::Imip("an iMIP message needs a METHOD".into()))?;
    if headers.to.is_empty() {
        return Err(Error::Imip("an iMIP message needs at least one To: address".into()));
    }
    let ics = calendar.to_ics();
    let mut builder = MessageBuilder::new()
        .from(address(&headers.from))
        .to(Address::new_list(headers.to.iter().map(address).collect()))
        .subject(headers.subject.clone())
        .message_id(headers.message_id.clone())
        .date(headers.date.timestamp());
    if let Some(sender) = &headers.sender {
        builder = builder.sender(address(sender));
    }
    let calendar_part = MimePart::new(
        ContentType::new("text/calendar").attribute("charset", "utf-8").attribute("method", method.as_str()),
        ics.as_str(),
    );
    let text_part = MimePart::new(ContentType::new("text/plain").attribute("charset", "utf-8"), text.to_owned());
    // A boundary of our own (from the Message-ID), so the message depends on
    // its inputs only and mail-builder never reads the clock for one.
    let mut boundary = format!("=_deputy_{:016x}", fnv1a(headers.message_id.as_bytes()));
    while text.contains(&boundary) || ics.contains(&boundary) {
        boundary.push('_');
    }
    let body = MimePart::new(
        ContentType::new("multipart/alternative").attribute("boundary", boundary),
        vec![text_part, calendar_part],
    );
    builder.body(body).write_to_vec().map_err(|e| Error::Imip(format!("cannot write the message: {e}")))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

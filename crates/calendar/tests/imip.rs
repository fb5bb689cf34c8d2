//! iMIP (RFC 6047): building a message a delegate sends for the manager and
//! finding the calendar in received mail.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests: a failed expectation is a failed test")]

use chrono::{TimeZone, Utc};
use deputy_calendar::{Error, ImipHeaders, MailAddress, Method, PartStat, build_imip, extract, parse, reply};

const INVITE: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:imip-1\r\n\
DTSTAMP:20260101T000000Z\r\nDTSTART:20260105T090000Z\r\nDTEND:20260105T100000Z\r\nSUMMARY:Planning\r\n\
ORGANIZER:mailto:bob@fabrikam.com\r\nATTENDEE;RSVP=TRUE:mailto:mary@contoso.com\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

fn headers() -> ImipHeaders {
    ImipHeaders {
        from: MailAddress { name: Some("Mary".into()), address: "mary@contoso.com".into() },
        sender: Some(MailAddress { name: Some("Rob".into()), address: "rob@contoso.com".into() }),
        to: vec![MailAddress { name: None, address: "bob@fabrikam.com".into() }],
        subject: "Accepted: Planning".into(),
        message_id: "reply-1@contoso.com".into(),
        date: Utc.with_ymd_and_hms(2026, 1, 2, 9, 0, 0).unwrap(),
    }
}

#[test]
fn delegate_reply_is_built_on_behalf_and_reads_back() {
    let invite = parse(INVITE).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 1, 2, 9, 0, 0).unwrap();
    let answer =
        reply(&invite.events[0], "mary@contoso.com", PartStat::Accepted, Some("rob@contoso.com"), now).unwrap();
    let message = build_imip(&answer, &headers(), "Mary has accepted.").unwrap();
    let text = String::from_utf8(message.clone()).unwrap();
    assert!(text.contains("From: \"Mary\" <mary@contoso.com>"), "{text}");
    assert!(text.contains("Sender: \"Rob\" <rob@contoso.com>"), "{text}");
    assert!(text.contains("multipart/alternative"), "{text}");
    assert!(text.contains("method=REPLY") || text.contains("method=\"REPLY\""), "{text}");
    assert!(text.contains("Message-ID: <reply-1@contoso.com>"), "{text}");

    assert_eq!(build_imip(&answer, &headers(), "Mary has accepted.").unwrap(), message, "no clock, no randomness");
    let part = extract(&message).unwrap_or_else(|e| panic!("{e}\n{text}")).unwrap();
    assert_eq!(part.method, Method::Reply);
    assert_eq!((part.from.as_deref(), part.sender.as_deref()), (Some("mary@contoso.com"), Some("rob@contoso.com")));
    assert_eq!(part.calendar, answer);
}

#[test]
fn extract_finds_the_calendar_in_a_mixed_message() {
    let message = format!(
        "From: bob@fabrikam.com\r\nTo: mary@contoso.com\r\nSubject: Planning\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nJoin us\r\n\
         --b1\r\nContent-Type: text/calendar; charset=utf-8; method=REQUEST\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n--b1--\r\n",
        base64_lines(INVITE)
    );
    let part = extract(message.as_bytes()).unwrap().unwrap();
    assert_eq!(part.method, Method::Request);
    assert_eq!(part.calendar.events[0].uid, "imip-1");
    assert_eq!(part.from.as_deref(), Some("bob@fabrikam.com"));
}

#[test]
fn no_calendar_part_is_none_and_a_method_mismatch_is_an_error() {
    let plain = b"From: a@b.c\r\nSubject: hi\r\n\r\nhello\r\n";
    assert_eq!(extract(plain).unwrap(), None);
    let mismatch = format!("From: a@b.c\r\nContent-Type: text/calendar; method=CANCEL\r\n\r\n{INVITE}");
    assert!(matches!(extract(mismatch.as_bytes()), Err(Error::Imip(_))));
    let no_method = INVITE.replace("METHOD:REQUEST\r\n", "");
    let message = format!("From: a@b.c\r\nContent-Type: text/calendar\r\n\r\n{no_method}");
    assert!(matches!(extract(message.as_bytes()), Err(Error::Imip(_))));
}

#[test]
fn building_needs_a_method_and_a_recipient() {
    let mut stored = parse(INVITE).unwrap();
    stored.method = None;
    assert!(matches!(build_imip(&stored, &headers(), ""), Err(Error::Imip(_))));
    let invite = parse(INVITE).unwrap();
    let nobody = ImipHeaders { to: Vec::new(), ..headers() };
    assert!(matches!(build_imip(&invite, &nobody, ""), Err(Error::Imip(_))));
}

fn base64_lines(text: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
        if out.len() % 78 == 76 {
            out.push_str("\r\n");
        }
    }
    out
}

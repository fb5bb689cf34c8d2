//! Delivery status notifications (RFC 3464 in a RFC 6522 report): what the
//! sender gets back when recipients fail, worded as Exchange words it.

use chrono::{DateTime, Utc};
use mail_builder::MessageBuilder;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::raw::Raw;
use mail_builder::mime::MimePart;
use mail_parser::MessageParser;

/// One recipient the report is about.
#[derive(Debug, Clone)]
pub(crate) struct FailedRecipient {
    pub(crate) address: String,
    /// The reply that decided it, e.g. `550 5.1.1 No such user`.
    pub(crate) reply: String,
    /// The server that gave the reply, when one did.
    pub(crate) remote: Option<String>,
}

/// What the report needs to know about the message that failed.
pub(crate) struct Original<'a> {
    pub(crate) raw: &'a [u8],
    pub(crate) arrival: DateTime<Utc>,
}

/// The enhanced status code (RFC 3463) in `reply`, or one derived from its
/// basic code: `5.0.0` for a permanent failure, `4.0.0` for a temporary one.
pub(crate) fn status(reply: &str) -> String {
    let mut words = reply.split_whitespace();
    let code = words.next().unwrap_or_default();
    if let Some(candidate) = words.next()
        && is_enhanced(candidate)
    {
        return candidate.to_owned();
    }
    if code.starts_with('4') { "4.0.0".to_owned() } else { "5.0.0".to_owned() }
}

fn is_enhanced(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    matches!(parts.as_slice(), [class, subject, detail]
        if matches!(*class, "2" | "4" | "5")
            && (1..=3).contains(&subject.len()) && subject.bytes().all(|b| b.is_ascii_digit())
            && (1..=3).contains(&detail.len()) && detail.bytes().all(|b| b.is_ascii_digit()))
}

/// The original's header block (up to the blank line), ending CRLF.
fn header_block(raw: &[u8]) -> Vec<u8> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 2)
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|p| p + 1))
        .unwrap_or(raw.len());
    let mut block = raw.get(..end).unwrap_or(raw).to_vec();
    if !block.ends_with(b"\n") {
        block.extend_from_slice(b"\r\n");
    }
    block
}

/// Plain words for the person who sent the message.
fn explanation(reporting_mta: &str, failed: &[FailedRecipient]) -> String {
    let mut text = String::from("Your message couldn't be delivered to the following recipients.\r\n\r\n");
    for f in failed {
        text.push_str(&f.address);
        text.push_str("\r\n");
        let why = match &f.remote {
            Some(remote) => format!("    The receiving server {remote} refused it: {}", f.reply),
            None => format!("    {reporting_mta} could not deliver it: {}", f.reply),
        };
        text.push_str(&why);
        text.push_str("\r\n\r\n");
    }
    text.push_str(
        "Check the address for typos and send the message again. If the problem continues, \
         contact the recipient's email administrator.\r\n",
    );
    text
}

/// The `message/delivery-status` body: per-message fields, then one group
/// per recipient (RFC 3464 §2.2, §2.3).
fn delivery_status(reporting_mta: &str, arrival: DateTime<Utc>, failed: &[FailedRecipient]) -> String {
    let mut body = format!("Reporting-MTA: dns; {reporting_mta}\r\nArrival-Date: {}\r\n", arrival.to_rfc2822());
    for f in failed {
        body.push_str("\r\n");
        body.push_str(&format!("Final-Recipient: rfc822; {}\r\n", f.address));
        body.push_str("Action: failed\r\n");
        body.push_str(&format!("Status: {}\r\n", status(&f.reply)));
        if let Some(remote) = &f.remote {
            body.push_str(&format!("Remote-MTA: dns; {remote}\r\n"));
        }
        body.push_str(&format!("Diagnostic-Code: smtp; {}\r\n", f.reply));
    }
    body
}

/// The report for `failed` recipients of `original`, from
/// `MAILER-DAEMON@<from_domain>` to `to` (the original envelope sender).
pub(crate) fn build(
    reporting_mta: &str,
    from_domain: &str,
    to: &str,
    original: &Original<'_>,
    failed: &[FailedRecipient],
) -> std::io::Result<Vec<u8>> {
    let subject = MessageParser::new()
        .parse_headers(original.raw)
        .and_then(|m| m.subject().map(str::to_owned))
        .unwrap_or_default();
    let headers = header_block(original.raw);
    let headers_encoding = if headers.is_ascii() { "7bit" } else { "8bit" };
    let report = MimePart::new(
        ContentType::new("multipart/report").attribute("report-type", "delivery-status"),
        vec![
            MimePart::new("text/plain", explanation(reporting_mta, failed)),
            MimePart::new(
                "message/delivery-status",
                delivery_status(reporting_mta, original.arrival, failed).into_bytes(),
            )
            .transfer_encoding("7bit"),
            MimePart::new("text/rfc822-headers", headers).transfer_encoding(headers_encoding),
        ],
    );
    let id = format!(
        "{:016x}{:016x}@{reporting_mta}",
        Utc::now().timestamp_nanos_opt().unwrap_or_default(),
        rand::random::<u64>()
    );
    MessageBuilder::new()
        .from(("Mail Delivery System".to_owned(), format!("MAILER-DAEMON@{from_domain}")))
        .to(to.to_owned())
        .subject(format!("Undeliverable: {subject}"))
        .message_id(id)
        .header("Auto-Submitted", Raw::new("auto-replied"))
        .body(report)
        .write_to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_comes_from_the_reply_or_its_class() {
        assert_eq!(status("550 5.1.1 No such user"), "5.1.1");
        assert_eq!(status("550 4.4.7 Message expired"), "4.4.7");
        assert_eq!(status("554 Transaction failed"), "5.0.0");
        assert_eq!(status("451 try later"), "4.0.0");
        assert_eq!(status("550 5.1 odd"), "5.0.0");
    }

    #[test]
    fn header_block_stops_at_the_blank_line() {
        assert_eq!(header_block(b"A: 1\r\nB: 2\r\n\r\nbody"), b"A: 1\r\nB: 2\r\n");
        assert_eq!(header_block(b"A: 1\n\nbody"), b"A: 1\n");
        assert_eq!(header_block(b"A: 1"), b"A: 1\r\n");
    }
}

//! A page of a moving mailbox's messages on the wire: a simple framed binary
//! format, so bodies travel as raw bytes (no JSON arrays, no base64) and a
//! page is bounded (`deputy_core::hybrid::PageLimit`).
//!
//! A page is `DPMV1\n` and then, per message, a big-endian `u32` length, that
//! many bytes of JSON metadata (UID, flags, INTERNALDATE, creator), a
//! big-endian `u32` length and that many bytes of the raw message. Reading
//! checks every length against what is left, so a truncated or hostile page
//! is an error, never a panic or an oversized allocation.

use deputy_core::hybrid::MovedMessage;

/// The page's first bytes.
const MAGIC: &[u8] = b"DPMV1\n";
/// The media type of a page.
pub const CONTENT_TYPE: &str = "application/vnd.deputy.move-page";

/// Why a page can't be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// Not a page (no magic).
    #[error("not a move page")]
    NotAPage,
    /// A length runs past the end.
    #[error("the page is truncated at byte {0}")]
    Truncated(usize),
    /// Metadata that isn't JSON of a message.
    #[error("bad message metadata at byte {at}: {detail}")]
    Metadata {
        /// Where.
        at: usize,
        /// What.
        detail: String,
    },
    /// A message too large for the format.
    #[error("a message of {0} bytes is too large to move")]
    TooLarge(usize),
}

fn put(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), PageError> {
    let len = u32::try_from(bytes.len()).map_err(|_| PageError::TooLarge(bytes.len()))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// The page of `messages`.
pub fn encode(messages: &[MovedMessage]) -> Result<Vec<u8>, PageError> {
    let size: usize = messages.iter().map(|m| m.raw.len() + 128).sum();
    let mut out = Vec::with_capacity(MAGIC.len() + size);
    out.extend_from_slice(MAGIC);
    for m in messages {
        let meta = serde_json::to_vec(m).map_err(|e| PageError::Metadata { at: out.len(), detail: e.to_string() })?;
        put(&mut out, &meta)?;
        put(&mut out, &m.raw)?;
    }
    Ok(out)
}

/// The next length-prefixed part of `bytes` at `*at`.
fn take<'a>(bytes: &'a [u8], at: &mut usize) -> Result<&'a [u8], PageError> {
    let start = *at;
    let head = bytes.get(start..start + 4).ok_or(PageError::Truncated(start))?;
    let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let body = bytes.get(start + 4..).and_then(|b| b.get(..len)).ok_or(PageError::Truncated(start))?;
    *at = start + 4 + len;
    Ok(body)
}

/// The messages of a page.
pub fn decode(bytes: &[u8]) -> Result<Vec<MovedMessage>, PageError> {
    let rest = bytes.strip_prefix(MAGIC).ok_or(PageError::NotAPage)?;
    let mut at = 0;
    let mut messages = Vec::new();
    while at < rest.len() {
        let meta_at = at + MAGIC.len();
        let meta = take(rest, &mut at)?;
        let mut m: MovedMessage =
            serde_json::from_slice(meta).map_err(|e| PageError::Metadata { at: meta_at, detail: e.to_string() })?;
        m.raw = take(rest, &mut at)?.to_vec();
        messages.push(m);
    }
    Ok(messages)
}

#[cfg(test)]
mod tests {
    use super::*;
    use deputy_types::MessageFlags;

    fn message(uid: u32, raw: &[u8]) -> MovedMessage {
        MovedMessage {
            uid,
            raw: raw.to_vec(),
            flags: MessageFlags::SEEN | MessageFlags::FLAGGED,
            internal_date: chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap_or_default(),
            creator: None,
        }
    }

    #[test]
    fn pages_round_trip() {
        let page = vec![message(3, b"Subject: a\r\n\r\nx\r\n"), message(9, b""), message(10, &[0, 255, 13, 10])];
        let bytes = encode(&page).expect("encodes");
        assert_eq!(decode(&bytes).expect("decodes"), page);
        assert_eq!(decode(&encode(&[]).expect("encodes")).expect("decodes"), Vec::new());
    }

    #[test]
    fn bad_pages_are_errors_not_panics() {
        let bytes = encode(&[message(1, b"Subject: a\r\n\r\nbody\r\n")]).expect("encodes");
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err() || cut == MAGIC.len(), "cut at {cut}");
        }
        assert_eq!(decode(b"garbage"), Err(PageError::NotAPage));
        let mut huge = MAGIC.to_vec();
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(decode(&huge), Err(PageError::Truncated(0)));
        let mut bad = MAGIC.to_vec();
        bad.extend_from_slice(&2u32.to_be_bytes());
        bad.extend_from_slice(b"{]");
        assert!(matches!(decode(&bad), Err(PageError::Metadata { .. })));
    }
}

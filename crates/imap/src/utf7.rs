//! Modified UTF-7 (RFC 3501 §5.1.3) for mailbox names: the wire form is
//! ASCII, the backend sees UTF-8.

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/// Why a mailbox name is not valid modified UTF-7.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mailbox name is not valid modified UTF-7")]
pub struct InvalidName;

fn sextet(b: u8) -> Option<u32> {
    ALPHABET.iter().position(|&c| c == b).and_then(|p| u32::try_from(p).ok())
}

/// Decodes a wire mailbox name to UTF-8.
pub fn decode(wire: &[u8]) -> Result<String, InvalidName> {
    let mut out = String::new();
    let mut i = 0;
    while i < wire.len() {
        let b = wire[i];
        if !(0x20..=0x7e).contains(&b) {
            return Err(InvalidName);
        }
        if b != b'&' {
            out.push(char::from(b));
            i += 1;
            continue;
        }
        let end = wire[i + 1..].iter().position(|&c| c == b'-').ok_or(InvalidName)? + i + 1;
        let run = &wire[i + 1..end];
        i = end + 1;
        if run.is_empty() {
            out.push('&');
            continue;
        }
        let (mut bits, mut nbits, mut units) = (0u32, 0u32, Vec::new());
        for &c in run {
            bits = (bits << 6) | sextet(c).ok_or(InvalidName)?;
            nbits += 6;
            if nbits >= 16 {
                nbits -= 16;
                units.push(u16::try_from((bits >> nbits) & 0xffff).map_err(|_| InvalidName)?);
            }
        }
        // Leftover bits must be zero padding shorter than a sextet.
        if nbits >= 6 || bits & ((1 << nbits) - 1) != 0 {
            return Err(InvalidName);
        }
        let text = String::from_utf16(&units).map_err(|_| InvalidName)?;
        // Printable ASCII must be written directly, never base64 (RFC 3501).
        if text.chars().any(|c| (' '..='~').contains(&c)) {
            return Err(InvalidName);
        }
        out.push_str(&text);
    }
    Ok(out)
}

/// Decodes a wire mailbox name as the session speaks: modified UTF-7, or
/// UTF-8 once IMAP4rev2 is enabled (RFC 9051 §5.1, where `&` is just `&`).
pub(crate) fn decode_name(wire: &[u8], utf8: bool) -> Result<String, InvalidName> {
    if !utf8 {
        return decode(wire);
    }
    let name = std::str::from_utf8(wire).map_err(|_| InvalidName)?;
    // Net-Unicode (RFC 5198) has no control characters.
    if name.chars().any(char::is_control) {
        return Err(InvalidName);
    }
    Ok(name.to_owned())
}

/// Encodes a UTF-8 mailbox name for the wire.
pub fn encode(name: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        out.push('&');
        let (mut bits, mut nbits) = (0u32, 0u32);
        for unit in pending.drain(..) {
            bits = (bits << 16) | u32::from(unit);
            nbits += 16;
            while nbits >= 6 {
                nbits -= 6;
                out.push(char::from(ALPHABET[((bits >> nbits) & 63) as usize]));
            }
        }
        if nbits > 0 {
            out.push(char::from(ALPHABET[((bits << (6 - nbits)) & 63) as usize]));
        }
        out.push('-');
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            out.push(c);
            if c == '&' {
                out.push('-');
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_rfc_example() {
        let name = "~peter/mail/台北/日本語";
        assert_eq!(encode(name), "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
        assert_eq!(decode(b"~peter/mail/&U,BTFw-/&ZeVnLIqe-").as_deref(), Ok(name));
        assert_eq!(decode(b"a&-b").as_deref(), Ok("a&b"));
    }

    #[test]
    fn utf8_names_are_taken_as_they_are() {
        assert_eq!(decode_name("台北&a".as_bytes(), true).as_deref(), Ok("台北&a"));
        assert_eq!(decode_name(b"&U,BTFw-", false).as_deref(), Ok("台北"));
        assert_eq!(decode_name(b"\xff", true), Err(InvalidName));
        assert_eq!(decode_name(b"a\x01", true), Err(InvalidName));
    }

    #[test]
    fn rejects_malformed_names() {
        for bad in [&b"&"[..], b"&U,BTFw", b"&AGE-", b"&!!-", b"a\x01"] {
            assert_eq!(decode(bad), Err(InvalidName), "{bad:?}");
        }
    }
}

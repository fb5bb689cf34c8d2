//! Graph ids for folders and messages: opaque URL-safe strings. A folder id
//! encodes the folder's Guid; a message id the folder and the UID, so (as in
//! Graph) a message's id changes when it moves to another folder. An event id
//! encodes the calendar folder and the iCalendar UID (and an occurrence's
//! start), so it stays the same when the event is changed, although every
//! change stores a new item under a new IMAP UID.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use deputy_types::{FolderId, FolderUser, RecipientId, Uid};
use uuid::Uuid;

/// A folder's Graph id.
pub fn folder(id: FolderId) -> String {
    URL_SAFE_NO_PAD.encode(id.0.as_bytes())
}

/// The folder a Graph folder id names.
pub fn parse_folder(s: &str) -> Option<FolderId> {
    let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
    Some(FolderId(Uuid::from_slice(&bytes).ok()?))
}

/// A message's Graph id.
pub fn message(folder: FolderId, uid: Uid) -> String {
    let mut bytes = [0u8; 20];
    bytes[..16].copy_from_slice(folder.0.as_bytes());
    bytes[16..].copy_from_slice(&uid.to_be_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The folder and UID a Graph message id names.
pub fn parse_message(s: &str) -> Option<(FolderId, Uid)> {
    let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
    let bytes: [u8; 20] = bytes.try_into().ok()?;
    let folder = FolderId(Uuid::from_slice(&bytes[..16]).ok()?);
    let uid = u32::from_be_bytes(bytes[16..].try_into().ok()?);
    (uid != 0).then_some((folder, uid))
}

/// Longest iCalendar UID an event id carries (a longer one is not Deputy's).
const MAX_UID: usize = 1024;

/// An event's Graph id: the series, or one occurrence of it by its start.
pub fn event(folder: FolderId, uid: &str, occurrence: Option<DateTime<Utc>>) -> String {
    let mut bytes = Vec::with_capacity(uid.len() + 25);
    bytes.extend_from_slice(folder.0.as_bytes());
    match occurrence {
        None => bytes.push(0),
        Some(start) => {
            bytes.push(1);
            bytes.extend_from_slice(&start.timestamp().to_be_bytes());
        }
    }
    bytes.extend_from_slice(uid.as_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The folder, UID and occurrence start an event id names.
pub fn parse_event(s: &str) -> Option<(FolderId, String, Option<DateTime<Utc>>)> {
    if s.len() > MAX_UID * 2 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(s).ok()?;
    let folder = FolderId(Uuid::from_slice(bytes.get(..16)?).ok()?);
    let (occurrence, uid) = match bytes.get(16)? {
        0 => (None, bytes.get(17..)?),
        1 => {
            let secs = i64::from_be_bytes(bytes.get(17..25)?.try_into().ok()?);
            (Some(DateTime::<Utc>::from_timestamp(secs, 0)?), bytes.get(25..)?)
        }
        _ => return None,
    };
    let uid = std::str::from_utf8(uid).ok()?;
    (!uid.is_empty()).then(|| (folder, uid.to_owned(), occurrence))
}

/// A calendarPermission id: "My Organization" (the Default entry) or a user.
pub fn permission(user: FolderUser) -> String {
    let text = match user {
        FolderUser::Default => "Default".to_owned(),
        FolderUser::Anonymous => "Anonymous".to_owned(),
        FolderUser::Recipient(id) => format!("ExchangePublishedUser.{}", id.0),
    };
    URL_SAFE_NO_PAD.encode(text)
}

/// The folder entry a calendarPermission id names.
pub fn parse_permission(s: &str) -> Option<FolderUser> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()?).ok()?;
    match text.as_str() {
        "Default" => Some(FolderUser::Default),
        "Anonymous" => Some(FolderUser::Anonymous),
        other => {
            let id = Uuid::parse_str(other.strip_prefix("ExchangePublishedUser.")?).ok()?;
            Some(FolderUser::Recipient(RecipientId(id)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        let f = FolderId(Uuid::new_v4());
        assert_eq!(parse_folder(&folder(f)), Some(f));
        assert_eq!(parse_message(&message(f, 42)), Some((f, 42)));
        assert_eq!(parse_message(&folder(f)), None);
        assert_eq!(parse_folder("inbox"), None);
        assert_eq!(parse_message("!!"), None);
        let at = DateTime::<Utc>::from_timestamp(1_800_000_000, 0).unwrap_or_default();
        assert_eq!(parse_event(&event(f, "u@x", None)), Some((f, "u@x".into(), None)));
        assert_eq!(parse_event(&event(f, "u@x", Some(at))), Some((f, "u@x".into(), Some(at))));
        assert_eq!(parse_event(&folder(f)), None);
        assert_eq!(parse_event("!!"), None);
        let user = FolderUser::Recipient(RecipientId(Uuid::new_v4()));
        assert_eq!(parse_permission(&permission(user)), Some(user));
        assert_eq!(parse_permission(&permission(FolderUser::Default)), Some(FolderUser::Default));
        assert_eq!(parse_permission("x"), None);
    }
}

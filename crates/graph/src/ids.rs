//! Graph ids for folders and messages: opaque URL-safe strings. A folder id
//! encodes the folder's Guid; a message id the folder and the UID, so (as in
//! Graph) a message's id changes when it moves to another folder.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use deputy_types::{FolderId, Uid};
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
    }
}

//! STATUS (RFC 9051 §6.3.11) and LIST's `RETURN (STATUS …)` (RFC 5819): the
//! counts come from the backend's SELECT, and `SIZE`, `DELETED` and
//! `DELETED-STORAGE` (RFC 8438, RFC 9051, RFC 9208) from one metadata FETCH,
//! made only when one of them is asked for.

use imap_codec::imap_types::status::StatusDataItemName;

use crate::{Backend, FetchItems, No, wire};

/// The `name value` pairs for `items`, in the order asked.
pub(crate) async fn items<B: Backend>(
    backend: &B,
    user: &B::User,
    mailbox: &str,
    items: &[StatusDataItemName],
) -> Result<String, No> {
    let s = backend.select(user, mailbox, true).await?;
    let sized = items.iter().any(|i| {
        matches!(i, StatusDataItemName::Size | StatusDataItemName::Deleted | StatusDataItemName::DeletedStorage)
    });
    let (mut size, mut deleted, mut deleted_size) = (0u64, 0u64, 0u64);
    if sized {
        for m in backend.fetch(user, mailbox, &s.uids, FetchItems::default()).await? {
            size = size.saturating_add(m.size);
            if m.flags.iter().any(|f| f.eq_ignore_ascii_case("\\Deleted")) {
                deleted += 1;
                deleted_size = deleted_size.saturating_add(m.size);
            }
        }
    }
    let values: Vec<String> = items
        .iter()
        .map(|i| match i {
            StatusDataItemName::Messages => format!("MESSAGES {}", s.uids.len()),
            StatusDataItemName::Recent => "RECENT 0".to_owned(),
            StatusDataItemName::UidNext => format!("UIDNEXT {}", s.uidnext),
            StatusDataItemName::UidValidity => format!("UIDVALIDITY {}", s.uidvalidity),
            StatusDataItemName::Unseen => format!("UNSEEN {}", s.unseen),
            StatusDataItemName::Deleted => format!("DELETED {deleted}"),
            StatusDataItemName::DeletedStorage => format!("DELETED-STORAGE {deleted_size}"),
            StatusDataItemName::Size => format!("SIZE {size}"),
            StatusDataItemName::HighestModSeq => format!("HIGHESTMODSEQ {}", s.highest_modseq.unwrap_or(0)),
        })
        .collect();
    Ok(values.join(" "))
}

/// `* STATUS name (items)`.
pub(crate) fn line(out: &mut Vec<u8>, mailbox: &str, utf8: bool, items: &str) {
    out.extend_from_slice(b"* STATUS ");
    wire::mailbox(out, mailbox, utf8);
    out.extend_from_slice(format!(" ({items})\r\n").as_bytes());
}

/// A STATUS item name as LIST's `RETURN (STATUS (…))` spells it.
pub(crate) fn item_name(atom: &str) -> Option<StatusDataItemName> {
    Some(match atom.to_ascii_uppercase().as_str() {
        "MESSAGES" => StatusDataItemName::Messages,
        "RECENT" => StatusDataItemName::Recent,
        "UIDNEXT" => StatusDataItemName::UidNext,
        "UIDVALIDITY" => StatusDataItemName::UidValidity,
        "UNSEEN" => StatusDataItemName::Unseen,
        "DELETED" => StatusDataItemName::Deleted,
        "DELETED-STORAGE" => StatusDataItemName::DeletedStorage,
        "SIZE" => StatusDataItemName::Size,
        "HIGHESTMODSEQ" => StatusDataItemName::HighestModSeq,
        _ => return None,
    })
}

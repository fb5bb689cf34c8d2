//! Mail cmdlets: `Get-MailboxFolderStatistics` (interface.md) and
//! `Get-DkimSigningConfig` (the DNS record each domain must publish).

use crate::ExchangeHost;
use crate::resolve::{Accept, param_error, recipient, required};
use deputy_core::State;
use deputy_pwsh::{CommandError, Invocation, Object, Output, Value};
use deputy_types::{Folder, FolderCounts, FolderId, WellKnownFolder};

type Res = Result<Output, CommandError>;

pub(crate) async fn invoke(host: &ExchangeHost, call: &Invocation) -> Option<Res> {
    match call.command {
        "Get-MailboxFolderStatistics" => Some(folder_statistics(host, call).await),
        "Get-DkimSigningConfig" => Some(dkim_config(host, call)),
        _ => None,
    }
}

/// `-FolderScope`: `All`, or a well-known folder type (the folder and its subfolders).
fn scope(call: &Invocation) -> Result<Option<WellKnownFolder>, CommandError> {
    match call.string("FolderScope") {
        None => Ok(None),
        Some(s) if s.eq_ignore_ascii_case("All") => Ok(None),
        Some(s) => WellKnownFolder::parse(s).filter(|w| *w != WellKnownFolder::Root).map(Some).ok_or_else(|| {
            param_error(
                "FolderScope",
                format!(
                    "Cannot bind parameter 'FolderScope'. Cannot convert value \"{s}\" to type \
                     \"Microsoft.Exchange.Data.Directory.SystemConfiguration.ElcFolderType\"."
                ),
            )
        }),
    }
}

/// Exchange's `FolderPath`: `/` for separators, the root as `/Top of Information Store`.
fn folder_path(s: &State, f: &Folder) -> String {
    if f.parent.is_none() {
        return format!("/{}", f.name);
    }
    let mut parts = Vec::new();
    let mut cur = Some(f);
    while let Some(x) = cur.filter(|x| x.parent.is_some()) {
        // A `/` inside a name is shown as U+F8FF, as Exchange does, so paths stay unambiguous.
        parts.push(x.name.replace('/', "\u{f8ff}"));
        cur = x.parent.and_then(|p| s.folder(p));
    }
    parts.reverse();
    format!("/{}", parts.join("/"))
}

fn within(s: &State, f: &Folder, top: FolderId) -> bool {
    let mut cur = Some(f);
    while let Some(x) = cur {
        if x.id == top {
            return true;
        }
        cur = x.parent.and_then(|p| s.folder(p));
    }
    false
}

/// `1.23 KB (1,262 bytes)`, Exchange's ByteQuantifiedSize text.
fn size_text(bytes: u64) -> String {
    let units = [("B", 1u64), ("KB", 1 << 10), ("MB", 1 << 20), ("GB", 1 << 30)];
    let (unit, scale) = units.iter().rev().find(|(_, s)| bytes >= *s).copied().unwrap_or(("B", 1));
    let grouped = {
        let digits = bytes.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    let amount = if scale == 1 { bytes.to_string() } else { format!("{:.2}", bytes as f64 / scale as f64) };
    format!("{amount} {unit} ({grouped} bytes)")
}

async fn folder_statistics(host: &ExchangeHost, call: &Invocation) -> Res {
    let identity = required(call, "Identity")?;
    let scope = scope(call)?;
    let (mailbox_name, folders): (String, Vec<(FolderId, String, String, String)>) = host.deputy().read(|s| {
        let id = recipient(s, "Identity", identity, Accept::Mailbox)?;
        let mut all: Vec<&Folder> = s.folders_of(id).collect();
        if let Some(w) = scope {
            let top = all.iter().find(|f| f.well_known == Some(w)).map(|f| f.id);
            all.retain(|f| top.is_some_and(|t| within(s, f, t)));
        }
        let mut rows: Vec<_> = all
            .iter()
            .map(|f| {
                let kind = f.well_known.map_or("User Created", |w| w.folder_type());
                (f.id, f.name.clone(), folder_path(s, f), kind.to_owned())
            })
            .collect();
        rows.sort_by_cached_key(|r| r.2.to_lowercase());
        Ok::<_, CommandError>((s.name_of(id), rows))
    })?;
    let ids: Vec<FolderId> = folders.iter().map(|f| f.0).collect();
    let counts = host.deputy().folder_counts(&ids).await.map_err(|e| CommandError { message: e.to_string() })?;
    let objects = folders
        .into_iter()
        .zip(counts.into_iter().chain(std::iter::repeat(FolderCounts::default())))
        .map(|((_, name, path, kind), c)| {
            Value::Object(
                Object::new("MailboxFolderStatistics")
                    .with("Name", name.as_str())
                    .with("FolderPath", path.as_str())
                    .with("FolderType", kind.as_str())
                    .with("ItemsInFolder", c.items as i64)
                    .with("UnreadItemsInFolder", c.unread as i64)
                    .with("FolderSize", size_text(c.size))
                    .with("Identity", format!("{mailbox_name}{}", path.replace('/', "\\")))
                    .display(&["Name", "FolderPath", "ItemsInFolder", "FolderSize"]),
            )
        })
        .collect();
    Ok(Output { objects, warnings: Vec::new() })
}

/// Exchange Online's cmdlet, with the TXT record spelled out: Deputy signs
/// with one key for every accepted domain, published directly as TXT rather
/// than through Microsoft's CNAME indirection.
fn dkim_config(host: &ExchangeHost, call: &Invocation) -> Res {
    let info = host.deputy().server_info();
    let mut domains = host.deputy().accepted_domains();
    if let Some(identity) = call.string("Identity") {
        domains.retain(|d| d.eq_ignore_ascii_case(identity));
        if domains.is_empty() {
            return Err(param_error(
                "Identity",
                format!(
                    "Couldn't find object \"{identity}\". Please make sure that it was spelled correctly or specify a different object."
                ),
            ));
        }
    }
    let objects = domains
        .iter()
        .map(|domain| {
            let (enabled, selector, name, value) = match &info.dkim {
                Some(k) => (true, k.selector.clone(), format!("{}._domainkey.{domain}", k.selector), k.record.clone()),
                None => (false, String::new(), String::new(), String::new()),
            };
            Value::Object(
                Object::new("DkimSigningConfig")
                    .with("Domain", domain.as_str())
                    .with("Enabled", enabled)
                    .with("Status", if enabled { "Valid" } else { "Disabled" })
                    .with("Selector", selector)
                    .with("DnsRecordName", name)
                    .with("DnsRecordType", "TXT")
                    .with("DnsRecordValue", value)
                    .display(&["Domain", "Enabled", "DnsRecordName", "DnsRecordValue"]),
            )
        })
        .collect();
    Ok(Output { objects, warnings: Vec::new() })
}

#[cfg(test)]
mod tests {
    use super::size_text;

    #[test]
    fn sizes_read_like_exchange() {
        assert_eq!(size_text(0), "0 B (0 bytes)");
        assert_eq!(size_text(1262), "1.23 KB (1,262 bytes)");
        assert_eq!(size_text(5 * 1024 * 1024), "5.00 MB (5,242,880 bytes)");
    }
}

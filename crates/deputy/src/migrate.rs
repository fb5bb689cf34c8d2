//! `deputy migrate`: copies an embedded store (a data directory) into
//! PostgreSQL, so a single-node deployment can move to a cluster, and
//! verifies the copy by counts and checksums.
//!
//! The directory goes over as one batch of `Put*` changes with the source's
//! whole audit log and one record saying it was migrated; mail goes over with
//! every id, UID, UIDVALIDITY and mod-sequence kept, so IMAP clients see the
//! same folders. Both land in one PostgreSQL transaction, and only into an
//! empty target. The whole store is read into memory first.

use anyhow::{Context, Result, bail};
use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};
use chrono::Utc;
use deputy_store::{MailExport, MailStore, Snapshot, Store};
use deputy_store_postgres::PgStore;
use deputy_store_sqlite::SqliteStore;
use deputy_types::AuditRecord;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

/// `deputy migrate`'s flags.
#[derive(clap::Args)]
#[command(after_help = "Stop every deputy serve using the data directory first: the copy refuses a \
    database another process has open. The target must be empty (a new database, or a new --schema).")]
pub(crate) struct MigrateArgs {
    /// The data directory of the embedded store to copy (its server stopped).
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
    /// The PostgreSQL database to copy into: postgres://user@host:port/database,
    /// as `deputy serve --store` takes it.
    #[arg(long, value_name = "URL")]
    to: String,
    /// Keep everything in this PostgreSQL schema (created if absent) instead
    /// of the connection's default one; the same as `?schema=NAME` in the URL.
    #[arg(long, value_name = "NAME")]
    schema: Option<String>,
}

/// The cmdlet name the migration's audit record carries.
const AUDIT_CMDLET: &str = "deputy migrate";

/// Copies, verifies and prints the report; an error (exit 1) when the target
/// is not empty, the source is in use, or the copy differs.
pub(crate) async fn run(args: MigrateArgs) -> Result<()> {
    let dir = &args.from;
    if !SqliteStore::exists(dir) {
        bail!("{} holds no Deputy data directory (no {})", dir.display(), deputy_store_sqlite::DB_FILE);
    }
    SqliteStore::ensure_unused(dir).context("checking the source")?;
    let source = SqliteStore::open(dir).with_context(|| format!("opening the store in {}", dir.display()))?;
    let snapshot = source.load().await.context("reading the source's directory")?;
    let mut audit = source.search_audit(&Default::default()).await.context("reading the source's audit log")?;
    let mail = source.export().await.context("reading the source's mail")?;
    drop(source);

    // `?schema=NAME` in the URL, as `deputy serve --store` takes it, or --schema.
    let (url, in_url) = crate::split_schema(&args.to);
    let schema = args.schema.clone().or(in_url);
    let target = match &schema {
        Some(schema) => PgStore::connect_schema(&url, schema).await,
        None => PgStore::connect(&url).await,
    }
    .context("connecting to the target")?;
    let place = schema.as_deref().map_or_else(|| "PostgreSQL".to_owned(), |s| format!("PostgreSQL schema {s}"));
    let source_listing = Listing::of(&snapshot, &audit, &mail);
    // Newest first as read; the target takes them oldest first, then the migration's own.
    audit.reverse();
    audit.push(AuditRecord {
        time: Utc::now(),
        caller: AUDIT_CMDLET.to_owned(),
        cmdlet: AUDIT_CMDLET.to_owned(),
        // Never the URL: it may hold a password.
        command: format!("deputy migrate --from {} --to <{place}>", dir.display()),
        object: dir.display().to_string(),
        succeeded: true,
        error: None,
        before: None,
        after: Some(source_listing.counts_json()),
    });
    target
        .import_all(snapshot.changes(), audit, mail)
        .await
        .with_context(|| format!("copying {} into {place}", dir.display()))?;

    let copied = target.load().await.context("reading the target's directory back")?;
    let mut copied_audit = target.search_audit(&Default::default()).await.context("reading the target's audit log")?;
    // The newest record is the migration's own; the rest must be the source's.
    if copied_audit.first().is_some_and(|r| r.cmdlet == AUDIT_CMDLET) {
        copied_audit.remove(0);
    }
    let copied_mail = target.export().await.context("reading the target's mail back")?;
    let target_listing = Listing::of(&copied, &copied_audit, &copied_mail);
    let (report, differing) = report(&source_listing, &target_listing);
    println!("Copied {} into {place}.\n{report}", dir.display());
    if !differing.is_empty() {
        bail!(
            "the copy differs from the source in {}; the target is left as it is for inspection: \
             empty it (drop the schema) before trying again",
            differing.join(", ")
        );
    }
    println!("The copy matches the source. Point deputy serve --store at the database to use it.");
    Ok(())
}

/// One kind of stored object: how many, and a BLAKE2b-256 digest of their
/// canonical listing (sorted by key, each item's JSON on a line).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Kind {
    name: &'static str,
    count: u64,
    digest: [u8; 32],
}

/// Every kind of a store, in report order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Listing {
    kinds: Vec<Kind>,
}

/// Digests items in the order given.
struct Summer {
    hash: Blake2b<U32>,
    count: u64,
}

impl Summer {
    fn new() -> Self {
        Self { hash: Blake2b::new(), count: 0 }
    }

    fn item<T: Serialize>(&mut self, item: &T) {
        // These types serialize without maps of unstable order, so the JSON is canonical.
        let json = serde_json::to_vec(item).unwrap_or_default();
        self.bytes(&json);
    }

    fn bytes(&mut self, bytes: &[u8]) {
        self.hash.update((bytes.len() as u64).to_be_bytes());
        self.hash.update(bytes);
        self.count += 1;
    }

    fn finish(self, name: &'static str) -> Kind {
        Kind { name, count: self.count, digest: self.hash.finalize().into() }
    }
}

fn kind<T: Serialize>(name: &'static str, items: impl IntoIterator<Item = T>) -> Kind {
    let mut summer = Summer::new();
    for item in items {
        summer.item(&item);
    }
    summer.finish(name)
}

impl Listing {
    /// The canonical listing of a directory, its audit log and its mail.
    fn of(snapshot: &Snapshot, audit: &[AuditRecord], mail: &MailExport) -> Self {
        let mut s = snapshot.clone();
        s.normalize();
        let mut entries = Summer::new();
        let mut per_folder = BTreeMap::new();
        for folder in &mail.folders {
            per_folder.insert(folder.folder, folder.entries.len());
            for e in &folder.entries {
                entries.item(e);
            }
        }
        let mut bodies = Summer::new();
        let mut body_bytes = 0_u64;
        for b in &mail.bodies {
            bodies.bytes(&b.id.0.to_be_bytes());
            bodies.hash.update(&b.raw);
            body_bytes += b.raw.len() as u64;
        }
        let mut subscriptions = mail.subscriptions.clone();
        // Backends list them in their own order; the digest must not care.
        subscriptions.sort();
        let mut bytes = kind("body bytes", [body_bytes]);
        bytes.count = body_bytes;
        let kinds = vec![
            kind("organization", s.organization.iter()),
            kind("accepted domains", &s.accepted_domains),
            kind("recipients", &s.recipients),
            kind("memberships", &s.members),
            kind("mailbox permissions", &s.mailbox_aces),
            kind("send-as permissions", &s.send_as_aces),
            kind("folders", &s.folders),
            kind("folder permissions", &s.folder_aces),
            kind("applications", &s.service_principals),
            kind("audit records", audit),
            kind("folder states", mail.folders.iter().map(|f| (f.folder, f.state))),
            kind("entries per folder", &per_folder),
            entries.finish("folder entries"),
            bodies.finish("bodies"),
            bytes,
            kind("queue entries", &mail.queue),
            kind("IMAP subscriptions", &subscriptions),
        ];
        Self { kinds }
    }

    /// The counts as a JSON object, for the migration's audit record.
    fn counts_json(&self) -> String {
        let counts: BTreeMap<&str, u64> = self.kinds.iter().map(|k| (k.name, k.count)).collect();
        serde_json::to_string(&counts).unwrap_or_default()
    }

    /// One digest over every kind's.
    fn checksum(&self) -> [u8; 32] {
        let mut hash = Blake2b::<U32>::new();
        for k in &self.kinds {
            hash.update(k.name.as_bytes());
            hash.update(k.count.to_be_bytes());
            hash.update(k.digest);
        }
        hash.finalize().into()
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The report table (a line per kind, the source's and the target's count
/// and whether the counts and checksums agree) and the kinds that differ.
fn report(source: &Listing, target: &Listing) -> (String, Vec<&'static str>) {
    let mut out = format!("{:<22}{:>12}{:>12}  {}\n", "kind", "source", "target", "check");
    let mut differing = Vec::new();
    for (i, s) in source.kinds.iter().enumerate() {
        let t = target.kinds.get(i).filter(|t| t.name == s.name);
        let verdict = match t {
            Some(t) if t == s => "ok".to_owned(),
            Some(t) if t.count == s.count => "checksum differs".to_owned(),
            _ => "count differs".to_owned(),
        };
        if verdict != "ok" {
            differing.push(s.name);
        }
        let target_count = t.map_or_else(|| "-".to_owned(), |t| t.count.to_string());
        let _ = writeln!(out, "{:<22}{:>12}{:>12}  {verdict}", s.name, s.count, target_count);
    }
    let (a, b) = (source.checksum(), target.checksum());
    let verdict = if a == b { "ok" } else { "differs" };
    let _ = write!(out, "checksum (BLAKE2b-256) source {} target {} {verdict}", hex(&a), hex(&b));
    (out, differing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use deputy_store::conformance::fid;
    use deputy_store::{ExportedBody, ExportedFolder, FolderState};
    use deputy_types::BlobId;

    fn mail(raw: &[u8]) -> MailExport {
        MailExport {
            folders: vec![ExportedFolder {
                folder: fid(1),
                state: FolderState { uidvalidity: 7, uidnext: 1, highest_modseq: 1 },
                entries: Vec::new(),
            }],
            bodies: vec![ExportedBody { id: BlobId(1), raw: raw.to_vec() }],
            queue: Vec::new(),
            subscriptions: Vec::new(),
            next_body_id: 2,
            next_queue_id: 1,
        }
    }

    #[test]
    fn equal_stores_report_ok_and_one_changed_byte_is_found() {
        let snapshot = Snapshot::default();
        let a = Listing::of(&snapshot, &[], &mail(b"hello"));
        let (text, differing) = report(&a, &a.clone());
        assert!(differing.is_empty(), "{text}");
        assert!(text.contains("bodies") && text.ends_with(" ok"), "{text}");
        let b = Listing::of(&snapshot, &[], &mail(b"hellO"));
        let (text, differing) = report(&a, &b);
        assert_eq!(differing, ["bodies"], "{text}");
        assert!(text.contains("checksum differs") && text.ends_with("differs"), "{text}");
    }

    #[test]
    fn a_missing_body_is_a_count_difference() {
        let snapshot = Snapshot::default();
        let a = Listing::of(&snapshot, &[], &mail(b"hello"));
        let mut emptied = mail(b"hello");
        emptied.bodies.clear();
        let (text, differing) = report(&a, &Listing::of(&snapshot, &[], &emptied));
        assert_eq!(differing, ["bodies", "body bytes"], "{text}");
        assert!(text.contains("count differs"), "{text}");
    }
}

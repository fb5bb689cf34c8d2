//! Values the conformance suite writes: a hand-made fixture that uses every
//! [`Change`] variant with unusual values, and a deterministic random workload.

use crate::Change;
use chrono::{DateTime, Utc};
use deputy_types::{
    AcceptedDomain, AcceptedDomainType, AppRole, AppSecret, AuditRecord, EmailAddress, Folder, FolderAce, FolderId,
    FolderRights, FolderUser, InheritanceType, MailboxAce, MailboxRights, Organization, Recipient, RecipientId,
    RecipientType, RoleAssignment, SendAsAce, ServicePrincipal, SharingFlags, WellKnownFolder,
};
use uuid::Uuid;

/// The name of every [`Change`] variant; [`variant`] maps a change to one of them.
pub const VARIANTS: [&str; 17] = [
    "SetOrganization",
    "PutAcceptedDomain",
    "DeleteAcceptedDomain",
    "PutRecipient",
    "DeleteRecipient",
    "AddMember",
    "RemoveMember",
    "PutMailboxAce",
    "DeleteMailboxAce",
    "PutSendAsAce",
    "DeleteSendAsAce",
    "PutFolder",
    "DeleteFolder",
    "PutFolderAce",
    "DeleteFolderAce",
    "PutServicePrincipal",
    "DeleteServicePrincipal",
];

/// The variant's name. The match is exhaustive on purpose: a new variant does
/// not compile until the suite knows about it.
pub fn variant(change: &Change) -> &'static str {
    match change {
        Change::SetOrganization(_) => "SetOrganization",
        Change::PutAcceptedDomain(_) => "PutAcceptedDomain",
        Change::DeleteAcceptedDomain { .. } => "DeleteAcceptedDomain",
        Change::PutRecipient(_) => "PutRecipient",
        Change::DeleteRecipient(_) => "DeleteRecipient",
        Change::AddMember { .. } => "AddMember",
        Change::RemoveMember { .. } => "RemoveMember",
        Change::PutMailboxAce(_) => "PutMailboxAce",
        Change::DeleteMailboxAce { .. } => "DeleteMailboxAce",
        Change::PutSendAsAce(_) => "PutSendAsAce",
        Change::DeleteSendAsAce(_) => "DeleteSendAsAce",
        Change::PutFolder(_) => "PutFolder",
        Change::DeleteFolder(_) => "DeleteFolder",
        Change::PutFolderAce(_) => "PutFolderAce",
        Change::DeleteFolderAce { .. } => "DeleteFolderAce",
        Change::PutServicePrincipal(_) => "PutServicePrincipal",
        Change::DeleteServicePrincipal(_) => "DeleteServicePrincipal",
    }
}

/// A time `ms` milliseconds after the Unix epoch.
pub fn at_ms(ms: i64) -> DateTime<Utc> {
    match DateTime::from_timestamp_millis(ms) {
        Some(t) => t,
        None => panic!("{ms} ms is outside the range of DateTime"),
    }
}

/// 2024-01-01T00:00:00Z in milliseconds: where fixture audit times start.
pub const BASE_MS: i64 = 1_704_067_200_000;

fn addr(s: &str) -> EmailAddress {
    match EmailAddress::parse(s) {
        Ok(a) => a,
        Err(e) => panic!("fixture address {s}: {e}"),
    }
}

/// Recipient `n` of the fixture pools.
pub fn rid(n: u64) -> RecipientId {
    RecipientId::from_u128(0x5EED_0000_0000_0000_0000_0000_0000_0000 | u128::from(n))
}

/// Folder `n` of the fixture pools.
pub fn fid(n: u64) -> FolderId {
    FolderId::from_u128(0xF01D_0000_0000_0000_0000_0000_0000_0000 | u128::from(n))
}

/// A recipient with every optional field filled and awkward text, so a
/// backend that drops or mangles any field fails.
pub fn rich_recipient(n: u64, revision: u64) -> Recipient {
    // Nanoseconds on purpose: the record must come back exactly.
    let created = at_ms(BASE_MS - 86_400_000) + chrono::Duration::nanoseconds(123_456_789 + revision as i64);
    let mut r = Recipient::new(rid(n), RecipientType::UserMailbox, "Zoë O'Brien, \"Jr\"", "zoe", created);
    r.display_name = format!("Zoë 😀 O'Brien r{revision}\n\ttabbed");
    r.primary_smtp = Some(addr(&format!("Zoe.OBrien{n}@Contoso.TEST")));
    r.proxy_addresses = vec![addr(&format!("zoe{n}@contoso.test")), addr(&format!("z{n}@fabrikam.test"))];
    r.upn = Some(format!("zoe{n}@contoso.test"));
    r.external_address = Some(addr("zoe@external.test"));
    r.hidden = true;
    r.account_disabled = true;
    r.is_admin = true;
    r.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned());
    r.grant_send_on_behalf_to = vec![rid(n + 1), rid(n + 2)];
    r.message_copy_for_sent_as = true;
    r.message_copy_for_send_on_behalf = true;
    r.recipient_filter = Some("(Department -eq 'Sales') -and (Title -like '*\\'*')".to_owned());
    r.attributes =
        vec![("Department".to_owned(), "Sales ' \" %".to_owned()), ("CustomAttribute1".to_owned(), String::new())];
    r
}

/// A recipient with every optional field empty.
pub fn plain_recipient(n: u64, kind: RecipientType, revision: u64) -> Recipient {
    Recipient::new(rid(n), kind, &format!("Plain {n} r{revision}"), &format!("plain{n}"), at_ms(BASE_MS + n as i64))
}

/// Registered application `n`'s `ObjectId`.
pub fn spid(n: u64) -> Uuid {
    Uuid::from_u128(0xA990_0000_0000_0000_0000_0000_0000_0000 | u128::from(n))
}

/// Registered application `n` at `revision`: `revision` secrets (with
/// nanosecond times and awkward text) and `revision` role assignments, so a
/// backend that drops or mangles any field fails.
pub fn service_principal(n: u64, revision: u64) -> ServicePrincipal {
    let start = at_ms(BASE_MS) + chrono::Duration::nanoseconds(987_654_321 + revision as i64);
    let secrets = (0..revision)
        .map(|i| AppSecret {
            key_id: Uuid::from_u128(0x5EC0_0000_0000_0000_0000_0000_0000_0000 | u128::from(n * 100 + i)),
            display_name: format!("Zoë's \"key\" {i} 😀"),
            hint: format!("a{i}~"),
            hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${n}x{i}"),
            start,
            end: start + chrono::Duration::days(730),
        })
        .collect();
    let roles = (0..revision)
        .map(|i| {
            let role = AppRole::ALL[(n + i) as usize % AppRole::ALL.len()];
            RoleAssignment { name: format!("{}-App {n} ' %", role.role_name()), role }
        })
        .collect();
    ServicePrincipal {
        id: spid(n),
        app_id: Uuid::from_u128(0xA991_0000_0000_0000_0000_0000_0000_0000 | u128::from(n)),
        display_name: format!("App {n} r{revision}\n'quoted' 😀"),
        secrets,
        roles,
    }
}

fn folder(n: u64, mailbox: u64, parent: Option<u64>, name: &str, well_known: Option<WellKnownFolder>) -> Folder {
    Folder { id: fid(n), mailbox: rid(mailbox), parent: parent.map(fid), name: name.to_owned(), well_known }
}

/// Changes that together use every variant with unusual values: puts first,
/// then replacements and deletions of some of them.
pub fn every_change() -> Vec<Change> {
    let org = |name: &str| Organization { name: name.to_owned(), primary_domain: "contoso.test".to_owned() };
    let domain =
        |d: &str, kind, default| AcceptedDomain { name: format!("Domain {d}"), domain: d.to_owned(), kind, default };
    vec![
        Change::SetOrganization(org("Contoso, Ltd. ✓")),
        Change::PutAcceptedDomain(domain("contoso.test", AcceptedDomainType::Authoritative, true)),
        Change::PutAcceptedDomain(domain("fabrikam.test", AcceptedDomainType::InternalRelay, false)),
        Change::PutAcceptedDomain(domain("relay.test", AcceptedDomainType::ExternalRelay, false)),
        Change::PutRecipient(rich_recipient(1, 0)),
        Change::PutRecipient(plain_recipient(2, RecipientType::SharedMailbox, 0)),
        Change::PutRecipient(plain_recipient(3, RecipientType::MailUniversalSecurityGroup, 0)),
        Change::PutRecipient(plain_recipient(4, RecipientType::DynamicDistributionGroup, 0)),
        Change::AddMember { group: rid(3), member: rid(1) },
        Change::AddMember { group: rid(3), member: rid(2) },
        Change::PutMailboxAce(MailboxAce {
            target: rid(2),
            trustee: rid(1),
            rights: MailboxRights::FULL_ACCESS | MailboxRights::READ_PERMISSION,
            deny: false,
            inheritance: InheritanceType::Descendents,
            automapping: false,
        }),
        Change::PutMailboxAce(MailboxAce {
            target: rid(2),
            trustee: rid(1),
            rights: MailboxRights::all(),
            deny: true,
            inheritance: InheritanceType::SelfAndChildren,
            automapping: true,
        }),
        Change::PutSendAsAce(SendAsAce { target: rid(2), trustee: rid(3), deny: false }),
        Change::PutSendAsAce(SendAsAce { target: rid(2), trustee: rid(3), deny: true }),
        Change::PutFolder(folder(1, 2, None, "Top of Information Store", Some(WellKnownFolder::Root))),
        Change::PutFolder(folder(2, 2, Some(1), "Inbox", Some(WellKnownFolder::Inbox))),
        Change::PutFolder(folder(3, 2, Some(2), "Projets 2024 / été", None)),
        Change::PutFolderAce(FolderAce {
            mailbox: rid(2),
            folder: fid(2),
            user: FolderUser::Default,
            rights: FolderRights::FOLDER_VISIBLE,
            flags: SharingFlags::empty(),
        }),
        Change::PutFolderAce(FolderAce {
            mailbox: rid(2),
            folder: fid(2),
            user: FolderUser::Anonymous,
            rights: FolderRights::empty(),
            flags: SharingFlags::empty(),
        }),
        Change::PutFolderAce(FolderAce {
            mailbox: rid(2),
            folder: fid(2),
            user: FolderUser::Recipient(rid(1)),
            rights: FolderRights::all(),
            flags: SharingFlags::DELEGATE | SharingFlags::CAN_VIEW_PRIVATE_ITEMS,
        }),
        Change::SetOrganization(org("Contoso renamed")),
        Change::PutRecipient(rich_recipient(1, 1)),
        Change::DeleteAcceptedDomain { domain: "relay.test".to_owned() },
        Change::DeleteRecipient(rid(4)),
        Change::RemoveMember { group: rid(3), member: rid(2) },
        Change::DeleteMailboxAce { target: rid(2), trustee: rid(1), deny: true },
        Change::DeleteSendAsAce(SendAsAce { target: rid(2), trustee: rid(3), deny: true }),
        Change::DeleteFolder(fid(3)),
        Change::DeleteFolderAce { folder: fid(2), user: FolderUser::Anonymous },
        Change::PutServicePrincipal(service_principal(1, 0)),
        Change::PutServicePrincipal(service_principal(2, 2)),
        Change::PutServicePrincipal(service_principal(3, 1)),
        Change::PutServicePrincipal(service_principal(1, 3)),
        Change::DeleteServicePrincipal(spid(3)),
    ]
}

/// An audit record at `ms` after [`BASE_MS`].
pub fn audit_at(ms: i64, cmdlet: &str, object: &str) -> AuditRecord {
    AuditRecord {
        time: at_ms(BASE_MS + ms),
        caller: "admin@contoso.test".to_owned(),
        cmdlet: cmdlet.to_owned(),
        command: format!("{cmdlet} -Identity '{object}'"),
        object: object.to_owned(),
        succeeded: true,
        error: None,
        before: None,
        after: None,
    }
}

/// A tiny xorshift64* generator: the same seed gives the same sequence in
/// every process and on every backend, with no dependency.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator for `seed` (any value, zero included).
    pub fn new(seed: u64) -> Self {
        Self((seed ^ 0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// One element of `items`.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

const RECIPIENT_POOL: u64 = 10;
const FOLDER_POOL: u64 = 8;
const APP_POOL: u64 = 4;
const DOMAINS: [&str; 4] = ["contoso.test", "fabrikam.test", "northwind.test", "xn--bcher-kva.test"];
const INHERITANCE: [InheritanceType; 5] = [
    InheritanceType::None,
    InheritanceType::All,
    InheritanceType::Children,
    InheritanceType::Descendents,
    InheritanceType::SelfAndChildren,
];
const DOMAIN_TYPES: [AcceptedDomainType; 3] =
    [AcceptedDomainType::Authoritative, AcceptedDomainType::InternalRelay, AcceptedDomainType::ExternalRelay];
/// Cmdlet names the workload audits, in mixed case so searches must ignore case.
pub const CMDLETS: [&str; 4] = ["Add-MailboxPermission", "set-mailbox", "NEW-MAILBOX", "Remove-RecipientPermission"];

/// A deterministic stream of batches over small pools of keys, so that puts
/// replace, deletes hit and miss, and every variant appears.
#[derive(Debug, Clone)]
pub struct Workload {
    rng: Rng,
    max_changes: u64,
    batch: u64,
}

impl Workload {
    /// Batches of 1..=`max_changes` changes drawn from `seed`.
    pub fn new(seed: u64, max_changes: u64) -> Self {
        Self { rng: Rng::new(seed), max_changes: max_changes.max(1), batch: 0 }
    }

    /// The next batch and the 0–2 audit records committed with it. Audit times
    /// are whole milliseconds within a small window, so ties and out-of-order
    /// times are frequent.
    pub fn next_batch(&mut self) -> (Vec<Change>, Vec<AuditRecord>) {
        let batch = self.batch;
        self.batch += 1;
        let n = 1 + self.rng.below(self.max_changes);
        let changes = (0..n).map(|_| self.change(batch)).collect();
        let audit = (0..self.rng.below(3))
            .map(|i| {
                let cmdlet = self.rng.pick(&CMDLETS);
                let mut r = audit_at(self.rng.below(40) as i64 * 1000, cmdlet, &format!("batch {batch}.{i}"));
                r.succeeded = self.rng.below(4) != 0;
                r.error = (!r.succeeded).then(|| format!("failed in batch {batch}"));
                r.after = (self.rng.below(2) == 0).then(|| format!("{{\"batch\":{batch}}}"));
                r
            })
            .collect();
        (changes, audit)
    }

    fn recipient(&mut self) -> RecipientId {
        rid(self.rng.below(RECIPIENT_POOL))
    }

    fn folder_user(&mut self) -> FolderUser {
        match self.rng.below(4) {
            0 => FolderUser::Default,
            1 => FolderUser::Anonymous,
            _ => FolderUser::Recipient(self.recipient()),
        }
    }

    fn change(&mut self, batch: u64) -> Change {
        let r = &mut self.rng;
        match r.below(VARIANTS.len() as u64) {
            0 => Change::SetOrganization(Organization {
                name: format!("Org {batch}"),
                primary_domain: r.pick(&DOMAINS).to_owned(),
            }),
            1 => Change::PutAcceptedDomain(AcceptedDomain {
                name: format!("Domain b{batch}"),
                domain: r.pick(&DOMAINS).to_owned(),
                kind: r.pick(&DOMAIN_TYPES),
                default: r.below(2) == 0,
            }),
            2 => Change::DeleteAcceptedDomain { domain: r.pick(&DOMAINS).to_owned() },
            3 => {
                let n = r.below(RECIPIENT_POOL);
                if r.below(2) == 0 {
                    Change::PutRecipient(rich_recipient(n, batch))
                } else {
                    let kind = r.pick(&RecipientType::ALL);
                    Change::PutRecipient(plain_recipient(n, kind, batch))
                }
            }
            4 => Change::DeleteRecipient(self.recipient()),
            5 => Change::AddMember { group: self.recipient(), member: self.recipient() },
            6 => Change::RemoveMember { group: self.recipient(), member: self.recipient() },
            7 => Change::PutMailboxAce(MailboxAce {
                target: self.recipient(),
                trustee: self.recipient(),
                rights: MailboxRights::from_bits_truncate(self.rng.next_u64() as u16),
                deny: self.rng.below(3) == 0,
                inheritance: self.rng.pick(&INHERITANCE),
                automapping: self.rng.below(2) == 0,
            }),
            8 => Change::DeleteMailboxAce {
                target: self.recipient(),
                trustee: self.recipient(),
                deny: self.rng.below(3) == 0,
            },
            9 => Change::PutSendAsAce(SendAsAce {
                target: self.recipient(),
                trustee: self.recipient(),
                deny: self.rng.below(3) == 0,
            }),
            10 => Change::DeleteSendAsAce(SendAsAce {
                target: self.recipient(),
                trustee: self.recipient(),
                deny: self.rng.below(3) == 0,
            }),
            11 => {
                let n = r.below(FOLDER_POOL);
                let parent = (n > 0).then(|| r.below(n));
                let well_known = (r.below(2) == 0).then(|| r.pick(&WellKnownFolder::ALL));
                Change::PutFolder(folder(
                    n,
                    r.below(RECIPIENT_POOL),
                    parent,
                    &format!("Folder {n} b{batch}"),
                    well_known,
                ))
            }
            12 => Change::DeleteFolder(fid(r.below(FOLDER_POOL))),
            13 => Change::PutFolderAce(FolderAce {
                mailbox: self.recipient(),
                folder: fid(self.rng.below(FOLDER_POOL)),
                user: self.folder_user(),
                rights: FolderRights::from_bits_truncate(self.rng.next_u64() as u32),
                flags: SharingFlags::from_bits_truncate(self.rng.next_u64() as u8),
            }),
            14 => Change::DeleteFolderAce { folder: fid(self.rng.below(FOLDER_POOL)), user: self.folder_user() },
            15 => Change::PutServicePrincipal(service_principal(r.below(APP_POOL), r.below(4))),
            _ => Change::DeleteServicePrincipal(spid(r.below(APP_POOL))),
        }
    }
}

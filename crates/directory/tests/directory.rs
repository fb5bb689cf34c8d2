//! The directory through its public API: resolution (spec §1), membership and
//! expansion (spec §2, §6), accepted domains.

#![expect(clippy::unwrap_used, reason = "fixture helpers outside #[test]: a panic there is a failed test")]

use chrono::{TimeZone, Utc};
use deputy_directory::{Directory, DirectoryError, ResolveError};
use deputy_types::{
    AcceptedDomain, AcceptedDomainType, EmailAddress, Organization, Recipient, RecipientId, RecipientType,
};

fn org() -> Organization {
    Organization { name: "Contoso".into(), primary_domain: "contoso.test".into() }
}

fn id(n: u128) -> RecipientId {
    RecipientId::from_u128(n)
}

fn recipient(n: u128, kind: RecipientType, name: &str, alias: &str) -> Recipient {
    let created = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
    let mut r = Recipient::new(id(n), kind, name, alias, created);
    if kind.is_mail_enabled() {
        r.primary_smtp = Some(EmailAddress::parse(&format!("{alias}@contoso.test")).unwrap());
    }
    if kind.can_sign_in() {
        r.upn = Some(format!("{alias}@contoso.test"));
    }
    r
}

fn mailbox(n: u128, name: &str, alias: &str) -> Recipient {
    recipient(n, RecipientType::UserMailbox, name, alias)
}

/// Mary (1), Rob (2), and a shared mailbox Sales (3) with a proxy address.
fn fixture() -> Directory {
    let mut d = Directory::new(org());
    d.put(mailbox(1, "Mary Smith", "mary"));
    let mut rob = mailbox(2, "Rob Young", "rob");
    rob.upn = Some("robert.young@corp.contoso.test".into());
    d.put(rob);
    let mut sales = recipient(3, RecipientType::SharedMailbox, "Sales", "sales");
    sales.proxy_addresses = vec![EmailAddress::parse("orders@contoso.test").unwrap()];
    sales.display_name = "Sales Team".into();
    d.put(sales);
    d
}

fn names(d: &Directory, ids: &[RecipientId]) -> Vec<String> {
    ids.iter().map(|i| d.get(*i).unwrap().name.clone()).collect()
}

#[test]
fn resolves_every_identity_form_ignoring_case() {
    // spec §1: Name, Alias, any SMTP address, DN, Guid, UPN (+ DOMAIN\alias).
    let d = fixture();
    let forms = [
        "Mary Smith",
        "MARY SMITH",
        "mary",
        "Mary",
        "mary@contoso.test",
        "MARY@Contoso.TEST",
        "SMTP:mary@contoso.test",
        "smtp:Mary@contoso.test",
        "CN=Mary Smith,CN=Users,DC=contoso,DC=test",
        "cn=mary smith,cn=users,dc=contoso,dc=test",
        "00000000-0000-0000-0000-000000000001",
        "{00000000-0000-0000-0000-000000000001}",
        "CONTOSO\\mary",
        "contoso\\MARY",
        "  mary  ",
    ];
    for form in forms {
        assert_eq!(d.resolve(form).map(|r| r.id), Ok(id(1)), "{form}");
    }
    assert_eq!(d.resolve("Robert.Young@corp.contoso.test").map(|r| r.id), Ok(id(2)), "UPN");
    assert_eq!(d.resolve("orders@contoso.test").map(|r| r.id), Ok(id(3)), "proxy address");
    assert_eq!(d.resolve("smtp:ORDERS@contoso.test").map(|r| r.id), Ok(id(3)), "prefixed proxy");
}

#[test]
fn unknown_identity_is_not_found_with_exchange_text() {
    // exchange-reference.md §1.1
    let d = fixture();
    for bad in ["nobody", "", "fabrikam\\mary", "00000000-0000-0000-0000-000000000099", "mary@fabrikam.test"] {
        assert_eq!(d.resolve(bad).map(|r| r.id), Err(ResolveError::NotFound(bad.into())), "{bad}");
    }
    assert_eq!(
        d.resolve("nobody").unwrap_err().to_string(),
        "Couldn't find object \"nobody\". Please make sure that it was spelled correctly or specify a different object."
    );
}

#[test]
fn value_matching_two_recipients_is_ambiguous_and_lists_both() {
    // spec §1: never guess. Rob's alias equals the Name of another recipient.
    let mut d = fixture();
    d.put(mailbox(4, "rob", "robbie"));
    let err = d.resolve("ROB").unwrap_err();
    assert_eq!(err, ResolveError::Ambiguous { value: "ROB".into(), matches: vec!["rob".into(), "Rob Young".into()] });
    assert_eq!(
        err.to_string(),
        "The operation couldn't be performed because 'ROB' matches multiple entries. Matches: rob, Rob Young."
    );
}

#[test]
fn one_recipient_matching_by_several_forms_is_not_ambiguous() {
    let mut d = Directory::new(org());
    d.put(mailbox(1, "mary", "mary"));
    assert_eq!(d.resolve("mary").map(|r| r.id), Ok(id(1)));
}

#[test]
fn resolve_where_ignores_recipients_the_caller_rejects() {
    let mut d = fixture();
    d.put(recipient(4, RecipientType::MailUniversalDistributionGroup, "rob", "robgroup"));
    assert!(matches!(d.resolve("rob"), Err(ResolveError::Ambiguous { .. })));
    let only_mailboxes = |r: &Recipient| r.kind.has_mailbox();
    assert_eq!(d.resolve_where("rob", &only_mailboxes).map(|r| r.id), Ok(id(2)));
    assert_eq!(
        d.resolve_where("robgroup", &only_mailboxes).map(|r| r.id),
        Err(ResolveError::NotFound("robgroup".into()))
    );
}

#[test]
fn rename_and_address_change_reindex_every_key() {
    let mut d = fixture();
    let mut mary = d.get(id(1)).unwrap().clone();
    mary.name = "Mary Jones".into();
    mary.alias = "mjones".into();
    mary.primary_smtp = Some(EmailAddress::parse("mjones@contoso.test").unwrap());
    mary.proxy_addresses = vec![EmailAddress::parse("mary@contoso.test").unwrap()];
    mary.upn = Some("mjones@contoso.test".into());
    d.put(mary);
    assert_eq!(d.len(), 3);
    for gone in ["Mary Smith", "mary", "CN=Mary Smith,CN=Users,DC=contoso,DC=test", "CONTOSO\\mary"] {
        assert!(matches!(d.resolve(gone), Err(ResolveError::NotFound(_))), "{gone} still resolves");
    }
    for now in [
        "Mary Jones",
        "mjones",
        "mjones@contoso.test",
        "mary@contoso.test",
        "CN=Mary Jones,CN=Users,DC=contoso,DC=test",
    ] {
        assert_eq!(d.resolve(now).map(|r| r.id), Ok(id(1)), "{now}");
    }
    assert!(!d.name_taken("Mary Smith", None));
    assert!(d.name_taken("mary jones", None));
}

#[test]
fn set_organization_moves_distinguished_names() {
    let mut d = fixture();
    d.set_organization(Organization { name: "Contoso".into(), primary_domain: "corp.contoso.test".into() });
    assert!(d.resolve("CN=Mary Smith,CN=Users,DC=contoso,DC=test").is_err());
    assert_eq!(d.resolve("CN=Mary Smith,CN=Users,DC=corp,DC=contoso,DC=test").map(|r| r.id), Ok(id(1)));
    assert_eq!(d.resolve("corp\\mary").map(|r| r.id), Ok(id(1)));
    assert_eq!(d.distinguished_name(d.get(id(1)).unwrap()), "CN=Mary Smith,CN=Users,DC=corp,DC=contoso,DC=test");
}

#[test]
fn remove_drops_keys_and_memberships_both_ways() {
    let mut d = fixture();
    let g = 10;
    d.put(recipient(g, RecipientType::MailUniversalDistributionGroup, "All", "all"));
    d.put(recipient(11, RecipientType::MailUniversalDistributionGroup, "Outer", "outer"));
    d.add_member(id(g), id(1));
    d.add_member(id(g), id(2));
    d.add_member(id(11), id(g));
    d.remove(id(1));
    assert!(d.get(id(1)).is_none());
    assert!(d.resolve("mary").is_err());
    assert!(d.by_address("mary@contoso.test").is_none());
    assert_eq!(d.members(id(g)), &[id(2)]);
    assert!(d.member_of(id(1)).is_empty());
    d.remove(id(g));
    assert!(d.members(id(11)).is_empty());
    assert!(d.member_of(id(2)).is_empty());
    assert_eq!(d.len(), 3);
}

#[test]
fn membership_is_idempotent_and_listed_both_ways() {
    let mut d = fixture();
    d.put(recipient(10, RecipientType::MailUniversalSecurityGroup, "Staff", "staff"));
    d.add_member(id(10), id(1));
    d.add_member(id(10), id(1));
    d.add_member(id(10), id(2));
    assert_eq!(d.members(id(10)), &[id(1), id(2)]);
    assert_eq!(d.member_of(id(1)), &[id(10)]);
    assert!(d.is_member(id(10), id(2)));
    d.remove_member(id(10), id(1));
    d.remove_member(id(10), id(1));
    assert_eq!(d.members(id(10)), &[id(2)]);
    assert!(d.member_of(id(1)).is_empty());
}

#[test]
fn by_address_finds_primary_and_proxy_ignoring_case_only() {
    let d = fixture();
    assert_eq!(d.by_address("MARY@contoso.TEST").map(|r| r.id), Some(id(1)));
    assert_eq!(d.by_address("orders@contoso.test").map(|r| r.id), Some(id(3)));
    assert!(d.by_address("Mary Smith").is_none(), "only addresses route");
    assert!(d.by_address("mary").is_none());
}

#[test]
fn taken_checks_exclude_the_recipient_being_edited() {
    let d = fixture();
    assert!(d.name_taken("MARY SMITH", None));
    assert!(!d.name_taken("Mary Smith", Some(id(1))));
    assert!(d.alias_taken("Rob", Some(id(1))));
    assert!(!d.alias_taken("rob", Some(id(2))));
    assert!(!d.alias_taken("nobody", None));
    assert_eq!(d.address_taken("ORDERS@contoso.test", Some(id(1))).map(|r| r.id), Some(id(3)));
    assert_eq!(d.address_taken("smtp:orders@contoso.test", None).map(|r| r.id), Some(id(3)));
    assert!(d.address_taken("orders@contoso.test", Some(id(3))).is_none());
}

#[test]
fn search_matches_prefix_and_substring_of_names_and_addresses() {
    // -Anr (exchange-reference.md §1.1)
    let d = fixture();
    let found = |t: &str| d.search(t).into_iter().map(|r| r.name.clone()).collect::<Vec<_>>();
    assert_eq!(found("ROB"), ["Rob Young"]);
    assert_eq!(found("team"), ["Sales"], "display name");
    assert_eq!(found("orders"), ["Sales"], "proxy address");
    assert_eq!(found("smith"), ["Mary Smith"], "substring");
    // Prefix matches come before substring matches.
    assert_eq!(found("s"), ["Sales", "Mary Smith", "Rob Young"]);
    assert!(found("zzz").is_empty());
    let mut d = d;
    let mut rob = d.get(id(2)).unwrap().clone();
    rob.set_attribute("LastName", "Youngblood");
    d.put(rob);
    assert_eq!(d.search("blood").into_iter().map(|r| r.id).collect::<Vec<_>>(), [id(2)], "LastName");
}

#[test]
fn accepted_domains_are_replaced_by_domain_and_matched_ignoring_case() {
    let mut d = fixture();
    let domain = |name: &str, default| AcceptedDomain {
        name: name.into(),
        domain: "contoso.test".into(),
        kind: AcceptedDomainType::Authoritative,
        default,
    };
    d.put_accepted_domain(domain("first", false));
    d.put_accepted_domain(domain("second", true));
    assert_eq!(d.accepted_domains().len(), 1);
    assert_eq!(d.accepted_domains()[0].name, "second");
    assert!(d.is_accepted_domain("CONTOSO.test"));
    assert!(!d.is_accepted_domain("fabrikam.test"));
    d.remove_accepted_domain("Contoso.Test");
    assert!(!d.is_accepted_domain("contoso.test"));
}

fn group(d: &mut Directory, n: u128, name: &str, members: &[u128]) {
    d.put(recipient(n, RecipientType::MailUniversalDistributionGroup, name, &name.to_lowercase().replace(' ', "")));
    for m in members {
        d.add_member(id(n), id(*m));
    }
}

#[test]
fn non_group_expands_to_itself() {
    let d = fixture();
    assert_eq!(d.expand(id(1)), Ok(vec![id(1)]));
    assert_eq!(d.expand(id(99)), Err(DirectoryError::UnknownRecipient(id(99))));
}

#[test]
fn nested_groups_deliver_to_each_mailbox_once_in_first_visit_order() {
    // spec §6: nested groups, each mailbox once, groups never returned.
    let mut d = fixture();
    group(&mut d, 20, "Inner", &[3, 1]);
    group(&mut d, 21, "Outer", &[2, 20, 1]);
    assert_eq!(names(&d, &d.expand(id(21)).unwrap()), ["Rob Young", "Sales", "Mary Smith"]);
}

#[test]
fn cyclic_groups_terminate_and_deliver_once() {
    // spec §2: cycles tolerated.
    let mut d = fixture();
    group(&mut d, 20, "A", &[1, 21]);
    group(&mut d, 21, "B", &[2, 20]);
    group(&mut d, 22, "Self", &[22, 3]);
    assert_eq!(d.expand(id(20)), Ok(vec![id(1), id(2)]));
    assert_eq!(d.expand(id(21)), Ok(vec![id(2), id(1)]));
    assert_eq!(d.expand(id(22)), Ok(vec![id(3)]));
}

#[test]
fn expansion_skips_accounts_and_security_groups_without_mail() {
    let mut d = fixture();
    d.put(recipient(5, RecipientType::User, "Plain User", "plain"));
    d.put(recipient(6, RecipientType::MailUser, "Contractor", "contractor"));
    d.put(recipient(30, RecipientType::SecurityGroup, "Secret", "secret"));
    d.add_member(id(30), id(2));
    group(&mut d, 20, "Mixed", &[5, 6, 30, 1]);
    assert_eq!(names(&d, &d.expand(id(20)).unwrap()), ["Contractor", "Mary Smith"]);
    // Asked for directly, a security group still expands (permission through a group, spec §2).
    assert_eq!(d.expand(id(30)), Ok(vec![id(2)]));
}

#[test]
fn deep_group_chains_expand_without_recursion() {
    let mut d = fixture();
    for n in 0..5_000u128 {
        group(&mut d, 1_000 + n, &format!("G{n}"), &[1_001 + n]);
    }
    d.add_member(id(5_999), id(1));
    assert_eq!(d.expand(id(1_000)), Ok(vec![id(1)]));
}

fn dynamic(d: &mut Directory, n: u128, name: &str, filter: &str) {
    let mut g = recipient(n, RecipientType::DynamicDistributionGroup, name, &name.to_lowercase().replace(' ', ""));
    g.recipient_filter = Some(filter.into());
    d.put(g);
}

#[test]
fn dynamic_groups_compute_members_from_their_filter() {
    // spec §6: Department -eq 'Sales' -and RecipientType -eq 'UserMailbox'
    let mut d = fixture();
    for n in [1, 3] {
        let mut r = d.get(id(n)).unwrap().clone();
        r.set_attribute("Department", "Sales");
        d.put(r);
    }
    let mut arb = recipient(7, RecipientType::ArbitrationMailbox, "SystemMailbox", "sysmbx");
    arb.set_attribute("Department", "Sales");
    d.put(arb);
    dynamic(&mut d, 40, "Sales People", "Department -eq 'Sales' -and RecipientType -eq 'UserMailbox'");
    assert_eq!(names(&d, &d.dynamic_members(id(40)).unwrap()), ["Mary Smith", "Sales"]);
    dynamic(&mut d, 41, "Persons", "RecipientTypeDetails -eq 'UserMailbox'");
    assert_eq!(names(&d, &d.dynamic_members(id(41)).unwrap()), ["Mary Smith", "Rob Young"]);
}

#[test]
fn dynamic_member_of_group_uses_distinguished_names() {
    let mut d = fixture();
    group(&mut d, 20, "Managers", &[2]);
    dynamic(&mut d, 40, "Managers Dyn", "MemberOfGroup -eq 'CN=Managers,CN=Users,DC=contoso,DC=test'");
    assert_eq!(d.dynamic_members(id(40)), Ok(vec![id(2)]));
    d.add_member(id(20), id(1));
    assert_eq!(d.dynamic_members(id(40)), Ok(vec![id(1), id(2)]), "membership changes apply at once");
}

#[test]
fn expansion_goes_through_dynamic_groups_nested_in_static_ones() {
    let mut d = fixture();
    dynamic(&mut d, 40, "Shared Ones", "RecipientTypeDetails -eq 'SharedMailbox'");
    group(&mut d, 20, "Everyone", &[1, 40, 3, 2]);
    assert_eq!(names(&d, &d.expand(id(20)).unwrap()), ["Mary Smith", "Sales", "Rob Young"]);
    // A dynamic group whose filter matches groups, including one that contains it: still terminates.
    dynamic(&mut d, 41, "All Named", "Name -like '*'");
    d.add_member(id(20), id(41));
    // Its members by Name: "Everyone" (expanded first, in its own order), then the mailboxes already seen.
    let all = d.expand(id(41)).unwrap();
    assert_eq!(names(&d, &all), ["Mary Smith", "Sales", "Rob Young"]);
}

#[test]
fn dynamic_group_errors_name_the_group_and_the_problem() {
    let mut d = fixture();
    dynamic(&mut d, 40, "Broken", "Colour -eq 'red'");
    let err = d.dynamic_members(id(40)).unwrap_err();
    assert!(matches!(&err, DirectoryError::Filter { group, .. } if group == "Broken"));
    assert!(err.to_string().contains("'Colour'"), "{err}");
    group(&mut d, 20, "Holder", &[40]);
    assert!(matches!(d.expand(id(20)), Err(DirectoryError::Filter { .. })));
    let mut none = recipient(41, RecipientType::DynamicDistributionGroup, "Empty", "empty");
    none.recipient_filter = None;
    d.put(none);
    assert_eq!(d.dynamic_members(id(41)), Err(DirectoryError::MissingFilter { group: "Empty".into() }));
    assert!(matches!(d.dynamic_members(id(1)), Err(DirectoryError::NotADynamicGroup { .. })));
}

#[test]
fn groups_containing_follows_nesting_and_cycles() {
    let mut d = fixture();
    group(&mut d, 20, "A", &[1, 21]);
    group(&mut d, 21, "B", &[20]);
    group(&mut d, 22, "C", &[21]);
    assert_eq!(d.groups_containing(id(1)), vec![id(20), id(21), id(22)]);
    assert!(d.groups_containing(id(2)).is_empty());
}

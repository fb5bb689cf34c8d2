//! Table tests: one per rule of the permission engine, denials included.

mod support;

use deputy_access::{Action, FolderOp, Grant, Permission, Reason, SendMode, Surface, check_grant};
use deputy_types::{FolderRights, FolderRole, FolderUser, MailboxRights, RecipientType as K};
use support::Org;

/// rob (in Tier1, in Helpdesk), mary, the shared mailbox "info".
fn helpdesk() -> Org {
    let mut o = Org::new();
    o.user("rob");
    o.user("mary");
    o.user("ann");
    o.add("info", K::SharedMailbox);
    o.add("Tier1", K::MailUniversalSecurityGroup);
    o.add("Helpdesk", K::MailUniversalSecurityGroup);
    o.member("Tier1", "rob");
    o.member("Helpdesk", "Tier1");
    o
}

fn granted(o: &Org, permission: Permission, trustee: &str, chain: &[&str]) -> Reason {
    Reason::Granted(Grant { permission, trustee: o.id(trustee), chain: chain.iter().map(|n| o.id(n)).collect() })
}

// spec §8: the owner may do everything with its own mailbox and address.
#[test]
fn owner_is_allowed_every_action() {
    let o = helpdesk();
    for action in [Action::OpenMailbox, Action::SendAs, Action::SendOnBehalf] {
        let d = o.decide("rob", action, "rob");
        assert!(d.allowed && d.reason == Reason::Owner && d.mode.is_none(), "{action:?}: {d:?}");
    }
    let d = o.decide("rob", Action::Send, "rob");
    assert_eq!((d.allowed, d.mode, d.reason), (true, Some(SendMode::Own), Reason::Owner));
    let d = o.folder_op("rob", "rob/Calendar", FolderOp::ManagePermissions);
    assert_eq!((d.allowed, d.reason), (true, Reason::Owner));
    let (rights, _, reason) = o.index.folder_rights(o.id("rob"), o.folder("rob/Inbox"));
    assert_eq!((rights, reason), (FolderRole::Owner.rights(), Reason::Owner));
}

// spec §2: only kinds that sign in, with an enabled account, can act.
#[test]
fn principals_that_cannot_act_are_refused_first() {
    let mut o = helpdesk();
    o.full_access("mary", "info");
    o.full_access("mary", "Tier1");
    let d = o.decide("info", Action::OpenMailbox, "mary");
    assert_eq!((d.allowed, d.reason), (false, Reason::PrincipalCannotAct(K::SharedMailbox)));
    let d = o.decide("Tier1", Action::OpenMailbox, "mary");
    assert_eq!(d.reason, Reason::PrincipalCannotAct(K::MailUniversalSecurityGroup));
    // Even acting on itself: a shared mailbox never signs in.
    assert_eq!(o.decide("info", Action::Send, "info").reason, Reason::PrincipalCannotAct(K::SharedMailbox));
    o.set("rob", K::UserMailbox, false, true, &[]);
    assert_eq!(o.decide("rob", Action::OpenMailbox, "mary").reason, Reason::PrincipalDisabled);
    o.index.remove_recipient(o.id("rob"));
    assert_eq!(o.decide("rob", Action::OpenMailbox, "mary").reason, Reason::UnknownPrincipal);
    assert!(o.index.delegations(o.id("rob")).is_empty());
}

// spec §3.1: a direct Full Access grant opens the mailbox.
#[test]
fn direct_full_access_opens_mailbox() {
    let mut o = helpdesk();
    assert_eq!(o.decide("rob", Action::OpenMailbox, "info").reason, Reason::NoGrant);
    o.full_access("info", "rob");
    let d = o.decide("rob", Action::OpenMailbox, "info");
    assert!(d.allowed);
    assert_eq!(d.reason, granted(&o, Permission::FullAccess, "rob", &[]));
    // Full Access does not allow sending (spec §3.1).
    assert_eq!(o.decide("rob", Action::Send, "info").reason, Reason::NoGrant);
}

// spec §2: a group grant reaches every transitive member; the chain is the path.
#[test]
fn full_access_through_nested_group_reports_chain() {
    let mut o = helpdesk();
    o.full_access("info", "Helpdesk");
    let d = o.decide("rob", Action::OpenMailbox, "info");
    assert!(d.allowed);
    assert_eq!(d.reason, granted(&o, Permission::FullAccess, "Helpdesk", &["Tier1", "Helpdesk"]));
    assert_eq!(o.explain("rob", &d), "allowed: FullAccess granted to group Helpdesk (rob → Tier1 → Helpdesk)");
    assert_eq!(d.explain(&|id| o.name_of(id)), "allowed: FullAccess granted to group Helpdesk (via Tier1 → Helpdesk)");
}

// spec §3.1: an explicit deny beats any allow, also through nested groups.
#[test]
fn deny_through_nested_group_beats_direct_allow() {
    let mut o = helpdesk();
    o.full_access("info", "rob");
    o.deny_full_access("info", "Helpdesk");
    let d = o.decide("rob", Action::OpenMailbox, "info");
    assert!(!d.allowed);
    let Reason::ExplicitDeny(g) = &d.reason else { panic!("{d:?}") };
    assert_eq!((g.trustee, g.chain.len()), (o.id("Helpdesk"), 2));
    assert!(o.explain("rob", &d).starts_with("denied: FullAccess explicitly denied to group Helpdesk"));
    // Removing the deny restores the allow at once (spec §2).
    o.index.remove_mailbox_ace(o.id("info"), o.id("Helpdesk"), true);
    assert!(o.decide("rob", Action::OpenMailbox, "info").allowed);
}

// spec §3.1: only FullAccess opens a mailbox; an entry is replaced by key.
#[test]
fn other_mailbox_rights_do_not_open_and_put_replaces() {
    let mut o = helpdesk();
    o.mailbox_ace("info", "rob", MailboxRights::READ_PERMISSION | MailboxRights::DELETE_ITEM, false);
    assert_eq!(o.decide("rob", Action::OpenMailbox, "info").reason, Reason::NoGrant);
    o.full_access("info", "rob");
    assert!(o.decide("rob", Action::OpenMailbox, "info").allowed);
    o.mailbox_ace("info", "rob", MailboxRights::READ_PERMISSION, false);
    assert_eq!(o.decide("rob", Action::OpenMailbox, "info").reason, Reason::NoGrant);
}

// spec §3.1–§3.3: a hidden target cannot be opened, sent as or on behalf of.
#[test]
fn hidden_target_is_denied_for_every_non_owner_action() {
    let mut o = helpdesk();
    o.full_access("info", "rob");
    o.send_as("info", "rob", false);
    o.set("info", K::SharedMailbox, true, true, &["rob"]);
    o.role("info/Inbox", "rob", FolderRole::Editor);
    for action in [Action::OpenMailbox, Action::SendAs, Action::SendOnBehalf, Action::Send] {
        let d = o.decide("rob", action, "info");
        assert_eq!((d.allowed, &d.reason), (false, &Reason::Hidden), "{action:?}");
    }
    assert_eq!(o.folder_op("rob", "info/Inbox", FolderOp::Read).reason, Reason::Hidden);
    assert!(o.index.delegations(o.id("rob")).is_empty());
    // The owner of a hidden mailbox still uses it.
    o.set("mary", K::UserMailbox, true, false, &[]);
    assert!(o.decide("mary", Action::Send, "mary").allowed);
}

// spec §2: only recipients with a mailbox can be opened.
#[test]
fn opening_a_group_is_not_a_mailbox() {
    let mut o = helpdesk();
    o.add("Sales", K::MailUniversalDistributionGroup);
    let d = o.decide("rob", Action::OpenMailbox, "Sales");
    assert_eq!(d.reason, Reason::NotAMailbox(K::MailUniversalDistributionGroup));
    let unknown = deputy_types::RecipientId::from_u128(999_999);
    assert_eq!(o.index.decide(o.id("rob"), Action::SendAs, unknown).reason, Reason::UnknownTarget);
}

// spec §2: cycles among groups are tolerated.
#[test]
fn group_cycles_are_tolerated() {
    let mut o = helpdesk();
    o.add("A", K::MailUniversalSecurityGroup);
    o.add("B", K::MailUniversalSecurityGroup);
    o.member("A", "B");
    o.member("B", "A");
    o.member("A", "rob");
    o.send_as("mary", "B", false);
    let d = o.decide("rob", Action::SendAs, "mary");
    assert_eq!(d.reason, granted(&o, Permission::SendAs, "B", &["A", "B"]));
    let groups: Vec<String> = o.index.member_of(o.id("rob")).iter().map(|(g, _)| o.name_of(*g)).collect();
    assert_eq!(groups.len(), 4, "{groups:?}");
    for g in ["A", "B", "Tier1", "Helpdesk"] {
        assert!(groups.contains(&g.to_owned()), "{g} missing from {groups:?}");
    }
}

// spec §6: dynamic distribution groups compute members from a filter and confer nothing.
#[test]
fn dynamic_group_membership_confers_nothing() {
    let mut o = helpdesk();
    o.add("AllStaff", K::DynamicDistributionGroup);
    o.member("AllStaff", "rob");
    o.send_as("mary", "AllStaff", false);
    assert_eq!(o.decide("rob", Action::SendAs, "mary").reason, Reason::NoGrant);
    assert!(o.index.member_of(o.id("rob")).iter().all(|(g, _)| *g != o.id("AllStaff")));
}

// spec §2: membership changes take effect for the very next request.
#[test]
fn membership_removal_is_visible_to_next_decision() {
    let mut o = helpdesk();
    o.full_access("info", "Helpdesk");
    assert!(o.decide("rob", Action::OpenMailbox, "info").allowed);
    o.index.remove_member(o.id("Helpdesk"), o.id("Tier1"));
    assert_eq!(o.decide("rob", Action::OpenMailbox, "info").reason, Reason::NoGrant);
    o.member("Helpdesk", "rob");
    assert_eq!(
        o.decide("rob", Action::OpenMailbox, "info").reason,
        granted(&o, Permission::FullAccess, "Helpdesk", &["Helpdesk"])
    );
    // A removed group no longer confers.
    o.index.remove_recipient(o.id("Helpdesk"));
    assert_eq!(o.decide("rob", Action::OpenMailbox, "info").reason, Reason::NoGrant);
}

// spec §3.4, §4.1: with both, Send As is always used.
#[test]
fn send_as_wins_over_send_on_behalf() {
    let mut o = helpdesk();
    o.set("mary", K::UserMailbox, false, false, &["rob"]);
    let d = o.decide("rob", Action::Send, "mary");
    assert_eq!((d.allowed, d.mode), (true, Some(SendMode::SendOnBehalf)));
    o.send_as("mary", "Tier1", false);
    let d = o.decide("rob", Action::Send, "mary");
    assert_eq!((d.allowed, d.mode), (true, Some(SendMode::SendAs)));
    assert_eq!(d.reason, granted(&o, Permission::SendAs, "Tier1", &["Tier1"]));
    assert_eq!(o.explain("rob", &d), "allowed (Send As): SendAs granted to group Tier1 (rob → Tier1)");
}

// spec §3.3: a distribution group can hold Send on Behalf for its members.
#[test]
fn send_on_behalf_through_distribution_group() {
    let mut o = helpdesk();
    o.add("Assistants", K::MailUniversalDistributionGroup);
    o.member("Assistants", "rob");
    o.set("mary", K::UserMailbox, false, false, &["Assistants"]);
    let d = o.decide("rob", Action::SendOnBehalf, "mary");
    assert_eq!(d.reason, granted(&o, Permission::SendOnBehalf, "Assistants", &["Assistants"]));
    // Upserting the recipient replaces the whole list (spec §3.3).
    o.set("mary", K::UserMailbox, false, false, &["ann"]);
    assert_eq!(o.decide("rob", Action::SendOnBehalf, "mary").reason, Reason::NoGrant);
    assert!(o.decide("ann", Action::SendOnBehalf, "mary").allowed);
}

// spec §3.2, §4.1: a Send As deny beats the allow but leaves Send on Behalf.
#[test]
fn send_as_deny_falls_back_to_send_on_behalf() {
    let mut o = helpdesk();
    o.send_as("mary", "rob", false);
    o.send_as("mary", "Helpdesk", true);
    let d = o.decide("rob", Action::Send, "mary");
    assert!(!d.allowed && matches!(d.reason, Reason::ExplicitDeny(_)), "{d:?}");
    assert!(matches!(o.decide("rob", Action::SendAs, "mary").reason, Reason::ExplicitDeny(_)));
    o.set("mary", K::UserMailbox, false, false, &["rob"]);
    let d = o.decide("rob", Action::Send, "mary");
    assert_eq!((d.allowed, d.mode), (true, Some(SendMode::SendOnBehalf)));
    assert_eq!(o.decide("ann", Action::Send, "mary").reason, Reason::NoGrant);
}

// spec §5: Full Access implies Owner rights on every folder, unless denied.
#[test]
fn full_access_gives_owner_rights_on_folders() {
    let mut o = helpdesk();
    o.full_access("mary", "Tier1");
    let d = o.folder_op("rob", "mary/Inbox", FolderOp::ManagePermissions);
    assert_eq!(d.reason, granted(&o, Permission::FullAccess, "Tier1", &["Tier1"]));
    o.deny_full_access("mary", "rob");
    o.role("mary/Inbox", "rob", FolderRole::Reviewer);
    let d = o.folder_op("rob", "mary/Inbox", FolderOp::Read);
    assert!(d.allowed);
    assert!(matches!(d.reason, Reason::FolderEntry { chain, .. } if chain.is_empty()));
}

// spec §5: the principal's own entry wins over its groups' entries.
#[test]
fn own_folder_entry_beats_group_entries() {
    let mut o = helpdesk();
    o.role("mary/Inbox", "Helpdesk", FolderRole::Editor);
    o.role("mary/Inbox", "Tier1", FolderRole::Contributor);
    let d = o.folder_op("rob", "mary/Inbox", FolderOp::DeleteItem { creator: None });
    // Union of group entries, the nearest group named.
    let Reason::FolderEntry { user, chain, rights } = &d.reason else { panic!("{d:?}") };
    assert_eq!((*user, chain.len(), *rights), (FolderUser::Recipient(o.id("Tier1")), 1, FolderRole::Editor.rights()));
    o.role("mary/Inbox", "rob", FolderRole::Reviewer);
    let d = o.folder_op("rob", "mary/Inbox", FolderOp::DeleteItem { creator: None });
    let Reason::InsufficientFolderRights { have, .. } = d.reason else { panic!("{d:?}") };
    assert_eq!(have, FolderRole::Reviewer.rights());
    assert!(o.folder_op("rob", "mary/Inbox", FolderOp::Read).allowed);
}

// spec §5: Author edits and deletes only its own items; Editor any item.
#[test]
fn own_items_rules_for_author_editor_and_non_editing_author() {
    let mut o = helpdesk();
    let (rob, mary) = (Some(o.id("rob")), Some(o.id("mary")));
    let cases = [
        (FolderRole::Author, FolderOp::EditItem { creator: rob }, true),
        (FolderRole::Author, FolderOp::EditItem { creator: mary }, false),
        (FolderRole::Author, FolderOp::DeleteItem { creator: rob }, true),
        (FolderRole::Author, FolderOp::DeleteItem { creator: None }, false),
        (FolderRole::Editor, FolderOp::EditItem { creator: mary }, true),
        (FolderRole::Editor, FolderOp::DeleteItem { creator: mary }, true),
        (FolderRole::NonEditingAuthor, FolderOp::EditItem { creator: rob }, false),
        (FolderRole::NonEditingAuthor, FolderOp::DeleteItem { creator: rob }, true),
        (FolderRole::Reviewer, FolderOp::CreateItem, false),
        (FolderRole::Contributor, FolderOp::CreateItem, true),
        (FolderRole::Contributor, FolderOp::Read, false),
        (FolderRole::PublishingAuthor, FolderOp::CreateSubfolder, true),
        (FolderRole::Editor, FolderOp::CreateSubfolder, false),
        (FolderRole::PublishingEditor, FolderOp::ManagePermissions, false),
        (FolderRole::Owner, FolderOp::ManagePermissions, true),
        (FolderRole::None, FolderOp::See, true),
        (FolderRole::None, FolderOp::Read, false),
        (FolderRole::AvailabilityOnly, FolderOp::ReadFreeBusy, true),
        (FolderRole::AvailabilityOnly, FolderOp::See, true),
        (FolderRole::Reviewer, FolderOp::ReadFreeBusy, true),
    ];
    for (role, op, expected) in cases {
        o.role("mary/Inbox", "rob", role);
        let d = o.folder_op("rob", "mary/Inbox", op);
        assert_eq!(d.allowed, expected, "{role:?} {op:?}: {d:?}");
        if !expected {
            assert!(matches!(d.reason, Reason::InsufficientFolderRights { .. }), "{d:?}");
        }
    }
}

// spec §5: Default applies to those without an entry; calendars default to AvailabilityOnly.
#[test]
fn default_entry_and_virtual_calendar_default() {
    let mut o = helpdesk();
    assert!(o.folder_op("rob", "mary/Calendar", FolderOp::ReadFreeBusy).allowed);
    assert!(!o.folder_op("rob", "mary/Calendar", FolderOp::Read).allowed);
    let d = o.folder_op("rob", "mary/Inbox", FolderOp::See);
    let Reason::InsufficientFolderRights { have, source } = d.reason else { panic!("{d:?}") };
    assert!(have.is_empty());
    assert!(matches!(*source, Reason::FolderEntry { user: FolderUser::Default, .. }));
    o.folder_entry("mary/Calendar", FolderUser::Default, FolderRights::empty());
    assert!(!o.folder_op("rob", "mary/Calendar", FolderOp::ReadFreeBusy).allowed);
    o.folder_entry("mary/Inbox", FolderUser::Default, FolderRole::Reviewer.rights());
    assert!(o.folder_op("rob", "mary/Inbox", FolderOp::Read).allowed);
    o.index.remove_folder_ace(o.folder("mary/Inbox"), FolderUser::Default);
    assert!(!o.folder_op("rob", "mary/Inbox", FolderOp::Read).allowed);
}

// spec §5: a folder is asked about through the mailbox that holds it.
#[test]
fn folder_of_another_mailbox_is_unknown_target() {
    let mut o = helpdesk();
    o.role("mary/Inbox", "rob", FolderRole::Owner);
    let action = Action::Folder { folder: o.folder("mary/Inbox"), op: FolderOp::Read };
    assert_eq!(o.decide("rob", action, "ann").reason, Reason::UnknownTarget);
    assert_eq!(o.decide("rob", action, "rob").reason, Reason::UnknownTarget);
    o.index.remove_folder(o.folder("mary/Inbox"));
    assert_eq!(o.decide("rob", action, "mary").reason, Reason::UnknownTarget);
    let (rights, _, reason) = o.index.folder_rights(o.id("rob"), o.folder("mary/Inbox"));
    assert_eq!((rights, reason), (FolderRights::empty(), Reason::UnknownTarget));
}

// spec §8 (Get-DelegatedMailbox): what rob can do elsewhere, and how.
#[test]
fn delegations_list_every_grant_once_with_automapping() {
    let mut o = helpdesk();
    o.full_access("info", "rob");
    o.full_access("info", "Helpdesk");
    o.full_access("mary", "Helpdesk");
    o.full_access("rob", "rob"); // own mailbox: never listed
    o.full_access("ann", "rob");
    o.deny_full_access("ann", "Tier1"); // denied: not listed
    o.send_as("mary", "rob", false);
    o.set("ann", K::UserMailbox, false, false, &["Tier1"]);
    o.role("mary/Calendar", "Helpdesk", FolderRole::Editor);
    o.folder_entry("mary/Inbox", FolderUser::Default, FolderRole::Reviewer.rights()); // Default: not listed
    let list = o.index.delegations(o.id("rob"));
    let got: Vec<(String, Permission, String, usize, bool)> = list
        .iter()
        .map(|d| {
            (o.name_of(d.target), d.grant.permission, o.name_of(d.grant.trustee), d.grant.chain.len(), d.automapped)
        })
        .collect();
    let expected = [
        ("mary", Permission::FullAccess, "Helpdesk", 2, false),
        ("mary", Permission::SendAs, "rob", 0, false),
        ("mary", Permission::Folder, "Helpdesk", 2, false),
        ("ann", Permission::SendOnBehalf, "Tier1", 1, false),
        ("info", Permission::FullAccess, "rob", 0, true),
    ];
    assert_eq!(got.len(), expected.len(), "{got:?}");
    for e in expected {
        let e = (e.0.to_owned(), e.1, e.2.to_owned(), e.3, e.4);
        assert!(got.contains(&e), "{e:?} missing from {got:?}");
    }
    let folder = list.iter().find_map(|d| d.folder).map(|(f, r, _)| (f, r));
    assert_eq!(folder, Some((o.folder("mary/Calendar"), FolderRole::Editor.rights())));
    // Every delegation is something decide allows.
    for d in &list {
        let action = match (d.grant.permission, d.folder) {
            (Permission::FullAccess, _) => Action::OpenMailbox,
            (Permission::SendAs, _) => Action::SendAs,
            (Permission::SendOnBehalf, _) => Action::SendOnBehalf,
            (Permission::Folder, Some((folder, _, _))) => Action::Folder { folder, op: FolderOp::See },
            (Permission::Folder, None) => panic!("folder delegation without folder"),
        };
        assert!(o.index.decide(o.id("rob"), action, d.target).allowed, "{d:?}");
    }
}

// spec §2, §3.1–§3.3, §5: which combinations Exchange accepts, per surface.
#[test]
fn check_grant_follows_the_spec_tables() {
    use Permission::*;
    use Surface::*;
    let cases = [
        (FullAccess, K::SharedMailbox, K::UserMailbox, AdminCenter, true),
        (FullAccess, K::RoomMailbox, K::MailUniversalSecurityGroup, AdminCenter, true),
        (FullAccess, K::ArbitrationMailbox, K::UserMailbox, AdminCenter, false),
        (FullAccess, K::DiscoveryMailbox, K::UserMailbox, Shell, true),
        (FullAccess, K::UserMailbox, K::User, AdminCenter, false),
        (FullAccess, K::UserMailbox, K::User, Shell, true),
        (FullAccess, K::UserMailbox, K::SecurityGroup, Shell, true),
        (FullAccess, K::UserMailbox, K::SharedMailbox, Shell, false),
        (FullAccess, K::UserMailbox, K::MailUniversalDistributionGroup, Shell, false),
        (FullAccess, K::MailUniversalDistributionGroup, K::UserMailbox, Shell, false),
        (FullAccess, K::GroupMailbox, K::UserMailbox, Shell, false),
        (SendAs, K::MailUniversalDistributionGroup, K::UserMailbox, AdminCenter, true),
        (SendAs, K::DynamicDistributionGroup, K::MailUser, AdminCenter, true),
        (SendAs, K::GroupMailbox, K::LinkedMailbox, AdminCenter, true),
        (SendAs, K::MailUser, K::UserMailbox, AdminCenter, true),
        (SendAs, K::UserMailbox, K::MailUniversalDistributionGroup, Shell, false),
        (SendAs, K::UserMailbox, K::User, Shell, false),
        (SendAs, K::User, K::UserMailbox, Shell, false),
        (SendOnBehalf, K::UserMailbox, K::MailUniversalDistributionGroup, AdminCenter, true),
        (SendOnBehalf, K::SharedMailbox, K::UserMailbox, AdminCenter, false),
        (SendOnBehalf, K::SharedMailbox, K::UserMailbox, Shell, true),
        (SendOnBehalf, K::UserMailbox, K::SharedMailbox, Shell, false),
        (SendOnBehalf, K::MailUser, K::UserMailbox, Shell, false),
        (SendOnBehalf, K::GroupMailbox, K::MailUser, AdminCenter, true),
        (Folder, K::SharedMailbox, K::MailUniversalSecurityGroup, AdminCenter, true),
        (Folder, K::UserMailbox, K::MailUniversalDistributionGroup, Shell, false),
        (Folder, K::MailUniversalDistributionGroup, K::UserMailbox, Shell, false),
    ];
    for (permission, target, trustee, surface, ok) in cases {
        let got = check_grant(permission, target, trustee, surface);
        assert_eq!(got.is_ok(), ok, "{permission:?} on {target} for {trustee} from {surface:?}");
    }
}

// spec §2: the refusal names the recipient types and the permission.
#[test]
fn invalid_combination_message_names_both_types() {
    let e = check_grant(Permission::SendOnBehalf, K::UserMailbox, K::SharedMailbox, Surface::Shell).unwrap_err();
    let text = e.to_string();
    assert!(text.starts_with("A SharedMailbox can't be granted SendOnBehalf on a UserMailbox"), "{text}");
    let e = check_grant(Permission::FullAccess, K::ArbitrationMailbox, K::UserMailbox, Surface::AdminCenter);
    assert!(e.unwrap_err().to_string().contains("use the shell"));
    let e = check_grant(Permission::FullAccess, K::GroupMailbox, K::UserMailbox, Surface::Shell).unwrap_err();
    assert!(e.to_string().contains("can be granted only on"), "{e}");
}

//! Which grants Exchange accepts: permission × target kind × trustee kind ×
//! surface (spec §2, §3.1–§3.3, §5).

use crate::{InvalidCombination, Permission, Surface};
use deputy_types::RecipientType::{self, *};
use std::fmt;

/// Whether a rule holds on every surface or only in the shell.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Where {
    Everywhere,
    ShellOnly,
}

/// Where `target` may receive `permission`; `None` when never.
fn target_rule(permission: Permission, target: RecipientType) -> Option<Where> {
    use Where::*;
    match (permission, target) {
        // Spec §3.1: arbitration and discovery mailboxes only through the shell.
        (Permission::FullAccess, UserMailbox | LinkedMailbox | RoomMailbox | EquipmentMailbox | SharedMailbox) => {
            Some(Everywhere)
        }
        (Permission::FullAccess, ArbitrationMailbox | DiscoveryMailbox) => Some(ShellOnly),
        // Spec §3.2; Add-RecipientPermission takes any recipient, mail users included.
        (
            Permission::SendAs,
            UserMailbox
            | LinkedMailbox
            | RoomMailbox
            | EquipmentMailbox
            | SharedMailbox
            | MailUniversalDistributionGroup
            | DynamicDistributionGroup
            | MailUniversalSecurityGroup
            | GroupMailbox
            | MailUser,
        ) => Some(Everywhere),
        // Spec §3.3: shared mailboxes only through the shell.
        (
            Permission::SendOnBehalf,
            UserMailbox
            | LinkedMailbox
            | RoomMailbox
            | EquipmentMailbox
            | MailUniversalDistributionGroup
            | DynamicDistributionGroup
            | MailUniversalSecurityGroup
            | GroupMailbox,
        ) => Some(Everywhere),
        (Permission::SendOnBehalf, SharedMailbox) => Some(ShellOnly),
        // Spec §5: any mailbox has folders.
        (Permission::Folder, t) if t.has_mailbox() => Some(Everywhere),
        _ => None,
    }
}

/// Where `trustee` may hold `permission`; `None` when never.
fn trustee_rule(permission: Permission, trustee: RecipientType) -> Option<Where> {
    use Where::*;
    match (permission, trustee) {
        (_, UserMailbox | LinkedMailbox | MailUser | MailUniversalSecurityGroup) => Some(Everywhere),
        // Spec §2: plain users and security groups hold Full Access, from the shell only.
        (Permission::FullAccess, User | SecurityGroup) => Some(ShellOnly),
        // Spec §3.3: the one permission a distribution group can hold.
        (Permission::SendOnBehalf, MailUniversalDistributionGroup) => Some(Everywhere),
        _ => None,
    }
}

fn allowed_on(rule: Option<Where>, surface: Surface) -> bool {
    match rule {
        Some(Where::Everywhere) => true,
        Some(Where::ShellOnly) => surface == Surface::Shell,
        None => false,
    }
}

/// Whether Exchange lets `trustee` hold `permission` on `target` from `surface` (spec §2, §3.1–§3.3, §5). The error names both types.
pub fn check_grant(
    permission: Permission,
    target: RecipientType,
    trustee: RecipientType,
    surface: Surface,
) -> Result<(), InvalidCombination> {
    if allowed_on(target_rule(permission, target), surface) && allowed_on(trustee_rule(permission, trustee), surface) {
        Ok(())
    } else {
        Err(InvalidCombination { permission, target, trustee })
    }
}

impl Permission {
    /// The Exchange name of the permission (`FullAccess`, `SendAs`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::FullAccess => "FullAccess",
            Self::SendAs => "SendAs",
            Self::SendOnBehalf => "SendOnBehalf",
            Self::Folder => "a folder permission",
        }
    }

    /// Who may hold the permission, for error messages.
    const fn trustees_hint(self) -> &'static str {
        match self {
            Self::FullAccess => {
                "UserMailbox, LinkedMailbox, MailUser or MailUniversalSecurityGroup (User and SecurityGroup from the shell only)"
            }
            Self::SendAs | Self::Folder => "UserMailbox, LinkedMailbox, MailUser or MailUniversalSecurityGroup",
            Self::SendOnBehalf => {
                "UserMailbox, LinkedMailbox, MailUser, MailUniversalSecurityGroup or MailUniversalDistributionGroup"
            }
        }
    }

    /// On what the permission may be granted, for error messages.
    const fn targets_hint(self) -> &'static str {
        match self {
            Self::FullAccess => {
                "user, linked, room, equipment and shared mailboxes (arbitration and discovery mailboxes from the shell only)"
            }
            Self::SendAs => {
                "mailboxes, mail users, distribution groups, dynamic distribution groups, mail-enabled security groups and Microsoft 365 groups"
            }
            Self::SendOnBehalf => {
                "user, linked, room and equipment mailboxes, distribution groups, dynamic distribution groups, mail-enabled security groups and Microsoft 365 groups (shared mailboxes from the shell only)"
            }
            Self::Folder => "folders of any mailbox",
        }
    }
}

impl fmt::Display for InvalidCombination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.permission;
        write!(f, "A {} can't be granted {} on a {}", self.trustee, p.as_str(), self.target)?;
        if check_grant(p, self.target, self.trustee, Surface::Shell).is_ok() {
            return f.write_str(": the admin center doesn't offer this combination; use the shell (spec §2, §3).");
        }
        if target_rule(p, self.target).is_none() {
            write!(f, ": {} can be granted only on {}.", p.as_str(), p.targets_hint())
        } else {
            write!(f, ": {} can be held only by a {}.", p.as_str(), p.trustees_hint())
        }
    }
}

impl std::error::Error for InvalidCombination {}

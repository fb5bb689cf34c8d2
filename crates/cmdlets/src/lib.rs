//! The Exchange cmdlets as administrators type them (interface.md, spec §3–§8).
//!
//! [`ExchangeHost`] implements `deputy_pwsh::Host`: `deputy-pwsh` parses and
//! binds, this crate turns a bound invocation into one `deputy-core` call and
//! the result into Exchange-shaped objects. Invariants: no rule is decided
//! here (the core and the permission engine decide); identities are resolved
//! here only to name the parameter at fault in errors, and the core checks
//! again under its writer lock.

mod apps;
mod calendar;
mod catalog;
mod folders;
mod hybrid;
mod mail;
mod objects;
mod permissions;
mod recipients;
mod resolve;

use async_trait::async_trait;
use deputy_core::{Ctx, Deputy};
use deputy_pwsh::{CommandError, CommandInfo, Host, Invocation, Output};
use std::sync::Arc;

/// Runs Exchange cmdlets on a [`Deputy`] as one signed-in administrator.
#[derive(Debug, Clone)]
pub struct ExchangeHost {
    deputy: Arc<Deputy>,
    caller: String,
}

impl ExchangeHost {
    /// A host acting as `caller` (the administrator's UPN, recorded in the audit log).
    pub fn new(deputy: Arc<Deputy>, caller: &str) -> Self {
        Self { deputy, caller: caller.to_owned() }
    }

    pub(crate) fn ctx(&self, call: &Invocation) -> Ctx {
        let mut ctx = Ctx::new(&self.caller, call.command, &call.line);
        ctx.what_if = call.what_if;
        ctx
    }

    pub(crate) fn deputy(&self) -> &Deputy {
        &self.deputy
    }
}

/// The names of every cmdlet this host runs, for help and completion.
pub fn cmdlet_names() -> Vec<&'static str> {
    catalog::all().map(|c| c.name).collect()
}

#[async_trait]
impl Host for ExchangeHost {
    fn command(&self, name: &str) -> Option<CommandInfo> {
        catalog::find(name)
    }

    async fn invoke(&self, call: Invocation) -> Result<Output, CommandError> {
        let name = call.command;
        if let Some(out) = recipients::invoke(self, &call).await {
            return out;
        }
        if let Some(out) = permissions::invoke(self, &call).await {
            return out;
        }
        if let Some(out) = folders::invoke(self, &call).await {
            return out;
        }
        if let Some(out) = mail::invoke(self, &call).await {
            return out;
        }
        if let Some(out) = apps::invoke(self, &call).await {
            return out;
        }
        if let Some(out) = calendar::invoke(self, &call).await {
            return out;
        }
        if let Some(out) = hybrid::invoke(self, &call).await {
            return out;
        }
        Err(CommandError { message: format!("The cmdlet {name} has no implementation.") })
    }
}

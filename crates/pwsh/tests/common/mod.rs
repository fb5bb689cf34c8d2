//! A small fake Exchange host for the integration tests: a few commands described the way the real cmdlets
//! crate describes them, a fixed directory of mailboxes and permissions, and a record of every call so tests
//! can assert on the arguments the binder produced.

#![allow(dead_code, reason = "each test crate uses a different part of this module")]

use std::sync::Mutex;

use deputy_pwsh::{
    CommandError, CommandInfo, Host, Invocation, Output, ParamInfo, ParamKind as K, RunResult, Session, Value,
};
use deputy_pwsh::{Object, syntax};

pub const MAILBOX_RIGHTS: &[&str] =
    &["FullAccess", "ExternalAccount", "DeleteItem", "ReadPermission", "ChangePermission", "ChangeOwner"];
pub const INHERITANCE: &[&str] = &["None", "All", "Children", "Descendents", "SelfAndChildren"];

/// `(alias, display name, primary SMTP address)` of every mailbox the fake directory holds.
pub const MAILBOXES: &[(&str, &str, &str)] = &[
    ("mary", "Mary Smith", "mary@contoso.com"),
    ("rob", "Rob Young", "rob@contoso.com"),
    ("terry", "Terry Adams", "terry@contoso.com"),
];

/// `(mailbox, user, rights)` of every permission the fake directory holds.
pub const PERMISSIONS: &[(&str, &str, &[&str])] = &[
    ("mary", "CONTOSO\\rob", &["FullAccess"]),
    ("mary", "CONTOSO\\terry", &["ReadPermission"]),
    ("rob", "CONTOSO\\mary", &["FullAccess", "DeleteItem"]),
];

/// The commands the fake host offers.
pub fn commands() -> Vec<CommandInfo> {
    let p = ParamInfo::new;
    vec![
        CommandInfo::new(
            "Get-Mailbox",
            vec![p("Identity", K::String).at(0).by_property_name(), p("ResultSize", K::Int), p("Anr", K::String)],
        ),
        CommandInfo::new(
            "Get-MailboxPermission",
            vec![
                p("Identity", K::String).at(0).mandatory().by_property_name(),
                p("User", K::String),
                p("Owner", K::Switch).mandatory(),
            ],
        )
        // As in Exchange: the Owner set comes first, so binding must fall through to AccessRights when
        // -Owner is not given.
        .sets(vec![&["Identity", "Owner"], &["Identity", "User"]]),
        CommandInfo::new(
            "Add-MailboxPermission",
            vec![
                p("Identity", K::String).at(0).mandatory().by_property_name(),
                p("User", K::String).mandatory(),
                p("AccessRights", K::Enums(MAILBOX_RIGHTS)).mandatory(),
                p("InheritanceType", K::Enum(INHERITANCE)),
                p("AutoMapping", K::Bool),
            ],
        ),
        CommandInfo::new(
            "Set-Mailbox",
            vec![
                p("Identity", K::String).at(0).mandatory().by_property_name(),
                p("GrantSendOnBehalfTo", K::MultiValued),
                p("HiddenFromAddressListsEnabled", K::Bool),
                p("DisplayName", K::String),
                p("Department", K::String),
                p("ExtensionCustomAttribute1", K::Strings),
                p("RecipientLimits", K::Int),
            ],
        ),
        CommandInfo::new(
            "New-Mailbox",
            vec![
                p("Name", K::String).at(0).mandatory(),
                p("Password", K::SecureString),
                p("Alias", K::String),
                p("Shared", K::Switch),
            ],
        ),
        CommandInfo::new("Remove-Mailbox", vec![p("Identity", K::String).at(0).mandatory().by_property_name()]),
        CommandInfo::new(
            "Echo-Args",
            vec![p("Value", K::Any).at(0), p("Second", K::Any).at(1), p("Text", K::String), p("List", K::Strings)],
        ),
    ]
}

/// A mailbox as `Get-Mailbox` returns it.
pub fn mailbox(alias: &str, name: &str, smtp: &str) -> Value {
    Value::Object(
        Object::new("Microsoft.Exchange.Data.Directory.Management.Mailbox")
            .with("Name", name)
            .with("Alias", alias)
            .with("Identity", alias)
            .with("PrimarySmtpAddress", smtp)
            .with("RecipientTypeDetails", "UserMailbox")
            .display(&["Name", "Alias", "PrimarySmtpAddress"]),
    )
}

/// A permission row as `Get-MailboxPermission` returns it.
pub fn permission(identity: &str, user: &str, rights: &[&str]) -> Value {
    Value::Object(
        Object::new("Microsoft.Exchange.Management.RecipientTasks.MailboxAcePresentationObject")
            .with("Identity", identity)
            .with("User", user)
            .with("AccessRights", rights)
            .with("IsInherited", false)
            .with("Deny", false)
            .display(&["Identity", "User", "AccessRights", "IsInherited", "Deny"]),
    )
}

/// The fake host: answers from the fixed directory and records every invocation.
#[derive(Default)]
pub struct TestHost {
    calls: Mutex<Vec<Invocation>>,
}

impl TestHost {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every invocation so far, in order.
    pub fn calls(&self) -> Vec<Invocation> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// The only invocation so far (panics when there were none or several).
    pub fn only_call(&self) -> Invocation {
        let calls = self.calls();
        assert_eq!(calls.len(), 1, "expected exactly one host call, got {calls:#?}");
        calls.into_iter().next().unwrap_or_else(|| Invocation::new("none"))
    }
}

fn find_mailbox(identity: &str) -> Option<Value> {
    MAILBOXES
        .iter()
        .find(|(alias, name, smtp)| [alias, name, smtp].iter().any(|s| s.eq_ignore_ascii_case(identity)))
        .map(|(alias, name, smtp)| mailbox(alias, name, smtp))
}

fn not_found(identity: &str) -> CommandError {
    CommandError::new(format!(
        "The operation couldn't be performed because object '{identity}' couldn't be found on 'dc1.contoso.com'."
    ))
}

#[async_trait::async_trait]
impl Host for TestHost {
    fn command(&self, name: &str) -> Option<CommandInfo> {
        commands().into_iter().find(|c| c.name.eq_ignore_ascii_case(name))
    }

    async fn invoke(&self, call: Invocation) -> Result<Output, CommandError> {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push(call.clone());
        }
        match call.command {
            "Get-Mailbox" => {
                let mut all: Vec<Value> = match call.string("Identity") {
                    Some(id) => vec![find_mailbox(id).ok_or_else(|| not_found(id))?],
                    None => MAILBOXES.iter().map(|(a, n, s)| mailbox(a, n, s)).collect(),
                };
                if let Some(n) = call.int("ResultSize") {
                    all.truncate(usize::try_from(n).unwrap_or(0));
                }
                Ok(Output::objects(all))
            }
            "Get-MailboxPermission" => {
                let id = call.string("Identity").unwrap_or_default();
                let Some(Value::Object(m)) = find_mailbox(id) else { return Err(not_found(id)) };
                let alias = m.get("Alias").map(Value::to_pwsh_string).unwrap_or_default();
                Ok(Output::objects(
                    PERMISSIONS
                        .iter()
                        .filter(|(mb, _, _)| *mb == alias)
                        .map(|(mb, user, rights)| permission(mb, user, rights))
                        .collect(),
                ))
            }
            "Add-MailboxPermission" => {
                let id = call.string("Identity").unwrap_or_default();
                find_mailbox(id).ok_or_else(|| not_found(id))?;
                let rights: Vec<&str> =
                    call.strings("AccessRights").unwrap_or_default().iter().map(String::as_str).collect();
                let user = call.string("User").unwrap_or_default();
                if call.what_if {
                    return Ok(Output::warning(format!("What if: adding {} for {user} on {id}.", rights.join(","))));
                }
                Ok(Output::objects(vec![permission(id, user, &rights)]))
            }
            "New-Mailbox" => {
                let name = call.string("Name").unwrap_or_default();
                let alias = call.string("Alias").unwrap_or(name);
                Ok(Output::objects(vec![mailbox(alias, name, &format!("{alias}@contoso.com"))]))
            }
            "Set-Mailbox" | "Remove-Mailbox" => {
                let id = call.string("Identity").unwrap_or_default();
                find_mailbox(id).ok_or_else(|| not_found(id))?;
                Ok(Output::default())
            }
            "Echo-Args" => Ok(Output::objects(call.value("Value").cloned().into_iter().collect())),
            other => Err(CommandError::new(format!("The cmdlet {other} has no implementation."))),
        }
    }
}

/// Runs `script` to completion on a fresh current-thread runtime.
pub fn run_in(session: &mut Session, host: &TestHost, script: &str) -> RunResult {
    let rt = tokio::runtime::Builder::new_current_thread().build();
    match rt {
        Ok(rt) => rt.block_on(session.run(host, script)),
        Err(e) => panic!("cannot build a tokio runtime: {e}"),
    }
}

/// Runs `script` in a new session on a new host, returning the result and the host (for its calls).
pub fn run(script: &str) -> (RunResult, TestHost) {
    let host = TestHost::new();
    let result = run_in(&mut Session::new(), &host, script);
    (result, host)
}

/// Runs `script`, asserting it succeeded; returns its output and the host.
pub fn run_ok(script: &str) -> (String, TestHost) {
    let (result, host) = run(script);
    assert!(result.success && result.errors.is_empty(), "script {script:?} failed: {:#?}", result.errors);
    (result.output, host)
}

/// Runs `script`, asserting it failed with exactly one error; returns that error and the host.
pub fn run_err(script: &str) -> (String, TestHost) {
    let (result, host) = run(script);
    assert!(!result.success, "script {script:?} unexpectedly succeeded: {result:#?}");
    assert_eq!(result.errors.len(), 1, "script {script:?}: expected one error, got {:#?}", result.errors);
    (result.errors.into_iter().next().unwrap_or_default(), host)
}

/// The parse error for `script` (panics if it parses).
pub fn parse_err(script: &str) -> deputy_pwsh::ParseError {
    match syntax::parse(script) {
        Ok(s) => panic!("script {script:?} parsed, but should not have: {s:#?}"),
        Err(e) => e,
    }
}

/// The single command of a one-statement, one-element script.
pub fn only_command(script: &str) -> syntax::Command {
    let parsed = match syntax::parse(script) {
        Ok(p) => p,
        Err(e) => panic!("script {script:?} did not parse: {e}"),
    };
    assert_eq!(parsed.statements.len(), 1, "{script:?}: expected one statement");
    let Some(statement) = parsed.statements.into_iter().next() else { unreachable!() };
    match statement.kind {
        syntax::StatementKind::Pipeline(p) => match p.elements.as_slice() {
            [syntax::PipelineElement::Command(c)] => c.clone(),
            other => panic!("{script:?}: expected one command, got {other:#?}"),
        },
        other => panic!("{script:?}: expected a pipeline, got {other:#?}"),
    }
}

//! Interoperability with Microsoft's own Graph SDK for Python (`msgraph-sdk`
//! from PyPI): a delegate lists the inbox of a mailbox it has Full Access to
//! and sends on behalf of it, with the SDK pointed at Deputy by its base URL
//! alone (spec §7.3, issue 5). The SDK is installed once per target dir into
//! a virtual environment; a machine without PyPI fails this test, it does not
//! skip it.

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::json;
use support::graph::{SHARED, call, mail, user_token};
use support::{Server, TempDir, init};

const PW: &str = "Str0ng!Passw0rd";

/// The SDK release this test pins (supports Python 3.9 and later).
const MSGRAPH_SDK: &str = "msgraph-sdk==1.65.0";

/// The interpreter of a virtual environment with [`MSGRAPH_SDK`].
fn sdk_python() -> PathBuf {
    support::python::venv_with("graph-sdk-venv", MSGRAPH_SDK)
}

#[test]
fn msgraph_sdk_lists_a_delegated_inbox_and_sends_on_behalf() {
    let python = sdk_python();
    let dir = TempDir::new("graph-sdk");
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    let mut script = String::new();
    for name in ["Mary", "Rob", "Megan"] {
        let alias = name.to_lowercase();
        script.push_str(&format!(
            "New-Mailbox -Name {name} -Alias {alias} -Password (ConvertTo-SecureString '{PW}' -AsPlainText -Force)\n"
        ));
    }
    script.push_str("Add-MailboxPermission -Identity mary -User rob -AccessRights FullAccess\n");
    script.push_str("Set-Mailbox mary -GrantSendOnBehalfTo rob\n");
    server.shell(&script).expect_ok();

    let megan = user_token(&server, "megan@contoso.test", PW, "Mail.Send Mail.Read");
    let body = json!({"message": mail("Quarterly numbers", "mary@contoso.test", None)});
    let (status, answer) = call(&server, "POST", "me/sendMail", &megan, Some(&body));
    assert_eq!(status, 202, "{answer}");

    let rob = user_token(&server, "rob@contoso.test", PW, SHARED);
    let out = Command::new(&python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/graph_sdk.py"))
        .arg(format!("{}/v1.0", server.url))
        .env("DEPUTY_TOKEN", &rob)
        .output()
        .expect("run graph_sdk.py");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "graph_sdk.py failed:\nstdout: {stdout}\nstderr: {stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        ["inbox: Quarterly numbers (from megan@contoso.test, sender megan@contoso.test)", "sent"],
        "stderr: {stderr}"
    );

    // Megan sees "Rob on behalf of Mary": from = Mary, sender = Rob.
    let (status, list) = call(&server, "GET", "me/mailFolders/inbox/messages", &megan, None);
    assert_eq!(status, 200, "{list}");
    let sent = list["value"]
        .as_array()
        .and_then(|v| v.iter().find(|m| m["subject"] == "Sent through the Graph SDK"))
        .unwrap_or_else(|| panic!("the SDK's message is not in Megan's inbox: {list}"));
    let address = |who: &str| sent[who]["emailAddress"]["address"].as_str().map(str::to_lowercase);
    assert_eq!(address("from").as_deref(), Some("mary@contoso.test"), "{sent}");
    assert_eq!(address("sender").as_deref(), Some("rob@contoso.test"), "{sent}");
    assert_eq!(sent["body"]["content"].as_str().map(str::trim), Some("Rob, on behalf of Mary."), "{sent}");
}

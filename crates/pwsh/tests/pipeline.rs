//! Pipelines: host commands fed objects by property name, and the built-ins administrators chain after them
//! (`Where-Object`, `Select-Object`, `Sort-Object`, `Measure-Object`, `ForEach-Object`, `Format-List`,
//! `ConvertTo-Json`), with output shaped as PowerShell shows it.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected results")]

mod common;

use common::{run, run_err, run_ok};
use deputy_pwsh::{Arg, Value};
use serde_json::json;

fn json_of(script: &str) -> serde_json::Value {
    let (out, _) = run_ok(script);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{script}: not JSON ({e}): {out}"))
}

fn lines(script: &str) -> Vec<String> {
    run_ok(script).0.lines().map(str::to_string).collect()
}

#[test]
fn piped_objects_bind_to_identity_by_property_name() {
    let (out, host) = run_ok("Get-Mailbox -Identity mary | Get-MailboxPermission");
    let calls = host.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[1].command, "Get-MailboxPermission");
    assert_eq!(calls[1].args.get("Identity"), Some(&Arg::String("mary".into())));
    assert!(matches!(&calls[1].input, Some(Value::Object(o)) if o.get("Name") == Some(&Value::from("Mary Smith"))));
    assert_eq!(
        out,
        "Identity User          AccessRights     IsInherited Deny\n\
         -------- ----          ------------     ----------- ----\n\
         mary     CONTOSO\\rob   {FullAccess}     False       False\n\
         mary     CONTOSO\\terry {ReadPermission} False       False\n"
    );
}

#[test]
fn a_host_command_runs_once_per_piped_object() {
    let (_, host) = run_ok("Get-Mailbox | Set-Mailbox -HiddenFromAddressListsEnabled $true");
    let sets: Vec<_> = host.calls().into_iter().filter(|c| c.command == "Set-Mailbox").collect();
    let ids: Vec<_> = sets.iter().map(|c| c.args["Identity"].clone()).collect();
    assert_eq!(ids, ["mary", "rob", "terry"].map(|s| Arg::String(s.into())));
    assert!(sets.iter().all(|c| c.args["HiddenFromAddressListsEnabled"] == Arg::Bool(true)));
    let (result, host) = run("Get-Mailbox | Add-MailboxPermission -User rob -AccessRights FullAccess -WhatIf");
    assert!(result.success);
    assert_eq!(result.warnings.len(), 3);
    assert!(host.calls().iter().skip(1).all(|c| c.what_if));
    // A string piped in is not a mailbox object: it has no Identity property to bind.
    let (e, _) = run_err("'mary' | Get-MailboxPermission");
    assert!(e.starts_with("Get-MailboxPermission : The input object cannot be bound"), "{e}");
}

#[test]
fn where_object_filters_with_a_script_block() {
    let out = run_ok("Get-MailboxPermission mary | Where-Object {$_.User -like '*rob*'}").0;
    assert!(out.contains("CONTOSO\\rob") && !out.contains("terry"), "{out}");
    assert_eq!(
        lines("Get-Mailbox | ? { $_.Alias -ne 'rob' -and $_.Name -match '^[MT]' } | % Alias"),
        ["mary", "terry"]
    );
    assert_eq!(
        lines("Get-MailboxPermission rob | where { $_.AccessRights -contains 'DeleteItem' } | % User"),
        ["CONTOSO\\mary"]
    );
    assert_eq!(lines("Get-Mailbox | Where-Object { $_.Name -clike 'mary*' } | % Alias"), Vec::<String>::new());
    assert_eq!(lines("Get-Mailbox | Where-Object { $_.Name -like 'mary*' } | % Alias"), ["mary"]);
    assert_eq!(lines("Get-Mailbox | Where-Object { $_.Alias -in 'rob','terry' } | % Alias"), ["rob", "terry"]);
}

#[test]
fn where_object_simplified_form() {
    assert_eq!(
        lines("Get-MailboxPermission mary | Where-Object User -eq 'CONTOSO\\terry' | % User"),
        ["CONTOSO\\terry"]
    );
    assert_eq!(lines("Get-Mailbox | Where-Object Alias -like r* | % Alias"), ["rob"]);
    assert_eq!(lines("Get-Mailbox | Where-Object -Property Alias -NE -Value rob | % Alias"), ["mary", "terry"]);
    assert_eq!(lines("Get-Mailbox | Where-Object Alias | % Alias").len(), 3, "a property alone tests truthiness");
    let (e, _) = run_err("Get-Mailbox | Where-Object Alias -eq -like r*");
    assert!(e.contains("Give only one comparison operator"), "{e}");
}

#[test]
fn select_object_picks_expands_and_limits() {
    assert_eq!(
        run_ok("Get-Mailbox | Select-Object Name,Alias").0,
        "Name        Alias\n----        -----\nMary Smith  mary\nRob Young   rob\nTerry Adams terry\n"
    );
    assert_eq!(
        lines("Get-Mailbox | Select-Object -ExpandProperty PrimarySmtpAddress -First 2"),
        ["mary@contoso.com", "rob@contoso.com"]
    );
    assert_eq!(lines("Get-Mailbox | Select-Object -Last 1 | % Alias"), ["terry"]);
    assert_eq!(
        json_of(
            "Get-Mailbox rob | Select-Object Alias, @{Name='Mail'; Expression={$_.PrimarySmtpAddress}} | ConvertTo-Json"
        ),
        json!({"Alias": "rob", "Mail": "rob@contoso.com"})
    );
    assert_eq!(
        json_of("Get-Mailbox rob | Select-Object *Address | ConvertTo-Json"),
        json!({"PrimarySmtpAddress": "rob@contoso.com"})
    );
}

#[test]
fn sort_and_measure() {
    assert_eq!(lines("Get-Mailbox | Sort-Object Name -Descending | % Alias"), ["terry", "rob", "mary"]);
    assert_eq!(lines("Get-Mailbox | Sort-Object -Property PrimarySmtpAddress | % Alias"), ["mary", "rob", "terry"]);
    assert_eq!(lines("'b','a','B','c' | Sort-Object -Unique"), ["a", "b", "c"]);
    assert_eq!(lines("(Get-Mailbox | Measure-Object).Count"), ["3"]);
    assert_eq!(
        lines("(Get-MailboxPermission mary | Where-Object {$_.User -like '*rob*'} | Measure-Object).Count"),
        ["1"]
    );
    let out = run_ok("1, 5, 3 | Measure-Object -Sum -Maximum").0;
    assert!(out.contains("Count    : 3") && out.contains("Sum      : 9") && out.contains("Maximum  : 5"), "{out}");
}

#[test]
fn foreach_object_runs_a_block_per_object() {
    assert_eq!(
        lines("Get-Mailbox | ForEach-Object { $_.PrimarySmtpAddress }"),
        ["mary@contoso.com", "rob@contoso.com", "terry@contoso.com"]
    );
    assert_eq!(lines("Get-Mailbox | ForEach-Object -MemberName Alias"), ["mary", "rob", "terry"]);
    assert_eq!(
        lines("1..3 | ForEach-Object -Begin { 'start' } -Process { $_ * 2 } -End { 'end' }"),
        ["start", "2", "4", "6", "end"]
    );
    assert_eq!(lines("$n = 0; Get-Mailbox | % { $n += 1 }; $n"), ["3"]);
    // An error in one object's block is reported and the others still run.
    let (result, _) = run("'1', 'x', '3' | ForEach-Object { [int]$_ }");
    assert_eq!(result.output, "1\n3\n");
    assert_eq!(result.errors, ["ForEach-Object : Cannot convert value \"x\" to type \"System.Int32\"."]);
}

#[test]
fn convertto_json_uses_exchange_property_names() {
    assert_eq!(
        json_of("Get-Mailbox mary | ConvertTo-Json"),
        json!({"Name": "Mary Smith", "Alias": "mary", "Identity": "mary", "PrimarySmtpAddress": "mary@contoso.com", "RecipientTypeDetails": "UserMailbox"})
    );
    let all = json_of("Get-MailboxPermission mary | ConvertTo-Json");
    assert_eq!(
        all,
        json!([
            {"Identity": "mary", "User": "CONTOSO\\rob", "AccessRights": ["FullAccess"], "IsInherited": false, "Deny": false},
            {"Identity": "mary", "User": "CONTOSO\\terry", "AccessRights": ["ReadPermission"], "IsInherited": false, "Deny": false},
        ])
    );
    assert_eq!(run_ok("Get-Mailbox rob | Select-Object Alias | ConvertTo-Json -Compress").0, "{\"Alias\":\"rob\"}\n");
    assert_eq!(json_of("Get-Mailbox rob | Select-Object Alias | ConvertTo-Json -AsArray"), json!([{"Alias": "rob"}]));
    assert_eq!(json_of("Get-Mailbox mary -OutputFormat Json")["Alias"], json!("mary"));
}

#[test]
fn format_list_and_default_table_output() {
    assert_eq!(
        run_ok("Get-Mailbox mary | Format-List").0,
        "Name                 : Mary Smith\nAlias                : mary\nIdentity             : mary\n\
         PrimarySmtpAddress   : mary@contoso.com\nRecipientTypeDetails : UserMailbox\n"
    );
    assert_eq!(run_ok("Get-Mailbox mary | Format-List Name, Alias").0, "Name  : Mary Smith\nAlias : mary\n");
    assert_eq!(
        run_ok("Get-Mailbox").0,
        "Name        Alias PrimarySmtpAddress\n----        ----- ------------------\nMary Smith  mary  mary@contoso.com\n\
         Rob Young   rob   rob@contoso.com\nTerry Adams terry terry@contoso.com\n"
    );
    assert_eq!(run_ok("Get-Mailbox -ResultSize 1 | Format-Table Alias").0, "Alias\n-----\nmary\n");
}

#[test]
fn expressions_start_pipelines() {
    assert_eq!(lines("'mary','rob' | ForEach-Object { \"<$_>\" }"), ["<mary>", "<rob>"]);
    assert_eq!(lines("@{Identity='rob'} | Get-MailboxPermission | % User"), ["CONTOSO\\mary"]);
    assert_eq!(
        lines("$m = Get-Mailbox; $m.Count; $m[1].Alias; $m[-1].Alias; $m.Alias"),
        ["3", "rob", "terry", "mary", "rob", "terry"]
    );
}

#[test]
fn write_host_no_newline_joins_lines_without_leaking_its_marker() {
    assert_eq!(run_ok("1..3 | ForEach-Object { Write-Host $_ -NoNewline }").0, "123\n");
    let out = run_ok("Write-Host 'a' -NoNewline; Write-Host 'b'").0;
    assert!(!out.contains('\0') && out.starts_with('a') && out.ends_with("b\n"), "{out:?}");
    assert_eq!(
        run_ok("Get-Mailbox | ForEach-Object { Write-Host $_.Alias -NoNewline; Write-Host ',' -NoNewline }").0,
        "mary,rob,terry,\n"
    );
}

//! Binding and running single commands through a session: the arguments a host receives for what
//! administrators type, and PowerShell-worded errors for everything that can be wrong with it.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected results")]

mod common;

use std::collections::BTreeMap;

use common::{TestHost, run, run_err, run_in, run_ok};
use deputy_pwsh::{Arg, MultiValued, Session, Value};

fn args(pairs: &[(&'static str, Arg)]) -> BTreeMap<&'static str, Arg> {
    pairs.iter().cloned().collect()
}

fn string(s: &str) -> Arg {
    Arg::String(s.to_string())
}

fn strings(items: &[&str]) -> Arg {
    Arg::Strings(items.iter().map(|s| s.to_string()).collect())
}

/// The arguments of the only host call `script` made.
fn bound(script: &str) -> BTreeMap<&'static str, Arg> {
    run_ok(script).1.only_call().args
}

#[test]
fn identity_binds_by_name_position_colon_and_prefix() {
    let mary = args(&[("Identity", string("mary"))]);
    for script in [
        "Get-Mailbox -Identity mary",
        "Get-Mailbox mary",
        "Get-Mailbox -Identity:mary",
        "Get-Mailbox -Identity 'mary'",
        "Get-Mailbox -Identity \"mary\"",
        "Get-Mailbox -Ident mary",
        "Get-Mailbox -i mary",
        "get-mailbox -IDENTITY mary",
        "Get-Mailbox `\n  -Identity mary",
    ] {
        assert_eq!(bound(script), mary, "{script}");
    }
    assert_eq!(bound("Get-Mailbox mary@contoso.com"), args(&[("Identity", string("mary@contoso.com"))]));
    assert_eq!(bound("Get-Mailbox \"Terry Adams\""), args(&[("Identity", string("Terry Adams"))]));
    assert_eq!(bound("Get-Mailbox 'Terry Adams'"), args(&[("Identity", string("Terry Adams"))]));
}

#[test]
fn add_mailbox_permission_as_documented_binds_every_value() {
    let (out, host) = run_ok(
        "Add-MailboxPermission -Identity mary@contoso.com -User \"Terry Adams\" -AccessRights FullAccess,ReadPermission \
         -InheritanceType All -AutoMapping $false -Confirm:$false",
    );
    let call = host.only_call();
    assert_eq!(call.command, "Add-MailboxPermission");
    assert_eq!(
        call.args,
        args(&[
            ("Identity", string("mary@contoso.com")),
            ("User", string("Terry Adams")),
            ("AccessRights", strings(&["FullAccess", "ReadPermission"])),
            ("InheritanceType", string("All")),
            ("AutoMapping", Arg::Bool(false)),
        ])
    );
    assert!(!call.what_if);
    assert!(call.line.starts_with("Add-MailboxPermission -Identity mary@contoso.com"), "{}", call.line);
    assert!(out.contains("{FullAccess, ReadPermission}"), "{out}");
}

#[test]
fn enum_values_are_case_insensitive_and_normalised() {
    assert_eq!(
        bound("Add-MailboxPermission mary -User rob -AccessRights fullaccess,READPERMISSION,FullAccess -InheritanceType all")
            .into_iter()
            .filter(|(k, _)| *k == "AccessRights" || *k == "InheritanceType")
            .collect::<BTreeMap<_, _>>(),
        args(&[("AccessRights", strings(&["FullAccess", "ReadPermission"])), ("InheritanceType", string("All"))])
    );
    // One quoted string with commas is a list too, as Exchange accepts it.
    assert_eq!(
        bound("Add-MailboxPermission mary -User rob -AccessRights 'FullAccess, DeleteItem'")["AccessRights"],
        strings(&["FullAccess", "DeleteItem"])
    );
}

#[test]
fn switches_and_what_if() {
    let (result, host) = run("Add-MailboxPermission mary -User rob -AccessRights FullAccess -WhatIf");
    assert!(result.success);
    assert!(host.only_call().what_if);
    assert_eq!(result.warnings, ["WARNING: What if: adding FullAccess for rob on mary."]);
    assert!(
        !run_ok("Add-MailboxPermission mary -User rob -AccessRights FullAccess -WhatIf:$false").1.only_call().what_if
    );
    assert_eq!(bound("New-Mailbox Ada -Shared")["Shared"], Arg::Switch(true));
    assert_eq!(bound("New-Mailbox Ada -Shared:$false")["Shared"], Arg::Switch(false));
    assert!(
        !bound("Remove-Mailbox mary -Confirm:$false").contains_key("Confirm"),
        "-Confirm is the shell's, not the host's"
    );
}

#[test]
fn multi_valued_properties_take_add_remove_hashtables_lists_and_null() {
    let sob = |script: &str| bound(script).remove("GrantSendOnBehalfTo").unwrap();
    assert_eq!(
        sob("Set-Mailbox mary -GrantSendOnBehalfTo @{Add=\"a\",\"b\";Remove=\"c\"}"),
        Arg::Multi(MultiValued::Modify { add: vec!["a".into(), "b".into()], remove: vec!["c".into()] })
    );
    assert_eq!(
        sob("Set-Mailbox mary -GrantSendOnBehalfTo @{remove='rob'}"),
        Arg::Multi(MultiValued::Modify { add: vec![], remove: vec!["rob".into()] })
    );
    assert_eq!(
        sob("Set-Mailbox mary -GrantSendOnBehalfTo rob,terry"),
        Arg::Multi(MultiValued::Replace(vec!["rob".into(), "terry".into()]))
    );
    assert_eq!(sob("Set-Mailbox mary -GrantSendOnBehalfTo rob"), Arg::Multi(MultiValued::Replace(vec!["rob".into()])));
    assert_eq!(sob("Set-Mailbox mary -GrantSendOnBehalfTo $null"), Arg::Multi(MultiValued::Clear));
    let (e, host) = run_err("Set-Mailbox mary -GrantSendOnBehalfTo @{Append='rob'}");
    assert!(e.starts_with("Set-Mailbox : Cannot bind parameter 'GrantSendOnBehalfTo'."), "{e}");
    assert!(e.contains("'Append'"), "{e}");
    assert!(host.calls().is_empty());
}

#[test]
fn passwords_come_from_convertto_securestring_and_are_never_shown() {
    let args =
        bound("New-Mailbox -Name Ada -Password (ConvertTo-SecureString -String 'P@ss w0rd' -AsPlainText -Force)");
    assert_eq!(args["Password"], Arg::SecureString("P@ss w0rd".into()));
    assert_eq!(args["Name"], string("Ada"));
    let (e, host) = run_err("New-Mailbox -Name Ada -Password 'Secret123'");
    assert!(e.starts_with("New-Mailbox : Cannot bind parameter 'Password'."), "{e}");
    assert!(e.contains("ConvertTo-SecureString"), "the error says how to do it: {e}");
    assert!(!e.contains("Secret123"), "{e}");
    assert!(host.calls().is_empty());
    let (result, _) =
        run("$p = ConvertTo-SecureString 'Secret123' -AsPlainText -Force; $p; \"$p\"; $p | ConvertTo-Json");
    assert!(result.success, "{:?}", result.errors);
    assert!(!result.output.contains("Secret123"), "{}", result.output);
}

#[test]
fn typed_values_convert_or_fail_naming_parameter_and_value() {
    assert_eq!(bound("Get-Mailbox -ResultSize 2")["ResultSize"], Arg::Int(2));
    assert_eq!(bound("Get-Mailbox -ResultSize '2'")["ResultSize"], Arg::Int(2));
    assert_eq!(
        bound("Set-Mailbox mary -HiddenFromAddressListsEnabled $true")["HiddenFromAddressListsEnabled"],
        Arg::Bool(true)
    );
    assert_eq!(
        bound("Set-Mailbox mary -HiddenFromAddressListsEnabled:0")["HiddenFromAddressListsEnabled"],
        Arg::Bool(false)
    );
    assert_eq!(
        bound("Set-Mailbox mary -HiddenFromAddressListsEnabled false")["HiddenFromAddressListsEnabled"],
        Arg::Bool(false)
    );
    for (script, expected) in [
        (
            "Add-MailboxPermission mary -User rob -AccessRights FullAccess -AutoMapping maybe",
            "Add-MailboxPermission : Cannot bind parameter 'AutoMapping'. Cannot convert value \"maybe\" to type \"System.Boolean\".",
        ),
        (
            "Get-Mailbox -ResultSize ten",
            "Get-Mailbox : Cannot bind parameter 'ResultSize'. Cannot convert value \"ten\" to type \"System.Int32\".",
        ),
        (
            "Set-Mailbox mary -RecipientLimits 1.5",
            "Set-Mailbox : Cannot bind parameter 'RecipientLimits'. Cannot convert value \"1.5\" to type \"System.Int32\".",
        ),
    ] {
        let (e, host) = run_err(script);
        assert_eq!(e, expected);
        assert!(host.calls().is_empty(), "{script}");
    }
    let (e, _) = run_err("Add-MailboxPermission mary -User rob -AccessRights FullAccess -InheritanceType Sideways");
    assert!(
        e.starts_with(
            "Add-MailboxPermission : Cannot bind parameter 'InheritanceType'. Cannot convert value \"Sideways\""
        ),
        "{e}"
    );
    assert!(e.contains("None, All, Children, Descendents, SelfAndChildren"), "{e}");
    let (e, _) = run_err("Add-MailboxPermission mary -User rob -AccessRights FullAccess,Bogus");
    assert!(e.contains("\"Bogus\"") && e.contains("'AccessRights'"), "{e}");
    let (e, _) = run_err("Add-MailboxPermission mary -User rob -AccessRights FullAccess -InheritanceType All,None");
    assert!(e.contains("'InheritanceType'") && e.contains("exactly one"), "{e}");
}

#[test]
fn unknown_and_ambiguous_parameters_name_the_parameter_and_the_command() {
    let (e, host) = run_err("Get-Mailbox -Identity mary -Foo 1");
    assert_eq!(e, "Get-Mailbox : A parameter cannot be found that matches parameter name 'Foo'.");
    assert!(host.calls().is_empty());
    let (e, _) = run_err("Add-MailboxPermission -I mary -User rob -AccessRights FullAccess");
    assert_eq!(
        e,
        "Add-MailboxPermission : Parameter cannot be processed because the parameter name 'I' is ambiguous. Possible \
         matches include: -Identity -InheritanceType."
    );
    let (e, _) = run_err("Add-MailboxPermission -Identity mary -User rob -A FullAccess");
    assert!(e.contains("'A' is ambiguous") && e.contains("-AccessRights -AutoMapping"), "{e}");
    // A longer prefix resolves the ambiguity; exact names and aliases win over prefixes.
    assert!(
        run_ok("Add-MailboxPermission -Id mary -User rob -Acc FullAccess -In All")
            .1
            .only_call()
            .args
            .contains_key("InheritanceType")
    );
    assert!(run("Get-Mailbox -ea SilentlyContinue nobody").0.success, "-ea is ErrorAction's alias");
}

#[test]
fn missing_duplicate_and_extra_arguments_are_errors() {
    let (e, host) = run_err("Add-MailboxPermission -Identity mary -User rob");
    assert_eq!(
        e,
        "Add-MailboxPermission : Cannot process command because of one or more missing mandatory parameters: AccessRights."
    );
    assert!(host.calls().is_empty());
    let (e, _) = run_err("Add-MailboxPermission mary");
    assert!(e.ends_with("missing mandatory parameters: User, AccessRights."), "{e}");
    let (e, _) = run_err("Get-Mailbox -Identity");
    assert_eq!(
        e,
        "Get-Mailbox : Missing an argument for parameter 'Identity'. Specify a parameter of type 'System.String' and try again."
    );
    let (e, _) = run_err("Get-Mailbox -Identity -ResultSize 1");
    assert!(e.contains("Missing an argument for parameter 'Identity'"), "{e}");
    let (e, _) = run_err("Get-Mailbox -Identity mary -Ident rob");
    assert!(
        e.starts_with("Get-Mailbox : Cannot bind parameter because parameter 'Identity' is specified more than once."),
        "{e}"
    );
    let (e, _) = run_err("Get-Mailbox mary rob");
    assert_eq!(e, "Get-Mailbox : A positional parameter cannot be found that accepts argument 'rob'.");
    let (e, _) = run_err("Remove-Mailbox mary -Confirm $false");
    assert_eq!(e, "Remove-Mailbox : A positional parameter cannot be found that accepts argument 'False'.");
    let (e, _) = run_err("Remove-Mailbox -Identity $null");
    assert_eq!(e, "Remove-Mailbox : Cannot bind argument to parameter 'Identity' because it is null.");
}

#[test]
fn parameter_sets_pick_the_first_set_whose_mandatory_parameters_are_given() {
    // Get-MailboxPermission's Owner set comes first but needs -Owner; without it the other set applies.
    assert_eq!(bound("Get-MailboxPermission mary"), args(&[("Identity", string("mary"))]));
    assert_eq!(
        bound("Get-MailboxPermission mary -User rob"),
        args(&[("Identity", string("mary")), ("User", string("rob"))])
    );
    assert_eq!(
        bound("Get-MailboxPermission mary -Owner"),
        args(&[("Identity", string("mary")), ("Owner", Arg::Switch(true))])
    );
    let (e, host) = run_err("Get-MailboxPermission mary -Owner -User rob");
    assert_eq!(e, "Get-MailboxPermission : Parameter set cannot be resolved using the specified named parameters.");
    assert!(host.calls().is_empty());
    let (e, _) = run_err("Get-MailboxPermission -User rob");
    assert_eq!(
        e,
        "Get-MailboxPermission : Cannot process command because of one or more missing mandatory parameters: Identity."
    );
}

#[test]
fn unknown_commands_use_powershells_wording_and_stop_the_whole_pipeline() {
    let (e, host) = run_err("Get-Mailboxes mary");
    assert_eq!(
        e,
        "The term 'Get-Mailboxes' is not recognized as a name of a cmdlet, function, script file, or executable \
         program. Check the spelling of the name, or if a path was included, verify that the path is correct and try \
         again."
    );
    assert!(host.calls().is_empty());
    let (e, host) = run_err("Get-Mailbox | Set-Mailboxx -HiddenFromAddressListsEnabled $true");
    assert!(e.starts_with("The term 'Set-Mailboxx' is not recognized"), "{e}");
    assert!(host.calls().is_empty(), "nothing in the pipeline runs");
    let (e, host) = run_err("Get-Mailbox | Where-Object {$_.Name -eq 'x'} | Remove-Mailbox -Bogus");
    assert!(e.starts_with("Remove-Mailbox : A parameter cannot be found"), "{e}");
    assert!(host.calls().is_empty(), "binding errors anywhere stop the pipeline before it starts");
}

#[test]
fn a_script_that_does_not_parse_runs_nothing() {
    for script in [
        "Remove-Mailbox mary\nRemove-Mailbox 'rob",
        "Remove-Mailbox mary; Remove-Mailbox \"rob",
        "Remove-Mailbox mary\nGet-Mailbox | Where-Object { $_.Name -eq 'x'",
        "Remove-Mailbox mary\nEcho-Args (1",
        "Remove-Mailbox mary\nGet-Mailbox | Where-Object {$_.Name -foo 'x'}",
        "Remove-Mailbox mary\nGet-Mailbox |",
    ] {
        let (result, host) = run(script);
        assert!(!result.success, "{script}");
        assert_eq!(result.errors.len(), 1, "{script}");
        assert!(result.errors[0].starts_with("At line:"), "{}", result.errors[0]);
        assert!(host.calls().is_empty(), "{script}: {:?}", host.calls());
        assert_eq!(result.output, "");
    }
}

#[test]
fn errors_do_not_stop_later_statements_unless_error_action_is_stop() {
    let (result, host) = run("Get-Mailbox -Foo 1; Get-Mailbox nobody\nGet-Mailbox mary");
    assert_eq!(result.errors.len(), 2, "{:?}", result.errors);
    assert_eq!(
        result.errors[1],
        "Get-Mailbox : The operation couldn't be performed because object 'nobody' couldn't be found on 'dc1.contoso.com'."
    );
    assert_eq!(host.calls().len(), 2);
    assert!(result.output.contains("Mary Smith"));
    let (result, host) = run("Get-Mailbox nobody -ErrorAction Stop; Get-Mailbox mary");
    assert_eq!(result.errors.len(), 1);
    assert_eq!(host.calls().len(), 1, "Stop ends the script");
    let (result, _) = run("Get-Mailbox nobody -ErrorAction SilentlyContinue; Get-Mailbox mary");
    assert!(result.success && result.errors.is_empty());
}

#[test]
fn empty_and_comment_only_scripts_succeed_quietly() {
    for script in ["", "  \n ", "# nothing", "<# nothing #>", ";"] {
        let (result, host) = run(script);
        assert!(result.success, "{script:?}");
        assert_eq!((result.output.as_str(), result.errors.len(), host.calls().len()), ("", 0, 0), "{script:?}");
    }
}

#[test]
fn variables_persist_across_runs_of_one_session() {
    let host = TestHost::new();
    let mut session = Session::new();
    assert!(run_in(&mut session, &host, "$who = 'mary'; $rights = 'FullAccess','ReadPermission'").success);
    assert_eq!(session.variable("WHO"), Some(&Value::from("mary")));
    let result = run_in(&mut session, &host, "Add-MailboxPermission $who -User rob -AccessRights $rights");
    assert!(result.success, "{:?}", result.errors);
    assert_eq!(host.only_call().args["AccessRights"], strings(&["FullAccess", "ReadPermission"]));
    let result = run_in(&mut session, &host, "$m = Get-Mailbox $who");
    assert_eq!(result.output, "", "an assignment shows nothing");
    let result = run_in(&mut session, &host, "$m.PrimarySmtpAddress; \"Mailbox: $($m.Name) <$who>\"");
    assert_eq!(result.output, "mary@contoso.com\nMailbox: Mary Smith <mary>\n");
    let result = run_in(&mut session, &host, "$n = 1; $n += 2; $n; $who += '!'; $who; $undefined");
    assert_eq!(result.output, "3\nmary!\n");
    assert!(Session::new().variable("who").is_none(), "sessions do not share variables");
}

#[test]
fn values_pass_through_unchanged_to_any_parameters() {
    let echo = |script: &str| run_ok(script).1.only_call().args.remove("Value").unwrap();
    assert_eq!(echo("Echo-Args $true"), Arg::Any(Value::Bool(true)));
    assert_eq!(echo("Echo-Args $null"), Arg::Any(Value::Null));
    assert_eq!(echo("Echo-Args 42"), Arg::Any(Value::Int(42)));
    assert_eq!(echo("Echo-Args a,'b c'"), Arg::Any(Value::from(vec!["a", "b c"])));
    assert_eq!(echo("Echo-Args @{a=1}"), Arg::Any(Value::Hashtable(vec![("a".into(), Value::Int(1))])));
    assert_eq!(echo("$x = 'X'; Echo-Args \"<$x>\""), Arg::Any(Value::from("<X>")));
    assert_eq!(echo("Echo-Args 'it''s'"), Arg::Any(Value::from("it's")));
    assert_eq!(echo("Echo-Args \"a`tb\""), Arg::Any(Value::from("a\tb")));
    assert_eq!(echo("Echo-Args a\0b"), Arg::Any(Value::from("a\0b")));
    assert_eq!(echo("Echo-Args -Value:1,2"), Arg::Any(Value::from(vec![Value::Int(1), Value::Int(2)])));
}

#[test]
fn a_byte_order_mark_does_not_hide_the_first_command() {
    assert_eq!(bound("\u{FEFF}Get-Mailbox mary"), args(&[("Identity", string("mary"))]));
}

#[test]
fn odd_input_never_panics_and_reports_an_error() {
    for script in ["\0", "Get-Mailbox \u{FFFD}", "\u{202E}Get-Mailbox", "Get-Mailbox 1€", "$", "@", "&", "`"] {
        let (result, _) = run(script);
        assert!(!result.success, "{script:?}");
        assert!(!result.errors[0].is_empty());
    }
}

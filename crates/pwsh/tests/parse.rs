//! The parser on what administrators really type: command mode and its quoting rules, comments and line
//! continuations, statement splitting, the interactive prompt's "incomplete" test, and syntax errors.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected results")]

mod common;

use common::{only_command, parse_err};
use deputy_pwsh::syntax::{
    self, BinaryOp, Command, CommandElement as E, CompareOp, Expr, Pipeline, PipelineElement, StatementKind, StringPart,
};
use deputy_pwsh::{is_incomplete, split_statements};

fn param(name: &str) -> E {
    E::Parameter { name: name.into(), value: None }
}

fn param_value(name: &str, value: Expr) -> E {
    E::Parameter { name: name.into(), value: Some(value) }
}

fn s(text: &str) -> Expr {
    Expr::String(text.into())
}

fn arg(text: &str) -> E {
    E::Argument(s(text))
}

fn var(name: &str) -> Expr {
    Expr::Variable(name.into())
}

fn elements(script: &str) -> Vec<E> {
    only_command(script).elements
}

/// The pipeline of a one-statement script.
fn pipeline(script: &str) -> Pipeline {
    let parsed = syntax::parse(script).unwrap();
    assert_eq!(parsed.statements.len(), 1, "{script:?}");
    match parsed.statements.into_iter().next().unwrap().kind {
        StatementKind::Pipeline(p) => p,
        other => panic!("{script:?}: not a pipeline: {other:?}"),
    }
}

fn command_names(script: &str) -> Vec<String> {
    pipeline(script)
        .elements
        .into_iter()
        .map(|e| match e {
            PipelineElement::Command(Command { name, .. }) => name,
            PipelineElement::Expression(x) => panic!("{script:?}: unexpected expression {x:?}"),
        })
        .collect()
}

#[test]
fn identity_is_given_by_name_by_position_or_after_a_colon() {
    assert_eq!(only_command("Get-Mailbox -Identity mary").name, "Get-Mailbox");
    assert_eq!(elements("Get-Mailbox -Identity mary"), [param("Identity"), arg("mary")]);
    assert_eq!(elements("Get-Mailbox mary"), [arg("mary")]);
    assert_eq!(elements("Get-Mailbox -Identity:mary"), [param_value("Identity", s("mary"))]);
    assert_eq!(elements("Get-Mailbox -Ident mary"), [param("Ident"), arg("mary")]);
}

#[test]
fn bare_words_are_strings_even_with_at_signs_backslashes_and_dots() {
    assert_eq!(elements("Get-Mailbox mary@contoso.com"), [arg("mary@contoso.com")]);
    assert_eq!(
        elements(r"Add-MailboxPermission mary -User CONTOSO\rob"),
        [arg("mary"), param("User"), arg(r"CONTOSO\rob")]
    );
    assert_eq!(elements("Get-Mailbox a#b"), [arg("a#b")], "a # inside a word does not start a comment");
    // Numbers in command mode become integers; anything else number-like stays a string.
    assert_eq!(
        elements("Echo-Args 5 -1 0x10 10KB 1.5 1e5"),
        [
            E::Argument(Expr::Int(5)),
            E::Argument(Expr::Int(-1)),
            E::Argument(Expr::Int(16)),
            E::Argument(Expr::Int(10 * 1024)),
            arg("1.5"),
            arg("1e5"),
        ]
    );
}

#[test]
fn number_like_words_with_non_ascii_suffixes_are_strings() {
    // A multi-byte character where a KB/MB suffix would be must not split a character in two.
    assert_eq!(elements("Get-Mailbox 1€"), [arg("1€")]);
    assert_eq!(elements("Get-Mailbox 12€"), [arg("12€")]);
    assert_eq!(elements("Get-Mailbox 1ü"), [arg("1ü")]);
    assert_eq!(elements("Get-Mailbox –1€"), [arg("–1€")]);
}

#[test]
fn single_quotes_are_literal_and_double_a_quote() {
    assert_eq!(elements("Get-Mailbox 'Terry Adams'"), [arg("Terry Adams")]);
    assert_eq!(elements("Get-Mailbox 'O''Neil'"), [arg("O'Neil")]);
    assert_eq!(elements("Echo-Args 'cost $x `n # not a comment'"), [arg("cost $x `n # not a comment")]);
    assert_eq!(elements("Echo-Args ''"), [arg("")]);
    // Word processors' typographic quotes work like ASCII ones.
    assert_eq!(elements("Get-Mailbox \u{2018}Terry Adams\u{2019}"), [arg("Terry Adams")]);
    assert_eq!(elements("Get-Mailbox \u{201C}Terry Adams\u{201D}"), [arg("Terry Adams")]);
}

#[test]
fn double_quotes_expand_variables_and_backtick_escapes() {
    assert_eq!(elements("Get-Mailbox \"Terry Adams\""), [arg("Terry Adams")]);
    assert_eq!(elements("Echo-Args \"say \"\"hi\"\"\""), [arg("say \"hi\"")]);
    assert_eq!(elements("Echo-Args \"a`tb`nc`\"d`$e``f\""), [arg("a\tb\nc\"d$e`f")]);
    assert_eq!(
        elements("Echo-Args \"Hello $name, you are ${first name}!\""),
        [E::Argument(Expr::Expandable(vec![
            StringPart::Literal("Hello ".into()),
            StringPart::Variable("name".into()),
            StringPart::Literal(", you are ".into()),
            StringPart::Variable("first name".into()),
            StringPart::Literal("!".into()),
        ]))]
    );
    let els = elements("Echo-Args \"$($m.Name) <$($m.PrimarySmtpAddress)>\"");
    let [E::Argument(Expr::Expandable(parts))] = els.as_slice() else { panic!("not an expandable string: {els:?}") };
    assert_eq!(parts.len(), 4);
    assert!(matches!(&parts[0], StringPart::Subexpression(st) if st.len() == 1 && st[0].text == "$m.Name"));
    assert_eq!(parts[1], StringPart::Literal(" <".into()));
    assert_eq!(parts[3], StringPart::Literal(">".into()));
    // A `$` not followed by a name stays a dollar sign.
    assert_eq!(elements("Echo-Args \"costs 5$ or $\""), [arg("costs 5$ or $")]);
}

#[test]
fn booleans_and_null_are_variables() {
    assert_eq!(
        elements("Add-MailboxPermission -AutoMapping $false -Other $true -Third $null"),
        [
            param("AutoMapping"),
            E::Argument(var("false")),
            param("Other"),
            E::Argument(var("true")),
            param("Third"),
            E::Argument(var("null"))
        ]
    );
}

#[test]
fn comma_lists_become_arrays() {
    let rights = Expr::Array(vec![s("FullAccess"), s("ReadPermission")]);
    assert_eq!(
        elements("Add-MailboxPermission -AccessRights FullAccess,ReadPermission"),
        [param("AccessRights"), E::Argument(rights.clone())]
    );
    assert_eq!(
        elements("Add-MailboxPermission -AccessRights FullAccess, ReadPermission"),
        [param("AccessRights"), E::Argument(rights.clone())]
    );
    assert_eq!(
        elements("Add-MailboxPermission -AccessRights 'FullAccess',\n  \"ReadPermission\""),
        [param("AccessRights"), E::Argument(rights)]
    );
}

#[test]
fn hashtables_hold_pipelines_per_key() {
    let expr = |e: Expr| Pipeline { elements: vec![PipelineElement::Expression(e)] };
    let expected =
        Expr::Hashtable(vec![("Add".into(), expr(Expr::Array(vec![s("a"), s("b")]))), ("Remove".into(), expr(s("c")))]);
    assert_eq!(
        elements("Set-Mailbox mary -GrantSendOnBehalfTo @{Add=\"a\",\"b\";Remove=\"c\"}"),
        [arg("mary"), param("GrantSendOnBehalfTo"), E::Argument(expected.clone())]
    );
    assert_eq!(
        elements("Set-Mailbox mary -GrantSendOnBehalfTo @{\n  Add = 'a', 'b'\n  Remove = 'c'\n}"),
        [arg("mary"), param("GrantSendOnBehalfTo"), E::Argument(expected)]
    );
    assert!(parse_err("Echo-Args @{a=1; A=2}").message.contains("Duplicate keys 'A'"));
}

#[test]
fn a_parenthesised_command_is_an_argument() {
    let els = elements("New-Mailbox -Name 'Ada' -Password (ConvertTo-SecureString -String 'P@ss' -AsPlainText -Force)");
    let [name, ada, password, E::Argument(Expr::Paren(inner))] = els.as_slice() else { panic!("{els:?}") };
    assert_eq!([name, ada, password], [&param("Name"), &arg("Ada"), &param("Password")]);
    let [PipelineElement::Command(c)] = inner.elements.as_slice() else { panic!("{inner:?}") };
    assert_eq!(c.name, "ConvertTo-SecureString");
    assert_eq!(c.elements, [param("String"), arg("P@ss"), param("AsPlainText"), param("Force")]);
}

#[test]
fn switches_take_no_value_unless_after_a_colon() {
    assert_eq!(
        elements("Remove-Mailbox mary -Confirm:$false -WhatIf"),
        [arg("mary"), param_value("Confirm", var("false")), param("WhatIf")]
    );
    assert_eq!(elements("Remove-Mailbox mary -Confirm: $false"), [arg("mary"), param_value("Confirm", var("false"))]);
    // A dash not followed by a letter is an argument, as is -5.
    assert_eq!(elements("Echo-Args - -5"), [arg("-"), E::Argument(Expr::Int(-5))]);
    // En dashes pasted from documents are dashes.
    assert_eq!(elements("Get-Mailbox \u{2013}Identity mary"), [param("Identity"), arg("mary")]);
}

#[test]
fn backtick_continues_a_line_and_escapes_a_character() {
    let one_line = elements("Add-MailboxPermission -Identity mary -User rob -AccessRights FullAccess");
    assert_eq!(elements("Add-MailboxPermission -Identity mary `\n  -User rob `\n  -AccessRights FullAccess"), one_line);
    assert_eq!(
        elements("Add-MailboxPermission -Identity mary `\r\n  -User rob `\r\n  -AccessRights FullAccess"),
        one_line
    );
    assert_eq!(elements("Get-Mailbox Terry` Adams"), [arg("Terry Adams")], "backtick-space is an escaped space");
    assert_eq!(elements("Echo-Args a`,b `$x"), [arg("a,b"), arg("$x")]);
}

#[test]
fn comments_are_ignored() {
    assert_eq!(elements("Get-Mailbox mary # who else"), [arg("mary")]);
    assert_eq!(elements("Get-Mailbox <# inline #> mary"), [arg("mary")]);
    assert_eq!(elements("Get-Mailbox <# spans\n several # lines\n #> mary"), [arg("mary")]);
    assert_eq!(elements("Echo-Args 'a # b' \"c # d\""), [arg("a # b"), arg("c # d")]);
    let parsed = syntax::parse("# header\n<# block\ncomment #>\nGet-Mailbox mary # trailing\n# footer").unwrap();
    assert_eq!(parsed.statements.len(), 1);
    assert_eq!(parsed.statements[0].text, "Get-Mailbox mary");
}

#[test]
fn semicolons_and_newlines_separate_statements() {
    let parsed = syntax::parse("Get-Mailbox mary; Get-Mailbox rob\n\n;;Get-Mailbox terry;").unwrap();
    let texts: Vec<&str> = parsed.statements.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(texts, ["Get-Mailbox mary", "Get-Mailbox rob", "Get-Mailbox terry"]);
    let parsed = syntax::parse("$m = 'mary'\n$m += 'x'").unwrap();
    assert!(matches!(&parsed.statements[0].kind, StatementKind::Assignment { variable, .. } if variable == "m"));
    assert!(matches!(&parsed.statements[1].kind, StatementKind::Assignment { op: syntax::AssignOp::Add, .. }));
}

#[test]
fn pipelines_chain_commands() {
    assert_eq!(
        command_names("Get-Mailbox -Identity mary | Get-MailboxPermission"),
        ["Get-Mailbox", "Get-MailboxPermission"]
    );
    assert_eq!(command_names("Get-Mailbox | ConvertTo-Json"), ["Get-Mailbox", "ConvertTo-Json"]);
    assert_eq!(
        command_names("Get-Mailbox |\n  Format-List"),
        ["Get-Mailbox", "Format-List"],
        "a trailing pipe continues"
    );
    assert_eq!(
        command_names("Get-Mailbox | Sort-Object Name | Measure-Object"),
        ["Get-Mailbox", "Sort-Object", "Measure-Object"]
    );
    let select = &pipeline("Get-Mailbox | Select-Object A,B").elements[1];
    assert_eq!(
        select,
        &PipelineElement::Command(Command {
            name: "Select-Object".into(),
            elements: vec![E::Argument(Expr::Array(vec![s("A"), s("B")]))]
        })
    );
    assert!(parse_err("Get-Mailbox || Get-Mailbox").message.contains("'||'"));
    assert!(parse_err("Get-Mailbox | 'x'").message.contains("only allowed as the first element"));
}

#[test]
fn where_object_takes_a_script_block_or_the_simplified_form() {
    let p = pipeline("Get-MailboxPermission mary | Where-Object {$_.User -like '*rob*'}");
    let PipelineElement::Command(c) = &p.elements[1] else { panic!() };
    let [E::Argument(Expr::ScriptBlock(block))] = c.elements.as_slice() else { panic!("{c:?}") };
    assert_eq!(block.text, "$_.User -like '*rob*'");
    let [statement] = block.statements.as_slice() else { panic!() };
    let StatementKind::Pipeline(inner) = &statement.kind else { panic!() };
    assert_eq!(
        inner.elements,
        [PipelineElement::Expression(Expr::Binary {
            op: BinaryOp::Compare { op: CompareOp::Like, case_sensitive: false },
            left: Box::new(Expr::Member { target: Box::new(var("_")), name: "User".into() }),
            right: Box::new(s("*rob*")),
        })]
    );
    assert_eq!(elements("Where-Object User -eq x"), [arg("User"), param("eq"), arg("x")]);
    assert_eq!(elements("ForEach-Object { $_.Name }").len(), 1);
}

#[test]
fn operators_parse_with_powershell_precedence() {
    let p = pipeline("$a -eq 1 -and $b -cne 'X' -or -not $c");
    let [PipelineElement::Expression(Expr::Binary { op: BinaryOp::Or, left, right })] = p.elements.as_slice() else {
        panic!("{p:?}")
    };
    assert!(matches!(**left, Expr::Binary { op: BinaryOp::And, .. }));
    assert!(matches!(**right, Expr::Unary { .. }));
    let Expr::Binary { right: and_right, .. } = &**left else { panic!() };
    assert!(matches!(
        **and_right,
        Expr::Binary { op: BinaryOp::Compare { op: CompareOp::Ne, case_sensitive: true }, .. }
    ));
}

#[test]
fn statement_texts_reparse_to_the_same_tree() {
    let script = "Add-MailboxPermission -Identity mary `\n -User rob -AccessRights FullAccess # grant\n\
                  Get-Mailbox | Where-Object {\n  $_.Name -like 'T*'\n} | Select-Object Name ; $x = @{a=1}";
    let parsed = syntax::parse(script).unwrap();
    assert_eq!(parsed.statements.len(), 3);
    for statement in &parsed.statements {
        let again = syntax::parse(&statement.text).unwrap();
        assert_eq!(again.statements.len(), 1, "{:?}", statement.text);
        assert_eq!(again.statements[0].kind, statement.kind, "{:?}", statement.text);
    }
}

#[test]
fn split_statements_splits_on_semicolons_and_newlines_only_at_top_level() {
    assert_eq!(
        split_statements("Get-Mailbox mary; Get-Mailbox rob\nGet-Mailbox terry").unwrap(),
        ["Get-Mailbox mary", "Get-Mailbox rob", "Get-Mailbox terry"]
    );
    assert_eq!(split_statements("Echo-Args 'a;b' \"c\nd\"").unwrap(), ["Echo-Args 'a;b' \"c\nd\""]);
    assert_eq!(
        split_statements("Get-Mailbox | Where-Object {\n $_.A -eq 1; $_.B\n}\nGet-Mailbox").unwrap(),
        ["Get-Mailbox | Where-Object {\n $_.A -eq 1; $_.B\n}", "Get-Mailbox"]
    );
    assert_eq!(split_statements("Set-Mailbox mary -GrantSendOnBehalfTo @{Add='a'; Remove='b'}").unwrap().len(), 1);
    assert_eq!(
        split_statements("Echo-Args (Get-Mailbox mary; 1)").unwrap_err().message,
        "Unexpected token ';' in expression or statement."
    );
    assert_eq!(split_statements("Echo-Args $(Get-Mailbox mary; 1)").unwrap().len(), 1);
    assert!(split_statements("").unwrap().is_empty());
    assert!(split_statements("  # nothing\n<# at all #>\n").unwrap().is_empty());
    assert!(split_statements("Get-Mailbox 'open").is_err());
}

#[test]
fn is_incomplete_asks_for_more_only_when_more_could_complete_it() {
    for open in [
        "Get-Mailbox 'mary",
        "Get-Mailbox \"mary",
        "Get-Mailbox | Where-Object {",
        "Get-Mailbox | Where-Object {\n$_.Name",
        "Echo-Args (Get-Mailbox",
        "Echo-Args @{a=1",
        "Echo-Args @(",
        "Echo-Args $(",
        "Get-Mailbox mary `",
        "Get-Mailbox mary `\n",
        "Get-Mailbox mary `\r\n",
        "Get-Mailbox |",
        "Get-Mailbox |\n",
        "Get-Mailbox -Identity:",
        "Add-MailboxPermission -AccessRights FullAccess,",
        "$x =",
        "$a -eq",
        "<# open comment",
    ] {
        assert!(is_incomplete(open), "{open:?} should be incomplete");
    }
    for complete in [
        "",
        "Get-Mailbox mary",
        "Get-Mailbox mary\n",
        "Get-Mailbox mary `\n\n",
        "Get-Mailbox | Where-Object { $_ }",
        "Get-Mailbox 'it''s'",
        "# just a comment",
        "Echo-Args )",
        "Echo-Args }",
    ] {
        assert!(!is_incomplete(complete), "{complete:?} should be complete");
    }
    // Errors more input cannot fix are not "incomplete".
    assert!(!is_incomplete("Where-Object {$_.Name -foo 'x'}"));
    assert!(!is_incomplete("Get-Mailbox ) ("));
}

#[test]
fn unbalanced_quotes_braces_and_parens_are_errors_that_say_so() {
    let e = parse_err("Get-Mailbox 'mary");
    assert_eq!(e.message, "The string is missing the terminator: '.");
    assert_eq!((e.line, e.column), (1, 13));
    assert_eq!(e.to_string(), "At line:1 char:13\nThe string is missing the terminator: '.");
    assert_eq!(parse_err("Get-Mailbox \"mary").message, "The string is missing the terminator: \".");
    assert_eq!(parse_err("Echo-Args \"a`").message, "The string is missing the terminator: \".");
    assert_eq!(
        parse_err("Get-Mailbox | Where-Object { $_").message,
        "Missing closing '}' in statement block or type definition."
    );
    assert_eq!(parse_err("Echo-Args (1").message, "Missing closing ')' in expression.");
    assert_eq!(parse_err("Echo-Args $(1").message, "Missing closing ')' in subexpression.");
    assert_eq!(parse_err("Echo-Args @{a=1").message, "Missing closing '}' in hash literal.");
    assert_eq!(parse_err("Echo-Args $a[0").message, "Missing ']' after array index expression.");
    let e = parse_err("Get-Mailbox mary\nGet-Mailbox }");
    assert_eq!(e.message, "Unexpected token '}' in expression or statement.");
    assert_eq!((e.line, e.column), (2, 13));
    assert_eq!(parse_err("Echo-Args (1))").message, "Unexpected token ')' in expression or statement.");
    assert_eq!(parse_err("Get-Mailbox <# open").message, "Missing the end of a block comment: '#>'.");
}

#[test]
fn unknown_operators_are_named() {
    for script in ["Get-Mailbox | Where-Object {$_.Name -foo 'x'}", "$x -foo 1", "(1 -bar 2)"] {
        let e = parse_err(script);
        let word = if script.contains("-bar") { "-bar" } else { "-foo" };
        assert!(e.message.starts_with(&format!("Unexpected token '{word}' in expression or statement.")), "{e}");
        assert!(e.message.contains("-like"), "the message lists the known operators: {e}");
    }
    // In command mode the same word is a parameter name, checked when binding.
    assert_eq!(elements("Get-Mailbox -foo 'x'"), [param("foo"), arg("x")]);
}

#[test]
fn other_syntax_errors_name_the_offending_token() {
    assert_eq!(
        parse_err("Echo-Args $").message,
        "Variable reference is not valid. '$' was not followed by a valid variable name character."
    );
    assert_eq!(parse_err("Get-Mailbox mary & x").message, "Unexpected token '&' in expression or statement.");
    assert!(parse_err("[System.IO.File]::Delete('x')").message.starts_with("Unable to find type [system.io.file]"));
    assert!(parse_err("$m.Delete()").message.contains("Method calls such as '.Delete()' are not supported"));
    assert_eq!(
        parse_err("Get-Mailbox -Identity:").message,
        "Missing an argument for parameter 'Identity' after the colon."
    );
    assert_eq!(parse_err("Echo-Args a,,b").message, "Missing expression after ','.");
}

#[test]
fn empty_and_comment_only_scripts_have_no_statements() {
    for script in ["", "   ", "\n\n\r\n", ";;;", "# only a comment", "<# only\n a block #>", "# a\n<# b #>\n  # c"] {
        assert!(syntax::parse(script).unwrap().statements.is_empty(), "{script:?}");
    }
}

#[test]
fn nul_bytes_and_unusual_unicode_parse_or_fail_cleanly() {
    assert_eq!(elements("Echo-Args a\0b"), [arg("a\0b")]);
    assert_eq!(elements("Echo-Args 'a\0b'"), [arg("a\0b")]);
    assert_eq!(elements("Echo-Args \u{FFFD}\u{200B}e\u{301}\u{202E}x"), [arg("\u{FFFD}\u{200B}e\u{301}\u{202E}x")]);
    assert_eq!(elements("Echo-Args '\u{1F600}' \u{10FFFF}"), [arg("\u{1F600}"), arg("\u{10FFFF}")]);
    assert!(syntax::parse("\0").is_ok());
    assert!(syntax::parse("'\0").is_err());
    assert!(syntax::parse("$\u{0}").is_err());
    // Whitespace of any kind separates arguments.
    assert_eq!(elements("Echo-Args\u{00A0}a\u{3000}b"), [arg("a"), arg("b")]);
}

#[test]
fn a_byte_order_mark_at_the_start_is_ignored() {
    // Windows editors save .ps1 files with one.
    assert_eq!(only_command("\u{FEFF}Get-Mailbox mary").name, "Get-Mailbox");
}

//! Property tests: the parser and the runner never panic, whatever they are given, and a well-formed command
//! line with arbitrary quoted values binds to exactly those values.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected results")]

mod common;

use std::collections::BTreeMap;
use std::sync::Mutex;

use common::{TestHost, run_in};
use deputy_pwsh::{
    Arg, CommandError, CommandInfo, Host, Invocation, Output, ParamInfo, ParamKind, Session, is_incomplete,
    split_statements, syntax,
};
use proptest::prelude::*;

/// Pieces PowerShell is made of, including the ones that open and close things.
const TOKENS: &[&str] = &[
    "-",
    "'",
    "\"",
    "`",
    "{",
    "}",
    "(",
    ")",
    "@{",
    "@(",
    "$(",
    "|",
    ";",
    ",",
    "$_",
    "$x",
    "$true",
    "-eq",
    "-like",
    "-not",
    "-and",
    "-foo",
    "=",
    "+=",
    "#",
    "<#",
    "#>",
    "[int]",
    "[",
    "]",
    ".",
    ":",
    "::",
    "..",
    "\n",
    "\r\n",
    " ",
    " ",
    "\t",
    "Get-Mailbox",
    "Where-Object",
    "ForEach-Object",
    "%",
    "?",
    "Select-Object",
    "Sort-Object",
    "ConvertTo-Json",
    "Format-List",
    "Measure-Object",
    "Set-Mailbox",
    "Echo-Args",
    "-Identity",
    "-Ident",
    "-I",
    "-Confirm:",
    "-WhatIf",
    "mary",
    "Terry Adams",
    "1",
    "0x1F",
    "10KB",
    "€",
    "\u{2019}",
    "\u{201C}",
    "\u{2013}",
    "\0",
    "\u{FEFF}",
    "*",
    "&",
    "!",
    "@",
    "$",
    "${",
    "a=1",
    "Add=",
    "\\",
];

fn soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|parts| parts.concat())
}

fn arbitrary_text() -> impl Strategy<Value = String> {
    prop::collection::vec(any::<char>(), 0..120).prop_map(String::from_iter)
}

/// Parses, splits, checks the incomplete flag and runs `script`; none of it may panic. When it parses, every
/// statement's text must parse again to the same statement (what `split_statements` callers rely on).
fn exercise(script: &str) {
    let parsed = syntax::parse(script);
    let _ = is_incomplete(script);
    match &parsed {
        Ok(p) => {
            let texts = split_statements(script).unwrap();
            assert_eq!(texts.len(), p.statements.len());
            for s in &p.statements {
                let again = syntax::parse(&s.text).unwrap_or_else(|e| panic!("{:?} no longer parses: {e}", s.text));
                assert_eq!(again.statements.len(), 1, "{:?}", s.text);
                assert_eq!(again.statements[0].kind, s.kind, "{:?}", s.text);
            }
        }
        Err(e) => {
            assert!(!e.message.is_empty());
            assert!(e.line >= 1 && e.column >= 1);
        }
    }
    let host = TestHost::new();
    let result = run_in(&mut Session::new(), &host, script);
    assert_eq!(result.success, result.errors.is_empty());
    if parsed.is_err() {
        assert!(host.calls().is_empty(), "a script that does not parse ran something");
        assert!(!result.success);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(script in arbitrary_text()) {
        exercise(&script);
    }

    #[test]
    fn powershell_like_token_soup_never_panics(script in soup()) {
        exercise(&script);
    }

    #[test]
    fn token_soup_inside_a_command_never_panics(inner in soup(), outer in 0..4usize) {
        let script = match outer {
            0 => format!("Get-Mailbox | Where-Object {{{inner}}}"),
            1 => format!("Echo-Args \"{inner}\""),
            2 => format!("Set-Mailbox mary -GrantSendOnBehalfTo @{{{inner}}}"),
            _ => format!("Echo-Args ({inner})"),
        };
        exercise(&script);
    }
}

// ---- Round trip: a generated command line binds to exactly the generated values. ----

/// Parameters the generated command has: the kind decides whether the value is one string or a list.
const PARAMS: &[(&str, ParamKind)] = &[
    ("Identity", ParamKind::String),
    ("User", ParamKind::String),
    ("Name", ParamKind::String),
    ("DisplayName", ParamKind::String),
    ("Notes", ParamKind::String),
    ("Department", ParamKind::String),
    ("Members", ParamKind::Strings),
    ("ManagedBy", ParamKind::Strings),
    ("AcceptMessagesOnlyFrom", ParamKind::Strings),
];

/// A host offering one command, of a generated name, with [`PARAMS`].
struct OneCommandHost {
    name: &'static str,
    calls: Mutex<Vec<Invocation>>,
}

#[async_trait::async_trait]
impl Host for OneCommandHost {
    fn command(&self, name: &str) -> Option<CommandInfo> {
        name.eq_ignore_ascii_case(self.name)
            .then(|| CommandInfo::new(self.name, PARAMS.iter().map(|(n, k)| ParamInfo::new(n, *k)).collect()))
    }

    async fn invoke(&self, call: Invocation) -> Result<Output, CommandError> {
        self.calls.lock().unwrap().push(call);
        Ok(Output::default())
    }
}

/// Single-quotes `s` as PowerShell reads it: every kind of single quote is doubled.
fn quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

fn value_text() -> impl Strategy<Value = String> {
    prop_oneof![
        arbitrary_text(),
        prop::collection::vec(prop::sample::select(TOKENS), 0..8).prop_map(|p| p.concat()),
        Just(String::new()),
        Just("it's".to_string()),
        Just("''".to_string()),
    ]
}

/// How a parameter and its value are written.
#[derive(Debug, Clone)]
struct Written {
    /// Index into [`PARAMS`].
    param: usize,
    values: Vec<String>,
    colon: bool,
    upper: bool,
    /// Separator before the parameter: spaces, a tab, or a backtick line continuation.
    separator: &'static str,
}

fn written() -> impl Strategy<Value = Written> {
    (
        0..PARAMS.len(),
        prop::collection::vec(value_text(), 1..4),
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(&[" ", "  ", "\t", " `\n  ", " `\r\n\t"][..]),
    )
        .prop_map(|(param, mut values, colon, upper, separator)| {
            if PARAMS[param].1 == ParamKind::String {
                values.truncate(1);
            }
            Written { param, values, colon, upper, separator }
        })
}

fn command_name() -> impl Strategy<Value = String> {
    // Nouns of the built-ins are avoided: `Sort-Object` would be the built-in, not the host's command.
    const BUILT_IN_NOUNS: &[&str] =
        &["object", "list", "table", "json", "securestring", "output", "host", "warning", "error", "string", "null"];
    ("[A-Z][a-z]{1,8}", "[A-Z][A-Za-z]{1,15}")
        .prop_filter("a built-in's noun", |(_, noun)| !BUILT_IN_NOUNS.contains(&noun.to_lowercase().as_str()))
        .prop_map(|(verb, noun)| format!("{verb}-{noun}"))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn generated_command_lines_bind_exactly_their_values(
        name in command_name(),
        params in prop::collection::vec(written(), 0..6),
        list_spacing in prop::sample::select(&[",", ", ", " , ", ",\n  "][..]),
    ) {
        // Each parameter at most once (a repeat is an error, tested elsewhere).
        let mut seen = std::collections::BTreeSet::new();
        let params: Vec<Written> = params.into_iter().filter(|w| seen.insert(w.param)).collect();
        let mut script = name.clone();
        let mut expected: BTreeMap<&'static str, Arg> = BTreeMap::new();
        for w in &params {
            let (pname, kind) = PARAMS[w.param];
            let typed = if w.upper { pname.to_uppercase() } else { pname.to_string() };
            let value = w.values.iter().map(|v| quote(v)).collect::<Vec<_>>().join(list_spacing);
            script.push_str(w.separator);
            script.push_str(&format!("-{typed}{}{value}", if w.colon { ":" } else { " " }));
            expected.insert(pname, match kind {
                ParamKind::Strings => Arg::Strings(w.values.clone()),
                _ => Arg::String(w.values[0].clone()),
            });
        }

        // The parser sees one command with exactly these parameters and values.
        let parsed = syntax::parse(&script).unwrap_or_else(|e| panic!("{script:?} does not parse: {e}"));
        prop_assert_eq!(parsed.statements.len(), 1);
        prop_assert_eq!(&parsed.statements[0].text, &script);
        let syntax::StatementKind::Pipeline(p) = &parsed.statements[0].kind else { panic!("not a pipeline") };
        let [syntax::PipelineElement::Command(c)] = p.elements.as_slice() else { panic!("not one command") };
        prop_assert_eq!(&c.name, &name);
        prop_assert_eq!(split_statements(&script).unwrap(), vec![script.clone()]);
        prop_assert!(!is_incomplete(&script));

        // The host receives exactly these values.
        let host = OneCommandHost { name: Box::leak(name.clone().into_boxed_str()), calls: Mutex::new(Vec::new()) };
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let result = rt.block_on(Session::new().run(&host, &script));
        prop_assert!(result.success, "{:?} failed: {:?}", script, result.errors);
        let calls = host.calls.into_inner().unwrap();
        prop_assert_eq!(calls.len(), 1);
        prop_assert_eq!(&calls[0].args, &expected);
        prop_assert_eq!(&calls[0].line, &script);
    }
}

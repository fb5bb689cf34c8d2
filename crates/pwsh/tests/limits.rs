//! Hostile or accidental input: huge lines, deep nesting, long operator chains and runaway recursion must end
//! in an error that says what is wrong — never a hang, a panic or a stack overflow that takes the server down.
//! Whatever could recurse deeply runs on a thread with a 2 MiB stack, the size of a tokio worker's, in debug
//! builds too.

#![allow(clippy::unwrap_used, clippy::expect_used, reason = "tests fail loudly on unexpected results")]

mod common;

use common::run;
use deputy_pwsh::{MAX_NESTING, syntax};

/// Runs `f` on a thread with a tokio worker's default stack (2 MiB).
fn on_worker_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let handle = std::thread::Builder::new().stack_size(2 * 1024 * 1024).spawn(f).unwrap();
    handle.join().unwrap()
}

/// Scripts nesting one construct `n` levels deep.
fn nested(kind: &str, n: usize) -> String {
    match kind {
        "paren" => format!("{}1{}", "(".repeat(n), ")".repeat(n)),
        "subexpression" => format!("{}1{}", "$(".repeat(n), ")".repeat(n)),
        "array" => format!("{}1{}", "@(".repeat(n), ")".repeat(n)),
        "hashtable" => format!("{}1{}", "@{a=".repeat(n), "}".repeat(n)),
        "block" => format!("{}1{}", "{".repeat(n), "}".repeat(n)),
        "string" => format!("{}1{}", "\"$(".repeat(n), ")\"".repeat(n)),
        "command" => format!("{}1{}", "Echo-Args (".repeat(n), ")".repeat(n)),
        "where" => format!("{}$true{}", "Echo-Args 1 | Where-Object {".repeat(n), "}".repeat(n)),
        "foreach" => format!("{}$_{}", "1 | ForEach-Object {".repeat(n), "}".repeat(n)),
        "index" => format!("$a{}", "[0]".repeat(n)),
        "nested index" => format!("{}0{}", "$a[".repeat(n), "]".repeat(n)),
        "cast" => format!("{}1", "[string]".repeat(n)),
        "not" => format!("{}1", "!".repeat(n)),
        "-not" => format!("{}1", "-not ".repeat(n)),
        "negate" => format!("{}1{}", "-(".repeat(n), ")".repeat(n)),
        "plus" => format!("1{}", " + 1".repeat(n)),
        "compare" => format!("$a{}", " -eq 1".repeat(n)),
        "or" => format!("$false{}", " -or $false".repeat(n)),
        "member" => format!("$a{}", ".b".repeat(n)),
        other => panic!("no such construct {other}"),
    }
}

const KINDS: &[&str] = &[
    "paren",
    "subexpression",
    "array",
    "hashtable",
    "block",
    "string",
    "command",
    "where",
    "foreach",
    "index",
    "nested index",
    "cast",
    "not",
    "-not",
    "negate",
    "plus",
    "compare",
    "or",
    "member",
];

#[test]
fn ten_thousand_levels_of_nesting_are_an_error_not_a_stack_overflow() {
    on_worker_stack(|| {
        for kind in KINDS {
            let script = nested(kind, 10_000);
            let e = syntax::parse(&script).expect_err(kind);
            assert!(e.message.contains(&format!("deeper than {MAX_NESTING} levels")), "{kind}: {e}");
            let (result, host) = run(&script);
            assert!(!result.success, "{kind}");
            assert!(host.calls().is_empty(), "{kind}: nothing runs when the script does not parse");
        }
        // Unclosed openers, as a fuzzer or a stuck key produces them.
        for opener in ["(", "@(", "$(", "{", "@{a=", "[int]", "!", "\"$(", "-not ", "$a["] {
            let script = opener.repeat(10_000);
            assert!(syntax::parse(&script).is_err(), "{opener}");
            assert!(!run(&script).0.success, "{opener}");
        }
    });
}

#[test]
fn the_deepest_accepted_nesting_parses_and_runs_on_a_worker_stack() {
    on_worker_stack(|| {
        for kind in KINDS {
            // The deepest nesting of this construct the parser accepts.
            let depth = (1..=MAX_NESTING + 1).rev().find(|&n| syntax::parse(&nested(kind, n)).is_ok()).unwrap();
            assert!(depth >= MAX_NESTING / 2, "{kind}: only {depth} levels accepted");
            assert!(syntax::parse(&nested(kind, depth + 1)).is_err(), "{kind}");
            // Running it must not overflow the stack; what it outputs does not matter here.
            let _ = run(&nested(kind, depth));
        }
    });
}

#[test]
fn realistic_nesting_and_operator_chains_are_accepted() {
    on_worker_stack(|| {
        let filter = (0..30).map(|i| format!("$_.Name -eq 'user{i}'")).collect::<Vec<_>>().join(" -or ");
        let (result, _) = run(&format!(
            "Get-Mailbox | Where-Object {{ {filter} -or $_.Alias -eq 'rob' }} | ForEach-Object {{ $_.Alias }}"
        ));
        assert_eq!(result.errors, Vec::<String>::new());
        assert_eq!(result.output, "rob\n");
        let (result, _) = run(&format!("{} 1", "1 +".repeat(40)));
        assert_eq!(result.output, "41\n");
        let (result, _) = run(&format!("{}@(1, @{{a=@(2)}}){}.Count", "(".repeat(10), ")".repeat(10)));
        assert_eq!(result.output, "2\n");
    });
}

#[test]
fn a_script_block_that_calls_itself_stops_with_a_call_depth_error() {
    on_worker_stack(|| {
        let (result, _) = run("$sb = { 1 | ForEach-Object $sb }; 1 | ForEach-Object $sb");
        assert!(!result.success);
        assert!(
            result.errors.iter().any(|e| e.contains("The script failed due to call depth overflow.")),
            "{:?}",
            result.errors
        );
        let (result, _) = run("$f = { Get-Mailbox | Where-Object $f }; Get-Mailbox | Where-Object $f");
        assert!(result.errors.iter().any(|e| e.contains("call depth overflow")), "{:?}", result.errors);
        // Each call making two more would take 2^depth calls if the overflow were only reported: it stops the
        // script at once instead, so nothing after it runs on a half-done state.
        let (result, _) = run("$sb = { 1, 2 | ForEach-Object $sb }; 1 | ForEach-Object $sb; 'after'");
        assert_eq!(result.errors.len(), 1, "{:?}", result.errors);
        assert!(!result.output.contains("after"), "{:?}", result.output);
    });
}

#[test]
fn a_huge_single_line_is_an_error() {
    let mb = 1024 * 1024;
    let scripts = [
        format!("Get-Mailbox {}", "a".repeat(mb)),
        format!("Get-Mailbox {}", "a ".repeat(mb / 2)),
        format!("Get-Mailbox {}a", "a,".repeat(mb / 2)),
        format!("Echo-Args '{}'", "x".repeat(mb)),
        format!("Echo-Args \"{}\"", "$x".repeat(mb / 2)),
        // Each `${` without a closing brace used to rescan the rest of the line: quadratic time.
        format!("Echo-Args \"{}\"", "${".repeat(mb / 2)),
        format!("Echo-Args \"{}\"", "$(".repeat(mb / 2)),
        format!("1{}", "+1".repeat(mb / 2)),
        format!("$a{}", ".b".repeat(mb / 2)),
        format!("Echo-Args {}", "(".repeat(mb)),
        format!("Echo-Args {}", "-x ".repeat(mb / 3)),
        "; ".repeat(mb / 2),
    ];
    on_worker_stack(move || {
        for script in &scripts {
            let (result, host) = run(script);
            if script.starts_with(';') {
                // Only empty statements: nothing to run, nothing wrong.
                assert!(result.success, "{:?}", result.errors);
                continue;
            }
            assert!(!result.success, "a 1 MB line must not run: {}…", &script[..40]);
            assert!(host.calls().is_empty());
        }
    });
    let e = syntax::parse(&format!("Get-Mailbox {}", "a".repeat(mb))).unwrap_err();
    assert!(e.message.contains("accepts statements up to 262144 bytes"), "{e}");
    let e = syntax::parse(&"a".repeat(deputy_pwsh::MAX_SCRIPT_BYTES + 1)).unwrap_err();
    assert!(e.message.contains("accepts scripts up to"), "{e}");
}

#[test]
fn many_small_statements_within_the_limits_run() {
    let script = "Echo-Args 1\n".repeat(2000);
    let (result, host) = run(&script);
    assert!(result.success);
    assert_eq!(host.calls().len(), 2000);
}

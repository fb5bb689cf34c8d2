//! `deputy shell`: an Exchange Management Shell talking to a server's admin API.

use clap::Args;
use deputy_admin::{RunResponse, SessionToken};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Flags of `deputy shell` (interface.md).
#[derive(Args)]
pub struct ShellArgs {
    /// The server's HTTP address.
    #[arg(long, env = "DEPUTY_SERVER", default_value = "http://127.0.0.1:8080")]
    server: String,
    /// The administrator's UPN (or any identity of the account).
    #[arg(long, env = "DEPUTY_USER", default_value = "admin")]
    user: String,
    /// The administrator's password.
    #[arg(long, env = "DEPUTY_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Run these statements and exit.
    #[arg(short = 'c', conflicts_with = "file")]
    command: Option<String>,
    /// Run this script file and exit.
    #[arg(short = 'f')]
    file: Option<PathBuf>,
}

struct Client {
    agent: ureq::Agent,
    server: String,
    token: String,
}

impl Client {
    fn sign_in(server: &str, user: &str, password: &str) -> Result<Self, String> {
        let agent: ureq::Agent = ureq::Agent::config_builder().http_status_as_error(false).build().into();
        let server = server.trim_end_matches('/').to_owned();
        let mut resp = agent
            .post(&format!("{server}/admin/v1/sessions"))
            .send_json(serde_json::json!({ "user": user, "password": password }))
            .map_err(|e| format!("cannot reach {server}: {e}"))?;
        if resp.status().as_u16() != 201 {
            let body: serde_json::Value = resp.body_mut().read_json().unwrap_or_default();
            let why = body["error"].as_str().unwrap_or("sign-in refused").to_owned();
            return Err(format!("sign-in as {user} failed: {why}"));
        }
        let token: SessionToken = resp.body_mut().read_json().map_err(|e| format!("bad answer from {server}: {e}"))?;
        Ok(Self { agent, server, token: token.token })
    }

    fn run(&self, script: &str) -> Result<RunResponse, String> {
        let mut resp = self
            .agent
            .post(&format!("{}/admin/v1/run", self.server))
            .header("Authorization", &format!("Bearer {}", self.token))
            .send_json(serde_json::json!({ "script": script }))
            .map_err(|e| format!("lost the server {}: {e}", self.server))?;
        if !resp.status().is_success() {
            let body: serde_json::Value = resp.body_mut().read_json().unwrap_or_default();
            return Err(body["error"].as_str().unwrap_or("the server refused the request").to_owned());
        }
        resp.body_mut().read_json().map_err(|e| format!("bad answer from {}: {e}", self.server))
    }
}

/// Prints one statement's result; returns whether it succeeded.
fn show(result: &RunResponse) -> bool {
    let mut out = std::io::stdout().lock();
    if !result.output.is_empty() {
        let _ = write!(out, "{}", result.output);
        if !result.output.ends_with('\n') {
            let _ = writeln!(out);
        }
    }
    let _ = out.flush();
    for w in &result.warnings {
        eprintln!("{w}");
    }
    for e in &result.errors {
        eprintln!("{e}");
    }
    result.success
}

/// Runs a script statement by statement, printing each result as it arrives,
/// so every statement that reported success has been committed.
fn run_script(client: &Client, script: &str) -> bool {
    let statements = match deputy_pwsh::split_statements(script) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            return false;
        }
    };
    let mut ok = true;
    for statement in statements {
        match client.run(&statement) {
            Ok(result) => ok &= show(&result),
            Err(e) => {
                eprintln!("deputy: {e}");
                return false;
            }
        }
    }
    ok
}

fn interactive(client: &Client) -> bool {
    let stdin = std::io::stdin();
    let tty = stdin.is_terminal();
    let mut ok = true;
    let mut pending = String::new();
    let prompt = |continuation: bool| {
        if tty {
            print!("{}", if continuation { ">> " } else { "PS> " });
            let _ = std::io::stdout().flush();
        }
    };
    prompt(false);
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        pending.push_str(&line);
        pending.push('\n');
        if deputy_pwsh::is_incomplete(&pending) {
            prompt(true);
            continue;
        }
        let text = std::mem::take(&mut pending);
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("exit") {
            break;
        }
        if !trimmed.is_empty() {
            match client.run(&text) {
                Ok(result) => ok &= show(&result),
                Err(e) => {
                    eprintln!("deputy: {e}");
                    ok = false;
                }
            }
        }
        prompt(false);
    }
    ok
}

/// Runs `deputy shell`.
pub fn run(args: ShellArgs) -> ExitCode {
    let Some(password) = args.password else {
        eprintln!("deputy shell: give the administrator's password with --password or DEPUTY_PASSWORD");
        return ExitCode::FAILURE;
    };
    let client = match Client::sign_in(&args.server, &args.user, &password) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("deputy shell: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ok = if let Some(command) = args.command {
        run_script(&client, &command)
    } else if let Some(file) = args.file {
        match std::fs::read_to_string(&file) {
            Ok(script) => run_script(&client, &script),
            Err(e) => {
                eprintln!("deputy shell: cannot read {}: {e}", file.display());
                false
            }
        }
    } else {
        interactive(&client)
    };
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

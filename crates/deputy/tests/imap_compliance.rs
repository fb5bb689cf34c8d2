//! A protocol compliance suite written from RFC 9051 §6's examples (issue 6:
//! Dovecot's `imaptest` is not packaged here), replayed against the real
//! binary over a raw TCP socket so the exact bytes are checked, on a seeded
//! mailbox: Mary's Inbox holds three messages delivered by SMTP (UIDs 1–3).
//! Values the RFC's examples show (UIDs, counts) are adapted to that data.
//! The end of the file sends the hostile input of issue 6's "Bad input".

#![allow(clippy::expect_used, reason = "test scaffolding: a failed expectation is a failed test")]

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::{Server, TempDir, init};

const MARY_PW: &str = "M4ry!Passw0rd";
const SYSTEM_FLAGS: &str = r"(\Seen \Answered \Flagged \Deleted \Draft)";

/// A server with Mary, whose Inbox holds `note 1`, `note 2`, `note 3` (UIDs 1–3, all unseen).
fn seeded(name: &str) -> (TempDir, Server) {
    let dir = TempDir::new(name);
    assert!(init(&dir.0, "contoso.test").status.success());
    let server = Server::start(&dir.0);
    server
        .shell(&format!(
            "New-Mailbox -Name 'Mary Smith' -Alias mary -Password (ConvertTo-SecureString -String '{MARY_PW}' -AsPlainText -Force)"
        ))
        .expect_ok();
    let script = format!(
        r#"
import smtplib
s = smtplib.SMTP('{host}', {port})
for n in (1, 2, 3):
    s.sendmail('partner@fabrikam.test', ['mary@contoso.test'],
        'From: partner@fabrikam.test\r\nTo: mary@contoso.test\r\nSubject: note %d\r\nMessage-ID: <n%d@fabrikam.test>\r\n\r\nHello %d.\r\n' % (n, n, n))
s.quit()
"#,
        host = server.smtp.ip(),
        port = server.smtp.port(),
    );
    let out = std::process::Command::new("python3").args(["-c", &script]).output().expect("python3 runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    (dir, server)
}

/// A raw IMAP connection: bytes out, whole responses (literals included) in.
struct Client {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Client {
    /// Connects and returns the greeting.
    fn connect(server: &Server) -> (Self, String) {
        let w = TcpStream::connect(server.imap).expect("connect to IMAP");
        w.set_read_timeout(Some(Duration::from_secs(30))).expect("set a timeout");
        let mut c = Client { r: BufReader::new(w.try_clone().expect("clone the socket")), w };
        let greeting = c.response();
        (c, greeting)
    }

    /// Connected and signed in as Mary.
    fn mary(server: &Server) -> Self {
        let (mut c, _) = Self::connect(server);
        let login = c.cmd(&format!("L LOGIN mary@contoso.test {MARY_PW}"));
        assert!(login[0].starts_with("L OK [CAPABILITY IMAP4rev1 "), "{login:?}");
        c
    }

    fn send(&mut self, bytes: &[u8]) {
        self.w.write_all(bytes).expect("write to the server");
    }

    /// One response without its final CRLF; a literal's bytes are kept inline. Empty at EOF.
    fn response(&mut self) -> String {
        let mut text = Vec::new();
        loop {
            let mut line = Vec::new();
            self.r.read_until(b'\n', &mut line).expect("read from the server");
            let done = !line.ends_with(b"}\r\n");
            text.extend_from_slice(&line);
            if done {
                break;
            }
            let open = text.iter().rposition(|&b| b == b'{').expect("a literal opens");
            let n: usize = std::str::from_utf8(&text[open + 1..text.len() - 3])
                .expect("literal size is ASCII")
                .parse()
                .expect("literal size");
            let mut literal = vec![0; n];
            self.r.read_exact(&mut literal).expect("read a literal");
            text.extend_from_slice(&literal);
        }
        let text = String::from_utf8(text).expect("responses are UTF-8 here");
        text.strip_suffix("\r\n").unwrap_or(&text).to_owned()
    }

    /// Reads responses up to and including the one tagged `tag`.
    fn until(&mut self, tag: &str) -> Vec<String> {
        let mut got = Vec::new();
        loop {
            let r = self.response();
            assert!(!r.is_empty(), "connection closed before {tag} was answered: {got:?}");
            let last = r.starts_with(&format!("{tag} "));
            got.push(r);
            if last {
                return got;
            }
        }
    }

    /// Sends `line` (which starts with its tag) and returns the responses to it.
    fn cmd(&mut self, line: &str) -> Vec<String> {
        self.send(format!("{line}\r\n").as_bytes());
        self.until(line.split(' ').next().expect("a tag"))
    }

    /// The UIDVALIDITY of `mailbox`, from STATUS.
    fn uidvalidity(&mut self, mailbox: &str) -> u32 {
        let r = self.cmd(&format!("V STATUS {mailbox} (UIDVALIDITY)"));
        r[0].rsplit(' ').next().and_then(|v| v.strip_suffix(')')).and_then(|v| v.parse().ok()).expect("UIDVALIDITY")
    }
}

fn lines(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

/// RFC 9051 §6.1 (any state) and §6.2 (not authenticated), with ENABLE (§6.3.1).
#[test]
fn any_state_and_not_authenticated_commands() {
    let (_dir, server) = seeded("imapc-state");
    let (mut c, greeting) = Client::connect(&server);
    assert!(
        greeting.starts_with("* OK [CAPABILITY IMAP4rev1 ") && greeting.ends_with(" IMAP4rev1 ready"),
        "{greeting}"
    );

    // §6.1.1 CAPABILITY: one untagged CAPABILITY, IMAP4rev1 first, then OK.
    let r = c.cmd("abcd CAPABILITY");
    assert_eq!(r.len(), 2, "{r:?}");
    let caps: Vec<&str> = r[0].strip_prefix("* CAPABILITY ").expect("untagged CAPABILITY").split(' ').collect();
    assert_eq!(caps[0], "IMAP4rev1");
    for cap in [
        "LITERAL+",
        "ENABLE",
        "IDLE",
        "NAMESPACE",
        "UNSELECT",
        "UIDPLUS",
        "MOVE",
        "ESEARCH",
        "CONDSTORE",
        "SEARCHRES",
        "CHILDREN",
    ] {
        assert!(caps.contains(&cap), "{cap} in {caps:?}");
    }
    assert!(caps.contains(&"AUTH=PLAIN") && caps.contains(&"STARTTLS"), "{caps:?}");
    assert_eq!(r[1], "abcd OK CAPABILITY completed");

    // §6.1.2 NOOP in any state; commands of other states are BAD.
    assert_eq!(c.cmd("a002 NOOP"), lines(&["a002 OK NOOP completed"]));
    assert_eq!(c.cmd("a003 SELECT INBOX"), lines(&["a003 BAD Sign in first"]));

    // §6.2.3 LOGIN: a wrong password is NO [AUTHENTICATIONFAILED]; success carries the new capabilities.
    assert_eq!(
        c.cmd("a001 LOGIN mary@contoso.test wrong"),
        lines(&["a001 NO [AUTHENTICATIONFAILED] Invalid credentials"])
    );
    let r = c.cmd(&format!("a001 LOGIN mary@contoso.test {MARY_PW}"));
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].starts_with("a001 OK [CAPABILITY IMAP4rev1 ") && !r[0].contains("AUTH="), "{r:?}");
    assert_eq!(c.cmd("a004 LOGIN mary@contoso.test x"), lines(&["a004 BAD Already signed in"]));

    // §6.3.1 ENABLE: only what the server supports is reported as enabled.
    assert_eq!(c.cmd("t2 ENABLE CONDSTORE X-GOOD-IDEA"), lines(&["* ENABLED CONDSTORE", "t2 OK ENABLE completed"]));

    // §6.1.3 LOGOUT: BYE, then OK, then the server closes.
    assert_eq!(c.cmd("A023 LOGOUT"), lines(&["* BYE Logging out", "A023 OK LOGOUT completed"]));
    assert_eq!(c.response(), "", "the server closes the connection after LOGOUT");
}

/// SELECT's untagged responses, in the order RFC 9051 §6.3.2's example shows them.
fn selected(
    tag: &str,
    exists: u32,
    unseen: Option<u32>,
    v: u32,
    next: u32,
    modseq: u64,
    read_only: bool,
) -> Vec<String> {
    let mut r = vec![format!("* {exists} EXISTS"), "* 0 RECENT".to_owned(), format!("* FLAGS {SYSTEM_FLAGS}")];
    if let Some(u) = unseen {
        r.push(format!("* OK [UNSEEN {u}] First unseen"));
    }
    let permanent = if read_only { "()" } else { SYSTEM_FLAGS };
    r.push(format!("* OK [PERMANENTFLAGS {permanent}] Limited"));
    r.push(format!("* OK [UIDVALIDITY {v}] UIDs valid"));
    r.push(format!("* OK [UIDNEXT {next}] Predicted next UID"));
    r.push(format!("* OK [HIGHESTMODSEQ {modseq}] Highest"));
    let code = if read_only { "READ-ONLY" } else { "READ-WRITE" };
    r.push(format!("{tag} OK [{code}] SELECT completed"));
    r
}

/// RFC 9051 §6.3 (authenticated state): SELECT, EXAMINE, CREATE, DELETE,
/// RENAME, SUBSCRIBE, UNSUBSCRIBE, LIST, NAMESPACE, STATUS, APPEND.
#[test]
fn authenticated_state_commands() {
    let (_dir, server) = seeded("imapc-auth");
    let mut c = Client::mary(&server);
    let v = c.uidvalidity("INBOX");

    // §6.3.11 STATUS.
    assert_eq!(
        c.cmd("A042 STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)"),
        vec![
            format!("* STATUS \"INBOX\" (MESSAGES 3 UIDNEXT 4 UIDVALIDITY {v} UNSEEN 3)"),
            "A042 OK STATUS completed".to_owned()
        ]
    );
    assert_eq!(c.cmd("A043 STATUS blurdybloop (MESSAGES)"), lines(&["A043 NO [NONEXISTENT] No such mailbox"]));

    // §6.3.2 SELECT (INBOX is case-insensitive), §6.3.3 EXAMINE.
    assert_eq!(c.cmd("A142 SELECT inbox"), selected("A142", 3, Some(1), v, 4, 4, false));
    assert_eq!(c.cmd("A932 EXAMINE INBOX"), selected("A932", 3, Some(1), v, 4, 4, true));
    // A failed SELECT leaves no mailbox selected.
    assert_eq!(c.cmd("A143 SELECT blurdybloop"), lines(&["A143 NO [NONEXISTENT] No such mailbox"]));
    assert_eq!(c.cmd("A144 FETCH 1 FLAGS"), lines(&["A144 BAD Select a mailbox first"]));

    // §6.3.4 CREATE, with a trailing delimiter and with a level under it.
    assert_eq!(c.cmd("A003 CREATE owatagusiam/"), lines(&["A003 OK CREATE completed"]));
    assert_eq!(c.cmd("A004 CREATE owatagusiam/blurdybloop"), lines(&["A004 OK CREATE completed"]));
    assert_eq!(c.cmd("A005 CREATE owatagusiam"), lines(&["A005 NO [ALREADYEXISTS] Mailbox exists already"]));

    // §6.3.9 LIST: "" asks for the delimiter; % stops at a level; * does not.
    assert_eq!(c.cmd(r#"A101 LIST "" """#), lines(&[r#"* LIST (\Noselect) "/" """#, "A101 OK LIST completed"]));
    // CHILDREN (RFC 3348): every LIST line says whether the mailbox has children.
    let top = [
        r#"* LIST (\Archive \HasNoChildren) "/" "Archive""#,
        r#"* LIST (\Trash \HasNoChildren) "/" "Deleted Items""#,
        r#"* LIST (\Drafts \HasNoChildren) "/" "Drafts""#,
        r#"* LIST (\HasNoChildren) "/" "INBOX""#,
        r#"* LIST (\Junk \HasNoChildren) "/" "Junk Email""#,
        r#"* LIST (\HasNoChildren) "/" "Outbox""#,
        r#"* LIST (\Sent \HasNoChildren) "/" "Sent Items""#,
        r#"* LIST (\HasChildren) "/" "owatagusiam""#,
    ];
    assert_eq!(c.cmd(r#"A102 LIST "" %"#), lines(&[&top[..], &["A102 OK LIST completed"]].concat()));
    let all =
        [&top[..], &[r#"* LIST (\HasNoChildren) "/" "owatagusiam/blurdybloop""#, "A103 OK LIST completed"]].concat();
    assert_eq!(c.cmd(r#"A103 LIST "" *"#), lines(&all));
    let under = lines(&[r#"* LIST (\HasNoChildren) "/" "owatagusiam/blurdybloop""#, "A104 OK LIST completed"]);
    assert_eq!(c.cmd(r#"A104 LIST "owatagusiam/" %"#), under);
    assert_eq!(c.cmd(r#"A105 LIST "" "Sent*""#), lines(&[top[6], "A105 OK LIST completed"]));
    assert_eq!(c.cmd(r#"A106 LIST "" nothing-like-this"#), lines(&["A106 OK LIST completed"]));
    // RFC 5258: several patterns list each mailbox once; RECURSIVEMATCH names
    // an unsubscribed parent of a subscribed mailbox with CHILDINFO (§3.5).
    let several = lines(&[top[3], top[6], "A107 OK LIST completed"]);
    assert_eq!(c.cmd(r#"A107 LIST "" ("INBOX" "Sent*" INBOX)"#), several);
    assert_eq!(c.cmd("A108 UNSUBSCRIBE owatagusiam"), lines(&["A108 OK UNSUBSCRIBE completed"]));
    let parent = r#"* LIST (\HasChildren) "/" "owatagusiam" ("CHILDINFO" ("SUBSCRIBED"))"#;
    assert_eq!(c.cmd(r#"A109 LIST (SUBSCRIBED RECURSIVEMATCH) "" "owa%""#), lines(&[parent, "A109 OK LIST completed"]));
    assert_eq!(c.cmd(r#"A110 LIST (SUBSCRIBED) "" "owa%""#), lines(&["A110 OK LIST completed"]));
    assert_eq!(c.cmd("A111 SUBSCRIBE owatagusiam"), lines(&["A111 OK SUBSCRIBE completed"]));

    // §6.3.6 RENAME.
    assert_eq!(c.cmd("A682 RENAME owatagusiam/blurdybloop sarasoop"), lines(&["A682 OK RENAME completed"]));
    assert_eq!(
        c.cmd("A683 LIST \"\" sarasoop"),
        lines(&[r#"* LIST (\HasNoChildren) "/" "sarasoop""#, "A683 OK LIST completed"])
    );
    assert_eq!(c.cmd("A684 RENAME blurdybloop x"), lines(&["A684 NO [NONEXISTENT] No such mailbox"]));
    assert_eq!(c.cmd("A685 RENAME sarasoop Drafts"), lines(&["A685 NO [ALREADYEXISTS] The new name is taken"]));

    // §6.3.5 DELETE.
    assert_eq!(c.cmd("A683 DELETE sarasoop"), lines(&["A683 OK DELETE completed"]));
    assert_eq!(c.cmd("A684 DELETE sarasoop"), lines(&["A684 NO [NONEXISTENT] No such mailbox"]));
    let r = c.cmd("A685 DELETE INBOX");
    assert!(r.len() == 1 && r[0].starts_with("A685 NO [CANNOT] "), "{r:?}");

    // §6.3.7–6.3.8 SUBSCRIBE, UNSUBSCRIBE, and LSUB reflecting them.
    assert_eq!(c.cmd("A202 UNSUBSCRIBE \"Junk Email\""), lines(&["A202 OK UNSUBSCRIBE completed"]));
    let lsub = c.cmd("A203 LSUB \"\" *");
    assert!(!lsub.iter().any(|l| l.contains("Junk Email")) && lsub.contains(&r#"* LSUB () "/" "INBOX""#.to_owned()));
    assert_eq!(c.cmd("A204 SUBSCRIBE \"Junk Email\""), lines(&["A204 OK SUBSCRIBE completed"]));
    assert!(c.cmd("A205 LSUB \"\" *").contains(&r#"* LSUB (\Junk) "/" "Junk Email""#.to_owned()));
    assert_eq!(c.cmd("A206 SUBSCRIBE blurdybloop"), lines(&["A206 NO [NONEXISTENT] No such mailbox"]));

    // §6.3.10 NAMESPACE.
    assert_eq!(
        c.cmd("A001 NAMESPACE"),
        lines(&[r#"* NAMESPACE (("" "/")) (("Other Users/" "/")) NIL"#, "A001 OK NAMESPACE completed"])
    );

    // §6.3.12 APPEND: a synchronizing literal waits for `+`; a missing mailbox is [TRYCREATE].
    let message = "Date: Mon, 7 Feb 1994 21:52:25 -0800\r\nFrom: Fred Foobar <foobar@Blurdybloop.example>\r\n\
                   Subject: afternoon meeting\r\nTo: mooch@owatagu.siam.edu.example\r\n\r\nHello Joe, do you think we can meet at 3:30 tomorrow?\r\n";
    c.send(format!("A003 APPEND INBOX (\\Seen) \"07-Feb-1994 21:52:25 -0800\" {{{}}}\r\n", message.len()).as_bytes());
    assert_eq!(c.response(), "+ Ready for literal data");
    c.send(format!("{message}\r\n").as_bytes());
    assert_eq!(c.until("A003"), vec![format!("A003 OK [APPENDUID {v} 4] APPEND completed")]);
    // LITERAL+ (RFC 7888): no continuation.
    c.send(b"A004 APPEND INBOX {5+}\r\nhello\r\n");
    assert_eq!(c.until("A004"), vec![format!("A004 OK [APPENDUID {v} 5] APPEND completed")]);
    c.send(b"A005 APPEND blurdybloop {5+}\r\nhello\r\n");
    assert_eq!(c.until("A005"), lines(&["A005 NO [TRYCREATE] No such mailbox"]));
    assert_eq!(c.cmd("A006 SELECT INBOX"), selected("A006", 5, Some(1), v, 6, 6, false));
    assert_eq!(
        c.cmd("A007 FETCH 4 (FLAGS INTERNALDATE RFC822.SIZE)"),
        vec![
            format!(
                "* 4 FETCH (FLAGS (\\Seen) INTERNALDATE \"08-Feb-1994 05:52:25 +0000\" RFC822.SIZE {})",
                message.len()
            ),
            "A007 OK FETCH completed".to_owned()
        ]
    );
    assert_eq!(
        c.cmd("A008 STATUS INBOX (MESSAGES UIDNEXT UNSEEN)"),
        lines(&[r#"* STATUS "INBOX" (MESSAGES 5 UIDNEXT 6 UNSEEN 4)"#, "A008 OK STATUS completed"])
    );
}

/// RFC 9051 §6.4 (selected state) and §6.4.9 UID: FETCH, SEARCH, STORE, COPY,
/// MOVE, EXPUNGE, CLOSE, UNSELECT, and NOOP reporting another session's APPEND.
#[test]
fn selected_state_commands() {
    let (_dir, server) = seeded("imapc-selected");
    let mut c = Client::mary(&server);
    let (trash, archive) = (c.uidvalidity("\"Deleted Items\""), c.uidvalidity("Archive"));
    let v = c.uidvalidity("INBOX");
    assert_eq!(c.cmd("A1 SELECT INBOX"), selected("A1", 3, Some(1), v, 4, 4, false));

    // §6.4.5 FETCH: BODY[section] sets \Seen and reports it; BODY.PEEK does not.
    assert_eq!(
        c.cmd("A654 FETCH 1:3 (UID FLAGS)"),
        lines(&[
            "* 1 FETCH (UID 1 FLAGS ())",
            "* 2 FETCH (UID 2 FLAGS ())",
            "* 3 FETCH (UID 3 FLAGS ())",
            "A654 OK FETCH completed"
        ])
    );
    assert_eq!(
        c.cmd("A655 FETCH 2 (BODY[HEADER.FIELDS (SUBJECT FROM)])"),
        lines(&[
            "* 2 FETCH (FLAGS (\\Seen) BODY[HEADER.FIELDS (SUBJECT FROM)] {48}\r\nFrom: partner@fabrikam.test\r\nSubject: note 2\r\n\r\n)",
            "A655 OK FETCH completed"
        ])
    );
    assert_eq!(
        c.cmd("A656 FETCH 3 (BODY.PEEK[TEXT] FLAGS)"),
        lines(&["* 3 FETCH (BODY[TEXT] {10}\r\nHello 3.\r\n FLAGS ())", "A656 OK FETCH completed"])
    );
    let r = c.cmd("A657 FETCH 1 (RFC822.SIZE BODY.PEEK[])");
    let (size, body) = r[0]
        .strip_prefix("* 1 FETCH (RFC822.SIZE ")
        .and_then(|s| s.split_once(" BODY[] {"))
        .and_then(|(size, rest)| Some((size.parse::<usize>().ok()?, rest.split_once("}\r\n")?.1)))
        .expect("size and body");
    assert_eq!(size, body.len() - 1, "RFC822.SIZE is the size of BODY[] (then the closing paren)");
    assert!(body.contains("Subject: note 1\r\n") && body.ends_with("\r\n\r\nHello 1.\r\n)"), "{body}");
    // A sequence number beyond EXISTS is BAD (RFC 9051 §9); an unknown UID is just skipped.
    assert_eq!(c.cmd("A658 FETCH 4 FLAGS"), lines(&["A658 BAD No such message sequence number"]));
    assert_eq!(
        c.cmd("A659 UID FETCH 2,9 FLAGS"),
        lines(&["* 2 FETCH (UID 2 FLAGS (\\Seen))", "A659 OK FETCH completed"])
    );

    // §6.4.4 SEARCH (and UID SEARCH, CHARSET, ESEARCH's RETURN).
    assert_eq!(c.cmd("A282 SEARCH UNSEEN"), lines(&["* SEARCH 1 3", "A282 OK SEARCH completed"]));
    assert_eq!(
        c.cmd(r#"A283 SEARCH FROM "partner" NOT SUBJECT "note 3""#),
        lines(&["* SEARCH 1 2", "A283 OK SEARCH completed"])
    );
    assert_eq!(
        c.cmd(r#"A284 UID SEARCH OR SUBJECT "note 1" SEEN"#),
        lines(&["* SEARCH 1 2", "A284 OK SEARCH completed"])
    );
    assert_eq!(c.cmd("A285 SEARCH CHARSET UTF-8 TEXT \"Hello 3\""), lines(&["* SEARCH 3", "A285 OK SEARCH completed"]));
    assert_eq!(
        c.cmd("A286 SEARCH CHARSET KOI8-R ALL"),
        lines(&["A286 NO [BADCHARSET (UTF-8)] Only UTF-8 is supported"])
    );
    assert_eq!(c.cmd("A287 SEARCH SUBJECT nothing"), lines(&["* SEARCH", "A287 OK SEARCH completed"]));
    assert_eq!(
        c.cmd("A288 UID SEARCH RETURN (MIN COUNT) ALL"),
        lines(&[r#"* ESEARCH (TAG "A288") UID MIN 1 COUNT 3"#, "A288 OK SEARCH completed"])
    );

    // §6.4.6 STORE: the new flags come back unless .SILENT.
    assert_eq!(
        c.cmd("A003 STORE 1 +FLAGS (\\Flagged)"),
        lines(&["* 1 FETCH (FLAGS (\\Flagged))", "A003 OK STORE completed"])
    );
    assert_eq!(c.cmd("A004 STORE 1 +FLAGS.SILENT (\\Deleted)"), lines(&["A004 OK STORE completed"]));
    assert_eq!(
        c.cmd("A005 UID STORE 1 -FLAGS (\\Flagged)"),
        lines(&["* 1 FETCH (FLAGS (\\Deleted) UID 1)", "A005 OK STORE completed"])
    );

    // §6.4.7 COPY with UIDPLUS's [COPYUID]; a missing target is [TRYCREATE].
    assert_eq!(c.cmd("A006 COPY 2 blurdybloop"), lines(&["A006 NO [TRYCREATE] No such mailbox"]));
    assert_eq!(
        c.cmd("A007 COPY 2:3 \"Deleted Items\""),
        vec![format!("A007 OK [COPYUID {trash} 2,3 1,2] COPY completed")]
    );
    assert_eq!(c.cmd("A008 UID COPY 3 Archive"), vec![format!("A008 OK [COPYUID {archive} 3 1] COPY completed")]);

    // §6.4.8 MOVE: [COPYUID] in an untagged OK, then EXPUNGE, then OK.
    assert_eq!(
        c.cmd("A009 MOVE 3 Archive"),
        vec![
            format!("* OK [COPYUID {archive} 3 2] Moved"),
            "* 3 EXPUNGE".to_owned(),
            "A009 OK MOVE completed".to_owned()
        ]
    );

    // §6.4.3 EXPUNGE: message 1 carries \Deleted.
    assert_eq!(c.cmd("A202 EXPUNGE"), lines(&["* 1 EXPUNGE", "A202 OK EXPUNGE completed"]));

    // §6.1.2 NOOP reports what another session appended.
    let mut other = Client::mary(&server);
    other.send(b"B1 APPEND INBOX {5+}\r\nhello\r\n");
    assert_eq!(other.until("B1"), vec![format!("B1 OK [APPENDUID {v} 4] APPEND completed")]);
    assert_eq!(c.cmd("A203 NOOP"), lines(&["* 2 EXISTS", "A203 OK NOOP completed"]));
    // ... and flags another session changed (with MODSEQ once CONDSTORE is on, RFC 7162 §3.2).
    other.cmd("B2 SELECT INBOX");
    assert_eq!(other.cmd("B3 UID STORE 2 +FLAGS.SILENT (\\Flagged)"), lines(&["B3 OK STORE completed"]));
    assert_eq!(c.cmd("A203 NOOP"), lines(&["* 1 FETCH (FLAGS (\\Seen \\Flagged))", "A203 OK NOOP completed"]));
    let mut cs = Client::mary(&server);
    cs.cmd("C1 ENABLE CONDSTORE");
    cs.cmd("C2 SELECT INBOX");
    assert_eq!(other.cmd("B4 UID STORE 2 -FLAGS.SILENT (\\Flagged)"), lines(&["B4 OK STORE completed"]));
    let r = cs.cmd("C3 NOOP");
    assert!(
        r.len() == 2 && r[0].starts_with("* 1 FETCH (FLAGS (\\Seen) MODSEQ (") && r[1] == "C3 OK NOOP completed",
        "{r:?}"
    );
    // A session is not told again about a change it made and reported itself.
    let r = cs.cmd("C4 STORE 1 -FLAGS (\\Seen)");
    assert!(r.len() == 2 && r[0].starts_with("* 1 FETCH (FLAGS () MODSEQ ("), "{r:?}");
    assert_eq!(cs.cmd("C5 NOOP"), lines(&["C5 OK NOOP completed"]));
    assert_eq!(c.cmd("A203 NOOP"), lines(&["* 1 FETCH (FLAGS ())", "A203 OK NOOP completed"]));

    // UID MOVE and UID EXPUNGE (RFC 4315) name messages by UID.
    assert_eq!(
        c.cmd("A204 UID MOVE 2 Archive"),
        vec![
            format!("* OK [COPYUID {archive} 2 3] Moved"),
            "* 1 EXPUNGE".to_owned(),
            "A204 OK MOVE completed".to_owned()
        ]
    );
    assert_eq!(c.cmd("A205 STORE 1 +FLAGS.SILENT (\\Deleted)"), lines(&["A205 OK STORE completed"]));
    assert_eq!(c.cmd("A206 UID EXPUNGE 1:3"), lines(&["A206 OK EXPUNGE completed"]));
    assert_eq!(c.cmd("A207 UID EXPUNGE 4"), lines(&["* 1 EXPUNGE", "A207 OK EXPUNGE completed"]));

    // EXAMINE'd mailboxes refuse changes.
    assert_eq!(c.cmd("A300 EXAMINE Archive"), selected("A300", 3, Some(1), archive, 4, 4, true));
    assert_eq!(c.cmd("A301 STORE 1 +FLAGS (\\Seen)"), lines(&["A301 NO [READ-ONLY] Mailbox is read-only"]));

    // §6.4.1 CLOSE expunges silently; §6.4.2 UNSELECT does not expunge.
    let r = c.cmd("A310 SELECT Archive");
    assert_eq!(r.last().map(String::as_str), Some("A310 OK [READ-WRITE] SELECT completed"), "{r:?}");
    assert_eq!(c.cmd("A311 STORE 1 +FLAGS.SILENT (\\Deleted)"), lines(&["A311 OK STORE completed"]));
    assert_eq!(c.cmd("A312 UNSELECT"), lines(&["A312 OK Mailbox closed"]));
    assert_eq!(
        c.cmd("A313 STATUS Archive (MESSAGES)"),
        lines(&[r#"* STATUS "Archive" (MESSAGES 3)"#, "A313 OK STATUS completed"])
    );
    c.cmd("A314 SELECT Archive");
    assert_eq!(c.cmd("A341 CLOSE"), lines(&["A341 OK Mailbox closed"]));
    assert_eq!(c.cmd("A342 FETCH 1 FLAGS"), lines(&["A342 BAD Select a mailbox first"]));
    assert_eq!(
        c.cmd("A343 STATUS Archive (MESSAGES)"),
        lines(&[r#"* STATUS "Archive" (MESSAGES 2)"#, "A343 OK STATUS completed"])
    );
    assert_eq!(c.cmd("A344 CLOSE"), lines(&["A344 BAD Select a mailbox first"]));
}

/// IMAP4rev2 (RFC 9051) once enabled (§6.3.1): SELECT without RECENT and with
/// its LIST line (§6.3.2), SEARCH answered by ESEARCH (§6.4.4, §7.3.4), UTF-8
/// mailbox names (§5.1), STATUS SIZE (§6.3.11), and RENAME INBOX (§6.3.6)
/// moving the messages and leaving INBOX empty.
#[test]
fn imap4rev2_session_and_rename_inbox() {
    let (_dir, server) = seeded("imapc-rev2");
    let mut c = Client::mary(&server);
    assert_eq!(c.cmd("R1 ENABLE IMAP4rev2"), lines(&["* ENABLED IMAP4rev2", "R1 OK ENABLE completed"]));
    let r = c.cmd("R2 SELECT INBOX");
    assert!(r.contains(&"* 3 EXISTS".to_owned()) && !r.iter().any(|l| l.contains("RECENT")), "{r:?}");
    assert!(r.iter().any(|l| l.starts_with("* LIST (") && l.ends_with(r#" "/" "INBOX""#)), "{r:?}");
    let all = lines(&[r#"* ESEARCH (TAG "R3") ALL 1:3"#, "R3 OK SEARCH completed"]);
    assert_eq!(c.cmd("R3 SEARCH SUBJECT note"), all);
    let one = lines(&[r#"* ESEARCH (TAG "R4") UID ALL 2"#, "R4 OK SEARCH completed"]);
    assert_eq!(c.cmd(r#"R4 UID SEARCH SUBJECT "note 2""#), one);
    // SEARCHRES (§6.4.4.1, RFC 5182): SAVE alone answers nothing; `$` is the saved UIDs.
    assert_eq!(c.cmd(r#"R41 SEARCH RETURN (SAVE) SUBJECT "note 2""#), lines(&["R41 OK SEARCH completed"]));
    assert_eq!(c.cmd("R42 FETCH $ (UID)"), lines(&["* 2 FETCH (UID 2)", "R42 OK FETCH completed"]));
    let saved = lines(&[r#"* ESEARCH (TAG "R43") ALL 1,3"#, "R43 OK SEARCH completed"]);
    assert_eq!(c.cmd("R43 SEARCH NOT $"), saved);
    assert_eq!(c.cmd(r#"R5 CREATE "Réunions/2026""#), lines(&["R5 OK CREATE completed"]));
    let status = lines(&[r#"* STATUS "Réunions/2026" (MESSAGES 0 SIZE 0)"#, "R6 OK STATUS completed"]);
    assert_eq!(c.cmd(r#"R6 STATUS "Réunions/2026" (MESSAGES SIZE)"#), status);
    assert_eq!(c.cmd("R7 UNSELECT"), lines(&["R7 OK Mailbox closed"]));

    assert_eq!(c.cmd(r#"R8 RENAME INBOX "Old Mail""#), lines(&["R8 OK RENAME completed"]));
    let empty = lines(&[r#"* STATUS "INBOX" (MESSAGES 0)"#, "R9 OK STATUS completed"]);
    assert_eq!(c.cmd("R9 STATUS INBOX (MESSAGES)"), empty);
    let moved = lines(&[r#"* STATUS "Old Mail" (MESSAGES 3)"#, "R10 OK STATUS completed"]);
    assert_eq!(c.cmd(r#"R10 STATUS "Old Mail" (MESSAGES)"#), moved);
    c.cmd(r#"R11 SELECT "Old Mail""#);
    let r = c.cmd("R12 FETCH 1:3 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])");
    for n in 1..=3 {
        assert!(r.iter().any(|l| l.contains(&format!("Subject: note {n}"))), "{r:?}");
    }
    // Another rename of INBOX finds the name taken.
    let r = c.cmd(r#"R13 RENAME INBOX "Old Mail""#);
    assert!(r.len() == 1 && r[0].starts_with("R13 NO [ALREADYEXISTS] "), "{r:?}");
}

/// Issue 6's "Bad input" end to end: each is `BAD`/`NO` or a clean
/// disconnect, and the server goes on serving.
#[test]
fn hostile_input_gets_bad_or_a_clean_close_and_the_server_goes_on() {
    let (_dir, server) = seeded("imapc-hostile");
    let mut c = Client::mary(&server);

    // A literal over the limit (35 MiB) is refused before a byte of it is sent.
    let r = c.cmd("A1 APPEND INBOX {99999999999}");
    assert!(r.len() == 1 && (r[0].starts_with("A1 NO [TOOBIG] ") || r[0].starts_with("A1 BAD ")), "{r:?}");
    assert_eq!(c.cmd("A2 NOOP"), lines(&["A2 OK NOOP completed"]));
    // A non-synchronizing one can't be refused in time: BAD, BYE, close.
    c.send(b"A3 APPEND INBOX {40000000+}\r\n");
    assert_eq!(c.response(), "A3 BAD [TOOBIG] Literal too big");
    assert_eq!(c.response(), "* BYE Literal too big");
    assert_eq!(c.response(), "");

    // An unterminated literal, then the client goes away: nothing is stored.
    let mut c = Client::mary(&server);
    c.send(b"A4 APPEND INBOX {100}\r\n");
    assert_eq!(c.response(), "+ Ready for literal data");
    c.send(b"only a little");
    drop(c);

    // 10,000-deep parentheses in SEARCH and FETCH are BAD; the session goes on.
    let mut c = Client::mary(&server);
    c.cmd("A5 SELECT INBOX");
    let deep = |verb: &str| format!("{verb} {}ALL{}", "(".repeat(10_000), ")".repeat(10_000));
    let r = c.cmd(&deep("A6 SEARCH"));
    assert!(r.len() == 1 && r[0].starts_with("A6 BAD "), "{r:?}");
    let r = c.cmd(&deep("A7 FETCH 1"));
    assert!(r.len() == 1 && r[0].starts_with("A7 BAD "), "{r:?}");

    // Invalid modified UTF-7 and invalid UTF-8 mailbox names.
    for (tag, name) in
        [("A8", &b"\"&AGE-\""[..]), ("A9", b"\"&2D0-\""), ("B1", b"{2+}\r\n\xc3\x28"), ("B2", b"\"&Jjo!\"")]
    {
        let mut line = format!("{tag} CREATE ").into_bytes();
        line.extend_from_slice(name);
        line.extend_from_slice(b"\r\n");
        c.send(&line);
        let r = c.until(tag);
        assert!(
            r.len() == 1
                && (r[0].starts_with(&format!("{tag} BAD ")) || r[0].starts_with(&format!("{tag} NO [CANNOT]"))),
            "{r:?}"
        );
    }

    // 10,000 pipelined NOOPs in one write: all answered, in order.
    let mut batch = Vec::new();
    for i in 0..10_000 {
        batch.extend_from_slice(format!("N{i} NOOP\r\n").as_bytes());
    }
    let mut w = c.w.try_clone().expect("clone the socket");
    let writer = std::thread::spawn(move || w.write_all(&batch).expect("write the batch"));
    for i in 0..10_000 {
        assert_eq!(c.response(), format!("N{i} OK NOOP completed"));
    }
    writer.join().expect("the writer finished");
    assert_eq!(
        c.cmd("B3 STATUS INBOX (MESSAGES)"),
        lines(&[r#"* STATUS "INBOX" (MESSAGES 3)"#, "B3 OK STATUS completed"]),
        "nothing was stored by the broken APPENDs"
    );
}

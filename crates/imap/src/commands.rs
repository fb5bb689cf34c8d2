//! Command dispatch: session state (signed-in user, selected mailbox and its
//! sequence-number view) and one arm per command.

use std::net::SocketAddr;
use std::sync::Arc;

use imap_codec::imap_types::auth::{AuthMechanism, AuthenticateData};
use imap_codec::imap_types::command::{Command, CommandBody};
use imap_codec::imap_types::extensions::binary::LiteralOrLiteral8;
use imap_codec::imap_types::flag::{Flag, StoreType};
use imap_codec::imap_types::mailbox::{ListMailbox, Mailbox};
use imap_codec::imap_types::sequence::SequenceSet;

use crate::acl::{AclCommand, Malformed};
use crate::mailboxes::Listing;
use crate::session::Mode;
use crate::{Backend, Config, StoreMode, utf7, wire};

/// What the read loop does after a command.
pub(crate) enum After {
    Continue,
    Close,
    StartTls,
}

/// The selected mailbox as this session sees it.
pub(crate) struct Open {
    pub(crate) name: String,
    /// UIDs by sequence number (index + 1).
    pub(crate) uids: Vec<u32>,
    pub(crate) read_only: bool,
    /// The HIGHESTMODSEQ up to which flag changes were reported (0 without mod-sequences).
    pub(crate) modseq: u64,
    /// Flag changes this session made and reported itself since (UID, mod-sequence).
    pub(crate) own: Vec<(u32, u64)>,
    /// The UIDs `SEARCH RETURN (SAVE)` kept: the `$` of RFC 5182.
    pub(crate) saved: Vec<u32>,
}

/// Everything a session remembers between commands.
pub(crate) struct State<B: Backend> {
    pub(crate) config: Arc<Config>,
    pub(crate) backend: Arc<B>,
    pub(crate) peer: SocketAddr,
    pub(crate) tls_active: bool,
    pub(crate) user: Option<B::User>,
    pub(crate) open: Option<Open>,
    /// CONDSTORE is enabled (RFC 7162 §3.1: by ENABLE or any command that uses it).
    pub(crate) condstore: bool,
    /// `ENABLE IMAP4rev2` was given (RFC 9051 §6.3.1): ESEARCH answers, no
    /// RECENT, mailbox names in UTF-8.
    pub(crate) rev2: bool,
    /// Mailbox names travel in UTF-8 rather than modified UTF-7: IMAP4rev2
    /// or `UTF8=ACCEPT` (RFC 9755) was enabled.
    pub(crate) utf8: bool,
    /// `UTF8=ACCEPT` was enabled: a SEARCH naming a charset conflicts with it
    /// and gets `BAD` (RFC 9755 §3, RFC 6855 erratum 4029).
    utf8_accept: bool,
    /// The number that stands for `$` in the command at hand (see `searchres`).
    pub(crate) dollar: Option<u32>,
    failures: u32,
}

impl<B: Backend> State<B> {
    pub(crate) fn new(peer: SocketAddr, config: Arc<Config>, backend: Arc<B>) -> Self {
        State {
            config,
            backend,
            peer,
            tls_active: false,
            user: None,
            open: None,
            condstore: false,
            rev2: false,
            utf8: false,
            utf8_accept: false,
            dollar: None,
            failures: 0,
        }
    }

    /// Passwords may cross this connection.
    fn auth_allowed(&self) -> bool {
        self.tls_active || (self.config.plaintext_auth_on_loopback && self.peer.ip().is_loopback())
    }

    pub(crate) fn capabilities(&self) -> String {
        let mut caps = String::from(
            "IMAP4rev1 IMAP4rev2 LITERAL+ SASL-IR ENABLE ID IDLE NAMESPACE UNSELECT UIDPLUS MOVE SPECIAL-USE ACL RIGHTS=texk \
             ESEARCH SEARCHRES CONDSTORE BINARY LIST-EXTENDED LIST-STATUS STATUS=SIZE CHILDREN UTF8=ACCEPT",
        );
        if self.user.is_none() {
            if self.config.tls.is_some() && !self.tls_active {
                caps.push_str(" STARTTLS");
            }
            caps.push_str(if self.auth_allowed() { " AUTH=PLAIN" } else { " LOGINDISABLED" });
        }
        caps
    }

    pub(crate) async fn command(&mut self, command: Command<'static>, out: &mut Vec<u8>, mode: &mut Mode) -> After {
        let tag = command.tag.as_ref().to_owned();
        let t = tag.as_str();
        let authenticated = self.user.is_some();
        let stateless = matches!(command.body, CommandBody::Capability | CommandBody::Logout);
        if !stateless && let Err(no) = self.backend.refresh().await {
            wire::status(out, t, "NO", no.code.map(|c| c.atom()), &no.text);
            return After::Continue;
        }
        match command.body {
            CommandBody::Capability => {
                out.extend_from_slice(format!("* CAPABILITY {}\r\n", self.capabilities()).as_bytes());
                wire::status(out, t, "OK", None, "CAPABILITY completed");
            }
            CommandBody::Noop | CommandBody::Check => {
                self.poll(out).await;
                wire::status(out, t, "OK", None, "NOOP completed");
            }
            CommandBody::Logout => {
                out.extend_from_slice(b"* BYE Logging out\r\n");
                wire::status(out, t, "OK", None, "LOGOUT completed");
                return After::Close;
            }
            CommandBody::StartTLS if !authenticated && !self.tls_active && self.config.tls.is_some() => {
                wire::status(out, t, "OK", None, "Begin TLS negotiation now");
                return After::StartTls;
            }
            CommandBody::Login { username, password } if !authenticated => {
                let user = String::from_utf8_lossy(username.as_ref()).into_owned();
                let pass = String::from_utf8_lossy(password.declassify().as_ref()).into_owned();
                return self.sign_in(t, &user, &pass, out).await;
            }
            CommandBody::Authenticate { mechanism, initial_response } if !authenticated => {
                if mechanism != AuthMechanism::Plain {
                    wire::status(out, t, "NO", Some("CANNOT"), "Only PLAIN is supported");
                } else if !self.auth_allowed() {
                    wire::status(out, t, "NO", Some("PRIVACYREQUIRED"), "Use STARTTLS first");
                } else if let Some(ir) = initial_response {
                    return self.plain(t, ir.declassify(), out).await;
                } else {
                    out.extend_from_slice(b"+ \r\n");
                    *mode = Mode::Authenticate(tag);
                }
            }
            CommandBody::Enable { capabilities } if authenticated => {
                use imap_codec::imap_types::extensions::enable::CapabilityEnable;
                use imap_codec::imap_types::extensions::utf8::Utf8Kind;
                // CONDSTORE, IMAP4rev2 and UTF8=ACCEPT can be enabled (RFC 5161
                // §3.1: others are ignored).
                let mut enabled = String::from("* ENABLED");
                if capabilities.as_ref().iter().any(|c| matches!(c, CapabilityEnable::CondStore)) {
                    self.condstore = true;
                    enabled.push_str(" CONDSTORE");
                }
                if capabilities.as_ref().iter().any(|c| c.to_string().eq_ignore_ascii_case("IMAP4rev2")) {
                    self.rev2 = true;
                    self.utf8 = true;
                    enabled.push_str(" IMAP4rev2");
                }
                if capabilities.as_ref().iter().any(|c| matches!(c, CapabilityEnable::Utf8(Utf8Kind::Accept))) {
                    self.utf8 = true;
                    self.utf8_accept = true;
                    enabled.push_str(" UTF8=ACCEPT");
                }
                enabled.push_str("\r\n");
                out.extend_from_slice(enabled.as_bytes());
                wire::status(out, t, "OK", None, "ENABLE completed");
            }
            CommandBody::Id { .. } => {
                out.extend_from_slice(b"* ID (\"name\" \"Deputy\")\r\n");
                wire::status(out, t, "OK", None, "ID completed");
            }
            CommandBody::Idle if authenticated => {
                out.extend_from_slice(b"+ idling\r\n");
                *mode = Mode::Idle(tag);
            }
            CommandBody::StartTLS | CommandBody::Login { .. } | CommandBody::Authenticate { .. } => {
                let text = if authenticated { "Already signed in" } else { "Not allowed in this state" };
                wire::status(out, t, "BAD", None, text);
            }
            body if authenticated => return self.authenticated(t, body, out).await,
            _ => wire::status(out, t, "BAD", None, "Sign in first"),
        }
        After::Continue
    }

    /// An RFC 4314 command (parsed outside the codec).
    pub(crate) async fn acl(&mut self, tag: &str, command: Result<AclCommand, Malformed>, out: &mut Vec<u8>) -> After {
        match (self.user.as_ref(), command) {
            (None, _) => wire::status(out, tag, "BAD", None, "Sign in first"),
            (Some(_), Err(Malformed)) => wire::status(out, tag, "BAD", None, "Syntax error in ACL command"),
            (Some(user), Ok(command)) => crate::acl::run(&*self.backend, user, tag, command, self.utf8, out).await,
        }
        After::Continue
    }

    /// A SEARCH with ESEARCH's `RETURN` options (parsed outside the codec);
    /// `RETURN (SAVE …)` keeps the result as `$`, and a failed one empties it (RFC 5182 §2.1).
    pub(crate) async fn esearch(
        &mut self,
        command: Command<'static>,
        ret: Result<crate::search::Return, bool>,
        out: &mut Vec<u8>,
    ) -> After {
        let t = command.tag.as_ref().to_owned();
        let CommandBody::Search { charset, criteria, uid } = command.body else { return After::Continue };
        let dollar = self.dollar;
        let charset_refused = self.utf8_accept && charset.is_some();
        match (self.user.as_ref(), self.open.as_mut(), ret) {
            (None, _, _) => wire::status(out, &t, "BAD", None, "Sign in first"),
            (Some(_), None, _) => wire::status(out, &t, "BAD", None, "Select a mailbox first"),
            (Some(_), Some(open), Err(save)) => {
                if save {
                    open.saved.clear();
                }
                wire::status(out, &t, "BAD", None, "Unsupported RETURN option");
            }
            (Some(_), Some(open), Ok(ret)) if charset_refused => {
                // A failed SEARCH with SAVE empties `$` (RFC 5182 §2.1).
                if let Some(empty) = ret.saving(None) {
                    open.saved = empty;
                }
                wire::status(out, &t, "BAD", None, CHARSET_AFTER_UTF8);
            }
            (Some(user), Some(open), Ok(ret)) => {
                let saved = crate::searchres::current(&open.saved, &open.uids);
                let criteria = crate::searchres::criteria(criteria.into_inner(), dollar, &saved);
                self.condstore |= criteria.iter().any(crate::condstore::searches_modseq);
                let backend = &*self.backend;
                let found =
                    crate::search::search(backend, user, open, &t, charset.as_ref(), &criteria, uid, Some(ret), out)
                        .await;
                if let Some(keep) = ret.saving(found.as_deref()) {
                    open.saved = keep;
                }
            }
        }
        After::Continue
    }

    /// LIST with LIST-EXTENDED options (RFC 5258), parsed outside the codec.
    pub(crate) async fn list_extended(
        &mut self,
        command: Command<'static>,
        options: crate::mailboxes::ListOptions,
        out: &mut Vec<u8>,
    ) -> After {
        let t = command.tag.as_ref().to_owned();
        let CommandBody::List { reference, mailbox_wildcard } = command.body else { return After::Continue };
        match self.user.as_ref() {
            None => wire::status(out, &t, "BAD", None, "Sign in first"),
            Some(user) => {
                let mut patterns = vec![mailbox_wildcard];
                patterns.extend(options.more_patterns.iter().cloned());
                let listing = Listing { lsub: false, options, utf8: self.utf8 };
                let backend = &*self.backend;
                crate::mailboxes::list(backend, user, &t, &listing, &reference, &patterns, out).await;
            }
        }
        After::Continue
    }

    async fn sign_in(&mut self, tag: &str, user: &str, pass: &str, out: &mut Vec<u8>) -> After {
        if !self.auth_allowed() {
            wire::status(out, tag, "NO", Some("PRIVACYREQUIRED"), "Use STARTTLS first");
            return After::Continue;
        }
        match self.backend.authenticate(user, pass).await {
            Some(session) => {
                self.user = Some(session);
                let caps = format!("CAPABILITY {}", self.capabilities());
                wire::status(out, tag, "OK", Some(&caps), "Signed in");
                After::Continue
            }
            None => {
                self.failures += 1;
                wire::status(out, tag, "NO", Some("AUTHENTICATIONFAILED"), "Invalid credentials");
                if self.failures >= self.config.max_auth_failures {
                    out.extend_from_slice(b"* BYE Too many failed sign-ins\r\n");
                    return After::Close;
                }
                After::Continue
            }
        }
    }

    /// SASL PLAIN: `authzid NUL authcid NUL password`; an authzid must name the same user.
    async fn plain(&mut self, tag: &str, response: &[u8], out: &mut Vec<u8>) -> After {
        let parts: Vec<&[u8]> = response.split(|&b| b == 0).collect();
        match parts.as_slice() {
            [authz, user, pass] if authz.is_empty() || authz == user => {
                let user = String::from_utf8_lossy(user).into_owned();
                let pass = String::from_utf8_lossy(pass).into_owned();
                self.sign_in(tag, &user, &pass, out).await
            }
            _ => {
                wire::status(out, tag, "BAD", None, "Malformed PLAIN response");
                After::Continue
            }
        }
    }

    pub(crate) async fn authenticate_data(
        &mut self,
        tag: &str,
        data: AuthenticateData<'static>,
        out: &mut Vec<u8>,
    ) -> After {
        match data {
            AuthenticateData::Continue(response) => self.plain(tag, response.declassify(), out).await,
            AuthenticateData::Cancel => {
                wire::status(out, tag, "BAD", None, "Authentication cancelled");
                After::Continue
            }
        }
    }

    async fn authenticated(&mut self, t: &str, body: CommandBody<'static>, out: &mut Vec<u8>) -> After {
        let Some(user) = self.user.as_ref() else { return After::Continue };
        let body_kind = match body {
            CommandBody::Examine { .. } => Kind::Examine,
            CommandBody::Lsub { .. } => Kind::Lsub,
            _ => Kind::Other,
        };
        let utf8 = self.utf8;
        let backend = Arc::clone(&self.backend);
        match body {
            CommandBody::Namespace => {
                let ns = backend.namespace(user).await;
                let mut line = b"* NAMESPACE".to_vec();
                for kind in [&ns.personal, &ns.other_users, &ns.shared] {
                    if kind.is_empty() {
                        line.extend_from_slice(b" NIL");
                        continue;
                    }
                    line.extend_from_slice(b" (");
                    for n in kind {
                        line.push(b'(');
                        wire::mailbox(&mut line, &n.prefix, self.utf8);
                        line.extend_from_slice(format!(" \"{}\")", n.delimiter).as_bytes());
                    }
                    line.push(b')');
                }
                out.extend_from_slice(&line);
                out.extend_from_slice(b"\r\n");
                wire::status(out, t, "OK", None, "NAMESPACE completed");
            }
            CommandBody::List { reference, mailbox_wildcard } | CommandBody::Lsub { reference, mailbox_wildcard } => {
                let lsub = matches!(body_kind, Kind::Lsub);
                let listing = Listing { lsub, utf8: self.utf8, ..Listing::default() };
                let patterns = std::slice::from_ref(&mailbox_wildcard);
                crate::mailboxes::list(&*backend, user, t, &listing, &reference, patterns, out).await;
            }
            CommandBody::Create { mailbox } => {
                crate::mailboxes::change(&*backend, user, t, crate::mailboxes::Change::Create(&mailbox), utf8, out)
                    .await;
            }
            CommandBody::Delete { mailbox } => {
                if self.open.as_ref().is_some_and(|o| mailbox_name(&mailbox, utf8).is_ok_and(|n| n == o.name)) {
                    // Deleting the selected mailbox deselects it first (as Dovecot does).
                    self.open = None;
                }
                crate::mailboxes::change(&*backend, user, t, crate::mailboxes::Change::Delete(&mailbox), utf8, out)
                    .await;
            }
            CommandBody::Rename { from, to } => {
                let change = crate::mailboxes::Change::Rename(&from, &to);
                crate::mailboxes::change(&*backend, user, t, change, utf8, out).await;
            }
            CommandBody::Subscribe { mailbox } => {
                let change = crate::mailboxes::Change::Subscribe(&mailbox, true);
                crate::mailboxes::change(&*backend, user, t, change, utf8, out).await;
            }
            CommandBody::Unsubscribe { mailbox } => {
                let change = crate::mailboxes::Change::Subscribe(&mailbox, false);
                crate::mailboxes::change(&*backend, user, t, change, utf8, out).await;
            }
            CommandBody::Select { mailbox, parameters } | CommandBody::Examine { mailbox, parameters } => {
                let read_only = matches!(body_kind, Kind::Examine);
                // `(CONDSTORE)` enables CONDSTORE (RFC 7162 §3.1.8).
                self.condstore |= !parameters.is_empty();
                return self.select(t, &mailbox, read_only, out).await;
            }
            CommandBody::Status { mailbox, item_names } => {
                let Ok(name) = mailbox_name(&mailbox, utf8) else {
                    wire::status(out, t, "BAD", None, "Invalid mailbox name");
                    return After::Continue;
                };
                match crate::status::items(&*backend, user, &name, &item_names).await {
                    Ok(values) => {
                        crate::status::line(out, &name, utf8, &values);
                        wire::status(out, t, "OK", None, "STATUS completed");
                    }
                    Err(no) => wire::no(out, t, &no),
                }
            }
            CommandBody::Append { mailbox, flags, date, message } => {
                let Ok(name) = mailbox_name(&mailbox, utf8) else {
                    wire::status(out, t, "BAD", None, "Invalid mailbox name");
                    return After::Continue;
                };
                let data = match message {
                    LiteralOrLiteral8::Literal(l) => l.data().to_vec(),
                    LiteralOrLiteral8::Literal8(l) => l.data.to_vec(),
                };
                let flags = flag_strings(&flags);
                let date = date.map(|d| d.as_ref().timestamp());
                match backend.append(user, &name, &flags, date, data).await {
                    Ok(a) => wire::status(
                        out,
                        t,
                        "OK",
                        Some(&format!("APPENDUID {} {}", a.uidvalidity, a.uid)),
                        "APPEND completed",
                    ),
                    Err(no) => wire::no(out, t, &no),
                }
            }
            body if self.open.is_some() => return self.selected(t, body, out).await,
            _ => wire::status(out, t, "BAD", None, "Select a mailbox first"),
        }
        After::Continue
    }

    /// Reports messages that arrived or vanished since the session last looked
    /// (RFC 3501 §6.1.2: NOOP is how clients poll).
    pub(crate) async fn poll(&mut self, out: &mut Vec<u8>) {
        let (Some(user), Some(open)) = (self.user.as_ref(), self.open.as_mut()) else { return };
        let Ok(now) = self.backend.select(user, &open.name, true).await else { return };
        let gone: Vec<u32> = open.uids.iter().copied().filter(|u| now.uids.binary_search(u).is_err()).collect();
        report_expunged(open, &gone, out);
        // Flags another session changed, with MODSEQ once CONDSTORE is on (RFC 7162 §3.2).
        if let Some(highest) = now.highest_modseq.filter(|h| *h > open.modseq) {
            let items = crate::FetchItems::default();
            let changed = self.backend.fetch(user, &open.name, &open.uids, items).await.unwrap_or_default();
            for m in changed {
                let Some(modseq) = m.modseq.filter(|n| *n > open.modseq && !open.own.contains(&(m.uid, *n))) else {
                    continue;
                };
                let Some(seq) = seq_of(&open.uids, m.uid) else { continue };
                let tail = if self.condstore { format!(" MODSEQ ({modseq})") } else { String::new() };
                out.extend_from_slice(format!("* {seq} FETCH (FLAGS {}{tail})\r\n", wire::flags(&m.flags)).as_bytes());
            }
            open.modseq = highest;
            open.own.clear();
        }
        let last = open.uids.last().copied().unwrap_or(0);
        let before = open.uids.len();
        open.uids.extend(now.uids.iter().copied().filter(|u| *u > last));
        if open.uids.len() != before {
            out.extend_from_slice(format!("* {} EXISTS\r\n", open.uids.len()).as_bytes());
        }
    }

    async fn select(&mut self, t: &str, mailbox: &Mailbox<'static>, read_only: bool, out: &mut Vec<u8>) -> After {
        self.open = None;
        let Some(user) = self.user.as_ref() else { return After::Continue };
        let Ok(name) = mailbox_name(mailbox, self.utf8) else {
            wire::status(out, t, "BAD", None, "Invalid mailbox name");
            return After::Continue;
        };
        match self.backend.select(user, &name, read_only).await {
            Ok(s) => {
                out.extend_from_slice(format!("* {} EXISTS\r\n", s.uids.len()).as_bytes());
                // IMAP4rev2 has neither \Recent nor the UNSEEN code (RFC 9051 appendix E).
                if !self.rev2 {
                    out.extend_from_slice(b"* 0 RECENT\r\n");
                }
                out.extend_from_slice(format!("* FLAGS {}\r\n", wire::flags(&s.flags)).as_bytes());
                if let (false, Some(seq)) = (self.rev2, s.first_unseen.and_then(|u| seq_of(&s.uids, u))) {
                    out.extend_from_slice(format!("* OK [UNSEEN {seq}] First unseen\r\n").as_bytes());
                }
                // Nothing can be stored in a read-only mailbox (RFC 9051 §6.3.3's example).
                let permanent = if s.read_only { "()".to_owned() } else { wire::flags(&s.permanent_flags) };
                out.extend_from_slice(format!("* OK [PERMANENTFLAGS {permanent}] Limited\r\n").as_bytes());
                out.extend_from_slice(format!("* OK [UIDVALIDITY {}] UIDs valid\r\n", s.uidvalidity).as_bytes());
                out.extend_from_slice(format!("* OK [UIDNEXT {}] Predicted next UID\r\n", s.uidnext).as_bytes());
                match s.highest_modseq {
                    Some(m) => out.extend_from_slice(format!("* OK [HIGHESTMODSEQ {m}] Highest\r\n").as_bytes()),
                    None => out.extend_from_slice(b"* OK [NOMODSEQ] No mod-sequences here\r\n"),
                }
                if self.rev2 {
                    crate::mailboxes::selected_list(&*self.backend, user, &name, out).await;
                }
                let code = if s.read_only { "READ-ONLY" } else { "READ-WRITE" };
                wire::status(out, t, "OK", Some(code), "SELECT completed");
                let modseq = s.highest_modseq.unwrap_or(0);
                self.open = Some(Open {
                    name,
                    uids: s.uids,
                    read_only: s.read_only,
                    modseq,
                    own: Vec::new(),
                    saved: Vec::new(),
                });
            }
            Err(no) => wire::no(out, t, &no),
        }
        After::Continue
    }

    async fn selected(&mut self, t: &str, body: CommandBody<'static>, out: &mut Vec<u8>) -> After {
        let (Some(user), Some(open)) = (self.user.as_ref(), self.open.as_mut()) else { return After::Continue };
        let backend = Arc::clone(&self.backend);
        let dollar = self.dollar;
        // A sequence number beyond the session's view (`*` in an empty one) is
        // BAD (RFC 9051 §9, seq-number); UIDs that don't exist are just skipped.
        let set = match &body {
            CommandBody::Fetch { sequence_set, uid: false, .. }
            | CommandBody::Store { sequence_set, uid: false, .. }
            | CommandBody::Copy { sequence_set, uid: false, .. }
            | CommandBody::Move { sequence_set, uid: false, .. } => Some(sequence_set),
            _ => None,
        };
        if set.is_some_and(|s| !crate::searchres::is_dollar(s, dollar) && !in_view(s, open.uids.len())) {
            wire::status(out, t, "BAD", None, "No such message sequence number");
            return After::Continue;
        }
        match body {
            CommandBody::Close | CommandBody::Unselect => {
                let close = matches!(body, CommandBody::Close);
                if close && !open.read_only {
                    // CLOSE expunges silently (RFC 3501 §6.4.2).
                    let _ = backend.expunge(user, &open.name, None).await;
                }
                self.open = None;
                wire::status(out, t, "OK", None, "Mailbox closed");
            }
            CommandBody::Fetch { sequence_set, macro_or_item_names, uid, modifiers } => {
                let uids = uids_of(open, &sequence_set, uid, dollar);
                let since = crate::condstore::changed_since(&modifiers);
                self.condstore |= since.is_some() || crate::condstore::asks_modseq(&macro_or_item_names);
                let names = &macro_or_item_names;
                crate::fetch::fetch(&*backend, user, open, t, &uids, names, uid, since, out).await;
            }
            CommandBody::Search { charset: Some(_), .. } if self.utf8_accept => {
                wire::status(out, t, "BAD", None, CHARSET_AFTER_UTF8);
            }
            CommandBody::Search { charset, criteria, uid } => {
                let saved = crate::searchres::current(&open.saved, &open.uids);
                let criteria = crate::searchres::criteria(criteria.into_inner(), dollar, &saved);
                self.condstore |= criteria.iter().any(crate::condstore::searches_modseq);
                // IMAP4rev2 answers SEARCH as `RETURN (ALL)` in an ESEARCH response (RFC 9051 §6.4.4).
                let ret = self.rev2.then(crate::search::Return::all);
                crate::search::search(&*backend, user, open, t, charset.as_ref(), &criteria, uid, ret, out).await;
            }
            CommandBody::Store { sequence_set, kind, response, flags, uid, modifiers } => {
                if open.read_only {
                    wire::status(out, t, "NO", Some("READ-ONLY"), "Mailbox is read-only");
                    return After::Continue;
                }
                let uids = uids_of(open, &sequence_set, uid, dollar);
                let mode = match kind {
                    StoreType::Replace => StoreMode::Replace,
                    StoreType::Add => StoreMode::Add,
                    StoreType::Remove => StoreMode::Remove,
                };
                let silent = matches!(response, imap_codec::imap_types::flag::StoreResponse::Silent);
                let since = crate::condstore::unchanged_since(&modifiers);
                self.condstore |= since.is_some();
                let request = crate::condstore::Store {
                    uids: &uids,
                    mode,
                    flags: flag_strings(&flags),
                    since,
                    silent,
                    by_uid: uid,
                };
                crate::condstore::store(&*backend, user, open, t, request, self.condstore, out).await;
            }
            CommandBody::Expunge | CommandBody::ExpungeUid { .. } => {
                if open.read_only {
                    wire::status(out, t, "NO", Some("READ-ONLY"), "Mailbox is read-only");
                    return After::Continue;
                }
                let only = match &body {
                    CommandBody::ExpungeUid { sequence_set } => Some(uids_of(open, sequence_set, true, dollar)),
                    _ => None,
                };
                match backend.expunge(user, &open.name, only.as_deref()).await {
                    Ok(gone) => {
                        report_expunged(open, &gone, out);
                        wire::status(out, t, "OK", None, "EXPUNGE completed");
                    }
                    Err(no) => wire::no(out, t, &no),
                }
            }
            CommandBody::Copy { sequence_set, mailbox, uid } => {
                let uids = uids_of(open, &sequence_set, uid, dollar);
                let Ok(target) = mailbox_name(&mailbox, self.utf8) else {
                    wire::status(out, t, "BAD", None, "Invalid mailbox name");
                    return After::Continue;
                };
                match backend.copy(user, &open.name, &uids, &target).await {
                    Ok(c) => wire::status(out, t, "OK", Some(&copyuid(&c)), "COPY completed"),
                    Err(no) => wire::no(out, t, &no),
                }
            }
            CommandBody::Move { sequence_set, mailbox, uid } => {
                if open.read_only {
                    wire::status(out, t, "NO", Some("READ-ONLY"), "Mailbox is read-only");
                    return After::Continue;
                }
                let uids = uids_of(open, &sequence_set, uid, dollar);
                let Ok(target) = mailbox_name(&mailbox, self.utf8) else {
                    wire::status(out, t, "BAD", None, "Invalid mailbox name");
                    return After::Continue;
                };
                match backend.move_messages(user, &open.name, &uids, &target).await {
                    Ok(c) => {
                        out.extend_from_slice(format!("* OK [{}] Moved\r\n", copyuid(&c)).as_bytes());
                        report_expunged(open, &c.source, out);
                        wire::status(out, t, "OK", None, "MOVE completed");
                    }
                    Err(no) => wire::no(out, t, &no),
                }
            }
            _ => wire::status(out, t, "BAD", None, "Command not supported"),
        }
        After::Continue
    }
}

/// What an arm shared by two commands needs to tell them apart.
enum Kind {
    Examine,
    Lsub,
    Other,
}

/// The UIDPLUS `COPYUID` code.
fn copyuid(c: &crate::CopyUids) -> String {
    let list = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
    format!("COPYUID {} {} {}", c.uidvalidity, list(&c.source), list(&c.target))
}

/// Sends `* n EXPUNGE` for each removed UID, highest sequence number first so
/// that earlier numbers stay valid, and drops them from the session's view.
fn report_expunged(open: &mut Open, gone: &[u32], out: &mut Vec<u8>) {
    let mut seqs: Vec<usize> = gone.iter().filter_map(|u| seq_of(&open.uids, *u)).collect();
    seqs.sort_unstable();
    seqs.dedup();
    for seq in seqs.iter().rev() {
        out.extend_from_slice(format!("* {seq} EXPUNGE\r\n").as_bytes());
        open.uids.remove(seq - 1);
    }
}

/// The sequence number of `uid` in the session's view.
pub(crate) fn seq_of(uids: &[u32], uid: u32) -> Option<usize> {
    uids.binary_search(&uid).ok().map(|i| i + 1)
}

/// The UIDs a set names: `$` (the saved ones still in view) or a sequence set.
fn uids_of(open: &Open, set: &SequenceSet, by_uid: bool, dollar: Option<u32>) -> Vec<u32> {
    if crate::searchres::is_dollar(set, dollar) {
        crate::searchres::current(&open.saved, &open.uids)
    } else {
        resolve(&open.uids, set, by_uid)
    }
}

/// The UIDs a sequence set names, ascending; numbers outside the view are ignored.
pub(crate) fn resolve(uids: &[u32], set: &SequenceSet, by_uid: bool) -> Vec<u32> {
    let Some(&last_uid) = uids.last() else { return Vec::new() };
    if by_uid {
        let Some(largest) = std::num::NonZeroU32::new(last_uid) else { return Vec::new() };
        // Expanding a huge UID range would cost memory; test each known UID against the set instead.
        uids.iter().copied().filter(|u| contains(set, *u, largest.get())).collect()
    } else {
        let largest = u32::try_from(uids.len()).unwrap_or(u32::MAX);
        uids.iter()
            .enumerate()
            .filter(|(i, _)| contains(set, u32::try_from(i + 1).unwrap_or(u32::MAX), largest))
            .map(|(_, u)| *u)
            .collect()
    }
}

/// Every sequence number in `set` names a message of a view of `len` messages.
fn in_view(set: &SequenceSet, len: usize) -> bool {
    use imap_codec::imap_types::sequence::{SeqOrUid, Sequence};
    let ok = |s: &SeqOrUid| match s {
        SeqOrUid::Value(v) => usize::try_from(v.get()).is_ok_and(|v| v <= len),
        SeqOrUid::Asterisk => len > 0,
    };
    set.0.as_ref().iter().all(|seq| match seq {
        Sequence::Single(s) => ok(s),
        Sequence::Range(a, b) => ok(a) && ok(b),
    })
}

pub(crate) fn contains(set: &SequenceSet, n: u32, largest: u32) -> bool {
    use imap_codec::imap_types::sequence::{SeqOrUid, Sequence};
    let value = |s: &SeqOrUid| match s {
        SeqOrUid::Value(v) => v.get(),
        SeqOrUid::Asterisk => largest,
    };
    set.0.as_ref().iter().any(|seq| match seq {
        Sequence::Single(s) => value(s) == n,
        Sequence::Range(a, b) => {
            let (a, b) = (value(a), value(b));
            (a.min(b)..=a.max(b)).contains(&n)
        }
    })
}

fn flag_strings(flags: &[Flag<'_>]) -> Vec<String> {
    flags.iter().map(ToString::to_string).collect()
}

const CHARSET_AFTER_UTF8: &str = "SEARCH CHARSET is not allowed once UTF8=ACCEPT is enabled";

/// A mailbox name from the wire, decoded from modified UTF-7 (or UTF-8 when `utf8`).
pub(crate) fn mailbox_name(mailbox: &Mailbox<'_>, utf8: bool) -> Result<String, utf7::InvalidName> {
    match mailbox {
        Mailbox::Inbox => Ok("INBOX".to_owned()),
        Mailbox::Other(other) => utf7::decode_name(other.as_ref(), utf8),
    }
}

pub(crate) fn list_pattern(pattern: &ListMailbox<'_>, utf8: bool) -> Result<String, utf7::InvalidName> {
    match pattern {
        ListMailbox::Token(t) => utf7::decode_name(t.as_ref(), utf8),
        ListMailbox::String(s) => utf7::decode_name(s.as_ref(), utf8),
    }
}

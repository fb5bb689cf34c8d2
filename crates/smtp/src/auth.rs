//! AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN: when it may be used, the
//! SASL exchange, and the failure limits per connection and per client IP.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::command::Mechanism;
use crate::conn::{Conn, Line, Stop};
use crate::handler::{Handler, Mode, SignIn};
use crate::reply::Canned;
use crate::session::{Flow, Session};

/// `Username:` and `Password:`, the LOGIN mechanism's prompts.
const LOGIN_USER: &str = "VXNlcm5hbWU6";
const LOGIN_PASSWORD: &str = "UGFzc3dvcmQ6";

/// A client's answer to a 334 challenge.
enum Answer {
    Data(Vec<u8>),
    /// The exchange ended with this reply (cancelled, bad base64, line too long).
    Abort(Canned),
}

/// Decodes one base64 SASL response (`=` is the empty response).
fn decode(text: &str) -> Option<Vec<u8>> {
    if text == "=" {
        return Some(Vec::new());
    }
    STANDARD.decode(text.trim()).ok()
}

/// Splits a PLAIN response into user and password. An authorization identity
/// other than the user is refused: Deputy has no proxy authorization.
pub(crate) fn parse_plain(response: &[u8]) -> Option<(String, String)> {
    let mut parts = response.split(|&b| b == 0);
    let (authz, user, password) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || user.is_empty() || !(authz.is_empty() || authz == user) {
        return None;
    }
    Some((String::from_utf8(user.to_vec()).ok()?, String::from_utf8(password.to_vec()).ok()?))
}

impl<H: Handler> Session<'_, H> {
    /// Runs one AUTH command to its outcome.
    pub(crate) async fn auth<S>(
        &mut self,
        conn: &mut Conn<S>,
        mechanism: Option<Mechanism>,
        initial: Option<String>,
    ) -> Result<Flow, Stop>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let ip = self.info.peer.ip();
        let refusal = if self.info.mode == Mode::Inbound {
            Some(Canned::AuthUnavailable)
        } else if !self.greeted {
            Some(Canned::NeedHelo)
        } else if self.info.principal.is_some() {
            Some(Canned::AlreadyAuthenticated)
        } else if self.in_transaction() {
            Some(Canned::AuthInTransaction)
        } else if !self.auth_allowed(conn) {
            Some(Canned::EncryptionRequired)
        } else if mechanism.is_none() {
            Some(Canned::BadMechanism)
        } else if self.shared.auth_failures.is_locked(ip) {
            // Checked before the handler is asked: a locked-out IP learns nothing.
            Some(Canned::AuthLocked)
        } else {
            None
        };
        if let Some(refusal) = refusal {
            conn.canned(refusal);
            return Ok(Flow::Continue);
        }
        let credentials = if mechanism == Some(Mechanism::Plain) {
            let response = match initial {
                Some(text) => decode(&text).map_or(Answer::Abort(Canned::BadBase64), Answer::Data),
                None => challenge(conn, "").await?,
            };
            match response {
                Answer::Data(bytes) => parse_plain(&bytes),
                Answer::Abort(reply) => return Ok(abort(conn, reply)),
            }
        } else {
            let user = match initial {
                Some(text) => decode(&text).map_or(Answer::Abort(Canned::BadBase64), Answer::Data),
                None => challenge(conn, LOGIN_USER).await?,
            };
            let user = match user {
                Answer::Data(user) => user,
                Answer::Abort(reply) => return Ok(abort(conn, reply)),
            };
            let password = match challenge(conn, LOGIN_PASSWORD).await? {
                Answer::Data(password) => password,
                Answer::Abort(reply) => return Ok(abort(conn, reply)),
            };
            String::from_utf8(user).ok().zip(String::from_utf8(password).ok())
        };
        let answer = match &credentials {
            Some((user, password)) => self.shared.handler.authenticate(user, password).await,
            None => SignIn::Refused,
        };
        match answer {
            SignIn::Accepted(principal) => {
                self.info.principal = Some(principal);
                conn.canned(Canned::AuthOk);
                return Ok(Flow::Continue);
            }
            SignIn::TryLater => {
                conn.canned(Canned::AuthTryLater);
                return Ok(Flow::Continue);
            }
            SignIn::Refused => {}
        }
        self.auth_failures += 1;
        self.shared.auth_failures.record(ip);
        if self.auth_failures >= self.shared.config.max_auth_failures {
            conn.canned(Canned::AuthTooManyFailures);
            return Ok(Flow::Close);
        }
        conn.canned(Canned::AuthInvalid);
        Ok(Flow::Continue)
    }
}

/// Ends an exchange the client broke off; it does not count as a failure.
fn abort<S>(conn: &mut Conn<S>, reply: Canned) -> Flow
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    conn.canned(reply);
    Flow::Continue
}

/// Sends a 334 challenge and reads the client's base64 answer.
async fn challenge<S>(conn: &mut Conn<S>, prompt: &str) -> Result<Answer, Stop>
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    conn.reply(334, "", prompt);
    let n = match conn.next_line(true).await? {
        Line::TooLong => return Ok(Answer::Abort(Canned::LineTooLong)),
        Line::Ready(n) => n,
    };
    let line = &conn.buffered()[..n];
    let text = line.strip_suffix(b"\n").unwrap_or(line);
    let text = text.strip_suffix(b"\r").unwrap_or(text);
    let answer = if text == b"*" {
        Answer::Abort(Canned::AuthCancelled)
    } else {
        std::str::from_utf8(text).ok().and_then(decode).map_or(Answer::Abort(Canned::BadBase64), Answer::Data)
    };
    conn.consume(n);
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_responses() {
        assert_eq!(parse_plain(b"\0rob\0pw"), Some(("rob".into(), "pw".into())));
        assert_eq!(parse_plain(b"rob\0rob\0pw"), Some(("rob".into(), "pw".into())));
        assert_eq!(parse_plain(b"admin\0rob\0pw"), None);
        assert_eq!(parse_plain(b"\0rob"), None);
        assert_eq!(parse_plain(b"\0\0pw"), None);
        assert_eq!(decode("="), Some(Vec::new()));
        assert_eq!(decode("AHJvYgBwdw=="), Some(b"\0rob\0pw".to_vec()));
        assert_eq!(decode("!!"), None);
    }
}

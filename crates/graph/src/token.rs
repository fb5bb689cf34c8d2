//! The token endpoint (`POST /{tenant}/oauth2/v2.0/token`, interface.md) and
//! the bearer tokens it issues: ES256-signed JWTs with the claims Graph
//! clients read, verified again on every Graph request.
//!
//! Grants: `password` for the built-in public client `deputy` (and for
//! registered applications with their secret), `refresh_token`, and
//! `client_credentials` for registered applications. Refresh tokens are
//! signed too (so every node of a cluster can check them) and bound to the
//! account's credential stamp: a changed password or a disabled account ends
//! them. Errors use the identity platform's JSON shape and AADSTS codes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::GraphState;
use crate::scopes::{DELEGATED, GRAPH_APP_ID, GRAPH_RESOURCE, Requested, Scopes, parse_requested};

/// The built-in public client that may use the password grant.
pub const PUBLIC_CLIENT: &str = "deputy";

/// Access token lifetime (Entra's default is about an hour).
const ACCESS_LIFETIME: i64 = 3600;

/// Refresh token lifetime (Entra: 90 days, sliding).
const REFRESH_LIFETIME: i64 = 90 * 24 * 3600;

/// The audience of refresh tokens; never accepted as an access token.
const REFRESH_AUDIENCE: &str = "urn:deputy:refresh";

/// The key pair tokens are signed with.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    kid: String,
    x: String,
    y: String,
}

impl TokenKeys {
    /// From a PKCS#8 DER ECDSA P-256 private key and its public point
    /// (uncompressed SEC1: `04 || x || y`).
    pub fn new(pkcs8: &[u8], public_point: &[u8]) -> Result<Self, &'static str> {
        if public_point.len() != 65 || public_point[0] != 4 {
            return Err("the public key is not an uncompressed P-256 point");
        }
        let x = URL_SAFE_NO_PAD.encode(&public_point[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&public_point[33..]);
        Ok(Self {
            encoding: EncodingKey::from_ec_der(pkcs8),
            decoding: DecodingKey::from_ec_der(public_point),
            kid: x.chars().take(16).collect(),
            x,
            y,
        })
    }

    fn sign<T: Serialize>(&self, claims: &T) -> Option<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).ok()
    }

    fn verify<T: for<'de> Deserialize<'de>>(&self, token: &str, audiences: &[&str]) -> Result<T, TokenError> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(audiences);
        validation.set_required_spec_claims(&["exp", "aud"]);
        validation.validate_nbf = true;
        match jsonwebtoken::decode::<T>(token, &self.decoding, &validation) {
            Ok(data) => Ok(data.claims),
            Err(e) => Err(match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature
                | jsonwebtoken::errors::ErrorKind::ImmatureSignature => TokenError::Expired,
                jsonwebtoken::errors::ErrorKind::InvalidAudience => TokenError::Audience,
                _ => TokenError::Invalid,
            }),
        }
    }

    /// The JSON Web Key Set clients may use to check tokens.
    fn jwks(&self) -> serde_json::Value {
        json!({"keys": [{"kty": "EC", "use": "sig", "crv": "P-256", "alg": "ES256", "kid": self.kid, "x": self.x, "y": self.y}]})
    }
}

/// Why a bearer token was refused (all `401 InvalidAuthenticationToken`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// No token.
    #[error("Access token is empty.")]
    Empty,
    /// Past `exp` or before `nbf`.
    #[error("Access token has expired or is not yet valid.")]
    Expired,
    /// Not for Graph.
    #[error("Access token validation failure. Invalid audience.")]
    Audience,
    /// Not a token this server signed (forged, truncated, other algorithm).
    #[error("Access token validation failure.")]
    Invalid,
}

/// The claims of an access token (Microsoft's names, spec exchange-reference §4.6).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Graph.
    pub aud: String,
    /// This server, per tenant.
    pub iss: String,
    /// Issued at.
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expiry.
    pub exp: i64,
    /// The tenant.
    pub tid: String,
    /// The user's Guid, or the service principal's ObjectId.
    pub oid: String,
    /// Subject (the same as `oid` here).
    pub sub: String,
    /// `user` or `app`.
    pub idtyp: String,
    /// The client.
    pub appid: String,
    /// The client (v2 name).
    pub azp: String,
    /// Token format version.
    pub ver: String,
    /// Unique token id.
    pub jti: String,
    /// Delegated scopes, space-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// Application roles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// The user's UPN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// The user's UPN (v2 name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    /// The user's or application's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl AccessClaims {
    /// A token for `oid` (`idtyp` `user` or `app`) issued now, valid for
    /// [`ACCESS_LIFETIME`], without scopes or roles yet.
    fn new(issuer: &str, tid: Uuid, oid: &str, idtyp: &str, client_id: &str, name: &str) -> Self {
        let iat = now();
        Self {
            aud: GRAPH_RESOURCE.to_owned(),
            iss: issuer.to_owned(),
            iat,
            nbf: iat,
            exp: iat + ACCESS_LIFETIME,
            tid: tid.to_string(),
            oid: oid.to_owned(),
            sub: oid.to_owned(),
            idtyp: idtyp.to_owned(),
            appid: client_id.to_owned(),
            azp: client_id.to_owned(),
            ver: "2.0".into(),
            jti: Uuid::new_v4().to_string(),
            scp: None,
            roles: None,
            upn: None,
            preferred_username: None,
            name: Some(name.to_owned()),
        }
    }
}

/// The claims of a refresh token.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RefreshClaims {
    aud: String,
    iat: i64,
    exp: i64,
    sub: String,
    client_id: String,
    scp: String,
    /// The account's credential stamp when the token was issued.
    stamp: String,
    jti: String,
}

impl TokenKeys {
    /// Checks a bearer access token: signature, algorithm, audience, time.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, TokenError> {
        if token.is_empty() {
            return Err(TokenError::Empty);
        }
        self.verify(token, &[GRAPH_RESOURCE, GRAPH_APP_ID])
    }
}

/// The tenant id: a stable Guid derived from the organization's primary domain.
pub fn tenant_id(primary_domain: &str) -> Uuid {
    Uuid::new_v5(&Uuid::NAMESPACE_DNS, primary_domain.to_ascii_lowercase().as_bytes())
}

/// An identity-platform error answer.
struct OAuthError {
    status: StatusCode,
    error: &'static str,
    code: u32,
    description: String,
}

impl OAuthError {
    fn new(error: &'static str, code: u32, description: impl Into<String>) -> Self {
        let status = if error == "invalid_client" { StatusCode::UNAUTHORIZED } else { StatusCode::BAD_REQUEST };
        Self { status, error, code, description: description.into() }
    }

    fn missing(parameter: &str) -> Self {
        Self::new(
            "invalid_request",
            900144,
            format!("The request body must contain the following parameter: '{parameter}'."),
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let trace = Uuid::new_v4().to_string();
        let now = chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
        let body = json!({
            "error": self.error,
            "error_description": format!("AADSTS{}: {} Trace ID: {trace} Correlation ID: {trace} Timestamp: {now}", self.code, self.description),
            "error_codes": [self.code],
            "timestamp": now,
            "trace_id": trace,
            "correlation_id": trace,
        });
        (self.status, [(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
    }
}

/// The form fields of a token request.
#[derive(Debug, Default, Deserialize)]
struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    scope: Option<String>,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
}

/// What the request asked for in `scope`.
struct Wanted {
    graph: Scopes,
    default: bool,
    offline: bool,
    oidc: Vec<&'static str>,
}

fn wanted(scope: &str) -> Result<Wanted, OAuthError> {
    let mut w = Wanted { graph: Scopes::empty(), default: false, offline: false, oidc: Vec::new() };
    for token in scope.split_ascii_whitespace() {
        match parse_requested(token) {
            Some(Requested::Graph(s)) => w.graph |= s,
            Some(Requested::Default) => w.default = true,
            Some(Requested::Oidc(o)) => {
                w.offline |= o == "offline_access";
                w.oidc.push(o);
            }
            None => {
                return Err(OAuthError::new(
                    "invalid_scope",
                    70011,
                    format!(
                        "The provided value for the input parameter 'scope' is not valid. The scope '{token}' does not exist."
                    ),
                ));
            }
        }
    }
    Ok(w)
}

fn client_basic(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic "))?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// `POST /{tenant}/oauth2/v2.0/token`.
pub async fn token(
    State(state): State<Arc<GraphState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match issue(&state, &tenant, &headers, &body).await {
        Ok(answer) => (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], axum::Json(answer)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn issue(
    state: &GraphState,
    tenant: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<serde_json::Value, OAuthError> {
    let tid = state.tenant_for(tenant).ok_or_else(|| {
        OAuthError::new(
            "invalid_request",
            90002,
            format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."),
        )
    })?;
    let mut form: TokenForm = serde_urlencoded::from_bytes(body)
        .map_err(|_| OAuthError::new("invalid_request", 900144, "The request body must be form-encoded."))?;
    if let Some((id, secret)) = client_basic(headers) {
        form.client_id.get_or_insert(id);
        form.client_secret.get_or_insert(secret);
    }
    let grant = form.grant_type.as_deref().ok_or_else(|| OAuthError::missing("grant_type"))?;
    let client_id = form.client_id.clone().ok_or_else(|| OAuthError::missing("client_id"))?;
    let issuer = format!("{}/{tid}/v2.0", state.authority(headers));
    match grant {
        "password" => password_grant(state, &form, &client_id, tid, &issuer).await,
        "refresh_token" => refresh_grant(state, &form, &client_id, tid, &issuer).await,
        "client_credentials" => client_grant(state, &form, &client_id, tid, &issuer).await,
        other => Err(OAuthError::new(
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{other}'."),
        )),
    }
}

/// The password grant is for the built-in client, or a registered
/// application proving itself with its secret (a confidential client).
async fn check_client(state: &GraphState, form: &TokenForm, client_id: &str) -> Result<(), OAuthError> {
    if client_id.eq_ignore_ascii_case(PUBLIC_CLIENT) {
        return Ok(());
    }
    let secret = form.client_secret.as_deref().ok_or_else(|| unknown_client(client_id))?;
    state.deputy.authenticate_app(client_id, secret).await.map(|_| ()).ok_or_else(bad_secret)
}

fn unknown_client(client_id: &str) -> OAuthError {
    OAuthError::new(
        "unauthorized_client",
        700016,
        format!("Application with identifier '{client_id}' was not found in the directory."),
    )
}

fn bad_secret() -> OAuthError {
    OAuthError::new("invalid_client", 7000215, "Invalid client secret provided.")
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Access (and, with `offline_access`, refresh) tokens for a user.
fn user_tokens(
    state: &GraphState,
    account: &deputy_core::Account,
    client_id: &str,
    granted: Scopes,
    wanted: &Wanted,
    tid: Uuid,
    issuer: &str,
) -> Result<serde_json::Value, OAuthError> {
    let iat = now();
    let oid = account.id.0.to_string();
    let scp = granted.names().join(" ");
    let mut claims = AccessClaims::new(issuer, tid, &oid, "user", client_id, &account.display_name);
    claims.scp = Some(scp.clone());
    claims.upn = Some(account.upn.clone());
    claims.preferred_username = Some(account.upn.clone());
    let access = state.keys.sign(&claims).ok_or_else(signing_failed)?;
    let mut scope: Vec<&str> = granted.names();
    scope.extend(wanted.oidc.iter().copied());
    let mut answer = json!({
        "token_type": "Bearer",
        "scope": scope.join(" "),
        "expires_in": ACCESS_LIFETIME,
        "ext_expires_in": ACCESS_LIFETIME,
        "access_token": access,
    });
    if wanted.offline {
        let refresh = RefreshClaims {
            aud: REFRESH_AUDIENCE.into(),
            iat,
            exp: iat + REFRESH_LIFETIME,
            sub: oid,
            client_id: client_id.to_owned(),
            scp,
            stamp: account.credential_stamp.clone(),
            jti: Uuid::new_v4().to_string(),
        };
        answer["refresh_token"] = json!(state.keys.sign(&refresh).ok_or_else(signing_failed)?);
    }
    Ok(answer)
}

fn signing_failed() -> OAuthError {
    OAuthError::new("temporarily_unavailable", 90033, "The token could not be signed.")
}

/// Delegated scopes asked for; `.default` (or nothing) means every delegated
/// permission the built-in client has, which is all of them.
fn delegated_grant(w: &Wanted) -> Scopes {
    if w.default || w.graph.is_empty() { DELEGATED } else { w.graph & DELEGATED }
}

async fn password_grant(
    state: &GraphState,
    form: &TokenForm,
    client_id: &str,
    tid: Uuid,
    issuer: &str,
) -> Result<serde_json::Value, OAuthError> {
    let username = form.username.as_deref().ok_or_else(|| OAuthError::missing("username"))?;
    let password = form.password.as_deref().ok_or_else(|| OAuthError::missing("password"))?;
    let w = wanted(form.scope.as_deref().unwrap_or(""))?;
    check_client(state, form, client_id).await?;
    let account = match state.deputy.authenticate(username, password).await {
        Some(id) => state.deputy.account(id),
        None => None,
    }
    .ok_or_else(|| {
        OAuthError::new("invalid_grant", 50126, "Error validating credentials due to invalid username or password.")
    })?;
    user_tokens(state, &account, client_id, delegated_grant(&w), &w, tid, issuer)
}

async fn refresh_grant(
    state: &GraphState,
    form: &TokenForm,
    client_id: &str,
    tid: Uuid,
    issuer: &str,
) -> Result<serde_json::Value, OAuthError> {
    let token = form.refresh_token.as_deref().ok_or_else(|| OAuthError::missing("refresh_token"))?;
    let invalid = || OAuthError::new("invalid_grant", 9002313, "Invalid request. Request is malformed or invalid.");
    let claims: RefreshClaims = state.keys.verify(token, &[REFRESH_AUDIENCE]).map_err(|e| match e {
        TokenError::Expired => {
            OAuthError::new("invalid_grant", 700082, "The refresh token has expired due to inactivity.")
        }
        _ => invalid(),
    })?;
    if !claims.client_id.eq_ignore_ascii_case(client_id) {
        return Err(OAuthError::new(
            "invalid_grant",
            70000,
            "Provided grant is invalid or malformed: the refresh token was issued to another client.",
        ));
    }
    check_client(state, form, client_id).await?;
    let id = Uuid::parse_str(&claims.sub).map(deputy_types::RecipientId).map_err(|_| invalid())?;
    let account = state
        .deputy
        .account(id)
        .ok_or_else(|| OAuthError::new("invalid_grant", 50057, "The user account is disabled or no longer exists."))?;
    if account.credential_stamp != claims.stamp {
        return Err(OAuthError::new(
            "invalid_grant",
            50173,
            "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.",
        ));
    }
    let held = Scopes::from_names(claims.scp.split(' '));
    let mut w = wanted(form.scope.as_deref().unwrap_or(""))?;
    // A refresh never widens what the user consented to.
    let granted = if w.graph.is_empty() || w.default { held } else { w.graph & held };
    w.offline = true;
    user_tokens(state, &account, client_id, granted, &w, tid, issuer)
}

async fn client_grant(
    state: &GraphState,
    form: &TokenForm,
    client_id: &str,
    tid: Uuid,
    issuer: &str,
) -> Result<serde_json::Value, OAuthError> {
    let scope = form.scope.as_deref().ok_or_else(|| OAuthError::missing("scope"))?;
    if !matches!(parse_requested(scope.trim()), Some(Requested::Default)) {
        return Err(OAuthError::new(
            "invalid_scope",
            1002012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        ));
    }
    let secret = form.client_secret.as_deref().ok_or_else(|| OAuthError::missing("client_secret"))?;
    if state.deputy.service_principal(client_id).is_none() {
        return Err(unknown_client(client_id));
    }
    let sp = state.deputy.authenticate_app(client_id, secret).await.ok_or_else(bad_secret)?;
    let mut claims =
        AccessClaims::new(issuer, tid, &sp.id.to_string(), "app", &sp.app_id.to_string(), &sp.display_name);
    claims.roles = Some(sp.roles.iter().map(|r| r.role.permission().to_owned()).collect());
    let access = state.keys.sign(&claims).ok_or_else(signing_failed)?;
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": ACCESS_LIFETIME,
        "ext_expires_in": ACCESS_LIFETIME,
        "access_token": access,
    }))
}

/// `GET /{tenant}/discovery/v2.0/keys`.
pub async fn jwks(State(state): State<Arc<GraphState>>) -> Response {
    axum::Json(state.keys.jwks()).into_response()
}

/// `GET /{tenant}/v2.0/.well-known/openid-configuration`, what MSAL reads
/// before asking for a token.
pub async fn openid_configuration(
    State(state): State<Arc<GraphState>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(tid) = state.tenant_for(&tenant) else {
        return OAuthError::new("invalid_tenant", 90002, format!("Tenant '{tenant}' not found.")).into_response();
    };
    let base = state.authority(&headers);
    axum::Json(json!({
        "issuer": format!("{base}/{tid}/v2.0"),
        "token_endpoint": format!("{base}/{tenant}/oauth2/v2.0/token"),
        "jwks_uri": format!("{base}/{tenant}/discovery/v2.0/keys"),
        "authorization_endpoint": format!("{base}/{tenant}/oauth2/v2.0/authorize"),
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "grant_types_supported": ["password", "refresh_token", "client_credentials"],
        "response_types_supported": ["token"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "tenant_region_scope": "NA",
    }))
    .into_response()
}

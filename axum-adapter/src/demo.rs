//! The demo service behind `cargo run --release -p authstate-axum --example demo`.
//!
//! HS256 only, `iss` = `aud` = `authstate-demo`, access tokens 300 s (header
//! `typ: at+jwt`), refresh tokens 1 day (header `typ: refresh+jwt`, claims
//! `sub`, `fam`, `gen`, `ver`, `jti`, `iat`, `exp`). Two validators pinned to
//! the two `typ` values keep a refresh token from being accepted as an access
//! token and vice versa. Users `alice` (admin), `bob` (user), `carol`
//! (admin), password `demo`.
//!
//! Routes: `POST /login`, `POST /refresh`, `POST /logout`, `GET /me`,
//! `POST /admin/users/{username}/role`, `POST /admin/users/{username}/revoke`,
//! `POST /admin/actions?hold_ms=N`, `GET /admin/audit`, `GET /healthz`.
//!
//! Handlers that take a JSON body read it before admitting their guard
//! ([`Auth::guard`]), so a client withholding its body holds no guard and
//! cannot stall revocations; a guard is held at most for the handler's own
//! work (`hold_ms` ≤ [`MAX_HOLD_MS`]). Request bodies are limited to
//! [`BODY_LIMIT`] bytes. Every error, including unknown routes (404), wrong
//! methods (405) and unreadable path parameters, is an RFC 9457
//! `application/problem+json` body.
//!
//! The audit log (`GET /admin/audit`) keeps the most recent
//! [`AUDIT_CAPACITY`] events; `seq` keeps counting across dropped events.
//!
//! A token claiming `admin` after its subject was downgraded is refused with
//! 401 `invalid_token` (`role_no_longer_held`), not 403: the token itself
//! asserts an authority that no longer exists. A token that never claimed
//! `admin` gets 403 `insufficient_scope` on admin routes.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use authstate_axum::demo::{DemoConfig, serve};
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! serve(listener, DemoConfig::new(b"a development secret of at least 32 bytes".to_vec())).await?;
//! # Ok(())
//! # }
//! ```

use std::collections::VecDeque;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use authstate::{AuthState, FamilyId, RedeemError, RefreshFacts, Roles, UnixTime, Version};
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{
    DefaultBodyLimit, FromRef, FromRequest, FromRequestParts, Path, RawQuery, Request, State,
};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jsonwebtoken::{EncodingKey, Header};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::extract::{Auth, Authenticated, Guarded, RequiredRole, problem};
use crate::roles::RoleMap;
use crate::validation::{Algorithm, ConfigError, NoCustomClaims, Validator, VerificationKey};

/// Issuer and audience of the demo's tokens.
pub const ISSUER: &str = "authstate-demo";
/// The development secret used when `DEMO_JWT_SECRET` is not set. Never use
/// it outside a local demo.
pub const DEV_SECRET: &str = "authstate-demo-development-secret-change-me";
/// Access token lifetime (seconds).
pub const ACCESS_TTL: i64 = 300;
/// Refresh token lifetime (seconds).
pub const REFRESH_TTL: i64 = 86_400;
/// Largest accepted `hold_ms`.
pub const MAX_HOLD_MS: u64 = 2_000;
/// Largest accepted request body (bytes); larger bodies get 413.
pub const BODY_LIMIT: usize = 16 * 1024;
/// How many audit events the demo keeps; older ones are dropped first.
pub const AUDIT_CAPACITY: usize = 10_000;
/// Header `typ` of access tokens (RFC 9068).
pub const ACCESS_TYP: &str = "at+jwt";
/// Header `typ` of refresh tokens.
pub const REFRESH_TYP: &str = "refresh+jwt";
/// The demo's users and their initial roles; every password is `demo`.
pub const USERS: [(&str, &str); 3] = [("alice", "admin"), ("bob", "user"), ("carol", "admin")];

const ADMIN_BIT: u8 = 0;
const USER_BIT: u8 = 1;

/// The demo's configuration.
#[derive(Clone)]
pub struct DemoConfig {
    /// The HS256 secret (at least 32 bytes).
    pub secret: Vec<u8>,
    /// The live state (a fresh one by default).
    pub state: AuthState,
}

impl std::fmt::Debug for DemoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoConfig").finish_non_exhaustive()
    }
}

impl DemoConfig {
    /// A configuration with this secret and a fresh state.
    pub fn new(secret: Vec<u8>) -> Self {
        DemoConfig {
            secret,
            state: AuthState::new(),
        }
    }
}

/// The audit log: the most recent `capacity` events, with `seq` numbers
/// that keep counting when old events are dropped.
#[derive(Debug)]
struct AuditLog {
    events: VecDeque<AuditEvent>,
    last_seq: u64,
    capacity: usize,
}

impl AuditLog {
    fn with_capacity(capacity: usize) -> Self {
        AuditLog {
            events: VecDeque::new(),
            last_seq: 0,
            capacity: capacity.max(1),
        }
    }

    /// Appends an event built with the next `seq` and returns that `seq`.
    fn push(&mut self, event: impl FnOnce(u64) -> AuditEvent) -> u64 {
        self.last_seq += 1;
        if self.events.len() >= self.capacity {
            self.events.pop_front();
        }
        self.events.push_back(event(self.last_seq));
        self.last_seq
    }

    fn snapshot(&self) -> Vec<AuditEvent> {
        self.events.iter().cloned().collect()
    }
}

/// One audit entry.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditEvent {
    /// Position in the log's linear order (from 1). Keeps counting when the
    /// oldest events are dropped ([`AUDIT_CAPACITY`]).
    pub seq: u64,
    /// `action`, `revoke_token`, `revoke_subject`, `role_change` or
    /// `refresh_reuse`.
    pub kind: String,
    /// The subject concerned.
    pub sub: String,
    /// The token concerned, if any.
    pub jti: Option<String>,
    /// The role concerned (the actor's live role for `action`, the new role
    /// for `role_change`).
    pub role: Option<String>,
    /// Unix time of the entry.
    pub at: i64,
}

#[derive(Clone)]
struct Demo {
    auth: Auth,
    refresh: Validator,
    key: Arc<EncodingKey>,
    audit: Arc<Mutex<AuditLog>>,
    ids: Arc<(RandomState, AtomicU64)>,
}

impl FromRef<Demo> for Auth {
    fn from_ref(demo: &Demo) -> Auth {
        demo.auth.clone()
    }
}

impl Demo {
    fn state(&self) -> &AuthState {
        self.auth.state()
    }

    fn record(&self, kind: &str, sub: &str, jti: Option<&str>, role: Option<&str>) -> u64 {
        let seq = self
            .audit
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(|seq| AuditEvent {
                seq,
                kind: kind.to_owned(),
                sub: sub.to_owned(),
                jti: jti.map(str::to_owned),
                role: role.map(str::to_owned),
                // Read under the lock, so `at` never decreases along `seq`.
                at: self.state().now().as_secs(),
            });
        tracing::info!(seq, kind, sub, "audit");
        seq
    }

    fn new_id(&self) -> String {
        let (hasher, counter) = &*self.ids;
        // Ordering reason: Relaxed suffices, the counter only has to hand out
        // distinct values (any fetch_add is atomic) and publishes no other data.
        let n = counter.fetch_add(1, Ordering::Relaxed);
        format!("{:016x}{n:08x}", hasher.hash_one(n))
    }

    fn sign(&self, typ: &str, claims: &serde_json::Value) -> Option<String> {
        let mut header = Header::new(Algorithm::HS256);
        header.typ = Some(typ.to_owned());
        jsonwebtoken::encode(&header, claims, &self.key)
            .inspect_err(|e| tracing::error!(error = %e, "signing failed"))
            .ok()
    }

    /// Mints an access + refresh pair for `sub` in `family` at `generation`.
    fn pair(
        &self,
        sub: &str,
        version: Version,
        family: FamilyId,
        generation: u32,
        refresh_exp: UnixTime,
    ) -> Response {
        let now = self.state().now();
        let exp = now.saturating_add_secs(ACCESS_TTL);
        self.state().extend_family(sub, family, exp);
        let role = role_name(self.state().live_roles(sub));
        let access = self.sign(
            ACCESS_TYP,
            &json!({
                "iss": ISSUER, "aud": ISSUER, "sub": sub, "jti": self.new_id(),
                "iat": now.as_secs(), "exp": exp.as_secs(), "ver": version.0,
                "role": role, "fam": family.0,
            }),
        );
        let refresh = self.sign(
            REFRESH_TYP,
            &json!({
                "iss": ISSUER, "aud": ISSUER, "sub": sub, "jti": self.new_id(),
                "iat": now.as_secs(), "exp": refresh_exp.as_secs(), "ver": version.0,
                "fam": family.0, "gen": generation,
            }),
        );
        let (Some(access), Some(refresh)) = (access, refresh) else {
            return problem(StatusCode::INTERNAL_SERVER_ERROR, "signing failed", None);
        };
        Json(json!({
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_in": ACCESS_TTL,
        }))
        .into_response()
    }
}

fn role_name(live: Roles) -> &'static str {
    if live.contains(role(ADMIN_BIT)) {
        "admin"
    } else {
        "user"
    }
}

fn role(bit: u8) -> authstate::Role {
    authstate::Role::new(bit).unwrap_or_else(|| unreachable!("bit {bit} < 32"))
}

fn roles_for(name: &str) -> Option<Roles> {
    match name {
        // An admin is also a user, so an upgrade keeps user tokens valid.
        "admin" => Some(Roles::from(role(ADMIN_BIT)).with(role(USER_BIT))),
        "user" => Some(Roles::from(role(USER_BIT))),
        _ => None,
    }
}

/// The demo's admin role.
#[derive(Debug)]
pub struct Admin;

impl RequiredRole for Admin {
    const NAME: &'static str = "admin";
}

/// The demo's role names: `admin` and `user`.
///
/// # Panics
/// Never: the entries are constants.
pub fn role_map() -> RoleMap {
    let mut map = RoleMap::new();
    for (name, bit) in [("admin", ADMIN_BIT), ("user", USER_BIT)] {
        map.insert(name, role(bit))
            .unwrap_or_else(|_| unreachable!("constant role map"));
    }
    map
}

fn validator(secret: &[u8], typ: &str) -> Result<Validator, ConfigError> {
    Validator::builder()
        .algorithms([Algorithm::HS256])
        .key(VerificationKey::hmac(secret)?)
        .issuer(ISSUER)
        .audience(ISSUER)
        .require_typ(typ)
        .build()
}

/// Errors building the demo.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DemoError {
    /// The validator rejected the configuration (e.g. a short secret).
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The extractor configuration was rejected.
    #[error(transparent)]
    Auth(#[from] crate::extract::AuthConfigError),
    /// Serving failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The signing key was rejected.
    #[error("signing key: {0}")]
    Signing(String),
}

/// The demo router. Seeds the users' roles into `config.state`. Does not
/// start the sweeper; see [`spawn_sweeper`] and [`serve`].
///
/// # Errors
/// [`DemoError`] for a secret shorter than 32 bytes.
pub fn app(config: &DemoConfig) -> Result<Router, DemoError> {
    let state = config.state.clone();
    for (user, role) in USERS {
        if let Some(roles) = roles_for(role) {
            let _ = state.set_role(user, roles);
        }
    }
    let auth = Auth::builder(validator(&config.secret, ACCESS_TYP)?, state)
        .roles(role_map())
        .realm(ISSUER)
        .build()?;
    let key =
        EncodingKey::from_secret(&config.secret).map_err(|e| DemoError::Signing(e.to_string()))?;
    let demo = Demo {
        auth,
        refresh: validator(&config.secret, REFRESH_TYP)?,
        key: Arc::new(key),
        audit: Arc::new(Mutex::new(AuditLog::with_capacity(AUDIT_CAPACITY))),
        ids: Arc::new((RandomState::new(), AtomicU64::new(0))),
    };
    Ok(Router::new()
        .route("/healthz", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/login", post(login))
        .route("/refresh", post(refresh))
        .route("/logout", post(logout))
        .route("/me", get(me))
        .route("/admin/users/{username}/role", post(set_role))
        .route("/admin/users/{username}/revoke", post(revoke_user))
        .route("/admin/actions", post(action))
        .route("/admin/audit", get(audit))
        // After the routes: applies to every method router registered above.
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(demo))
}

/// 404 for unknown routes.
async fn not_found() -> Response {
    problem(StatusCode::NOT_FOUND, "no such route", None)
}

/// 405 for a known route with another method (axum adds the `Allow` header).
async fn method_not_allowed() -> Response {
    problem(
        StatusCode::METHOD_NOT_ALLOWED,
        "method not allowed for this route",
        None,
    )
}

/// Spawns the background task calling `state.sweep(4096)` every second.
/// Must be called inside a Tokio runtime.
pub fn spawn_sweeper(state: AuthState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let _ = state.sweep(4096);
        }
    })
}

/// Serves the demo on `listener` with the sweeper running, until the
/// process ends.
///
/// # Errors
/// [`DemoError`] for a bad configuration or an I/O error.
pub async fn serve(listener: tokio::net::TcpListener, config: DemoConfig) -> Result<(), DemoError> {
    let router = app(&config)?;
    let sweeper = spawn_sweeper(config.state.clone());
    let result = axum::serve(listener, router).await;
    sweeper.abort();
    Ok(result?)
}

/// `Json` with RFC 9457 rejections (400 / 415 / 422, never 500).
struct Body<T>(T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Response> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(Body(v)),
            Err(rejection) => Err(json_problem(&rejection)),
        }
    }
}

fn json_problem(rejection: &JsonRejection) -> Response {
    let status = rejection.status();
    let detail = match rejection {
        JsonRejection::MissingJsonContentType(_) => "expected Content-Type: application/json",
        JsonRejection::JsonSyntaxError(_) => "malformed JSON",
        JsonRejection::JsonDataError(_) => "JSON does not match the expected shape",
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => "request body too large",
        _ => "unreadable request body",
    };
    problem(status, detail, None)
}

/// `Path` with RFC 9457 rejections.
struct PathParam<T>(T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathParam<T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Response> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(v)) => Ok(PathParam(v)),
            Err(rejection) => Err(path_problem(&rejection)),
        }
    }
}

fn path_problem(rejection: &PathRejection) -> Response {
    let status = rejection.status();
    let detail = if status.is_server_error() {
        tracing::error!(error = %rejection, "path extraction misconfigured");
        "internal error"
    } else {
        "invalid path parameter"
    };
    problem(status, detail, None)
}

fn unknown_user(name: &str) -> Option<Response> {
    (!USERS.iter().any(|(u, _)| *u == name))
        .then(|| problem(StatusCode::NOT_FOUND, "unknown user", None))
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(State(demo): State<Demo>, Body(body): Body<LoginBody>) -> Response {
    let known = USERS.iter().any(|(u, _)| *u == body.username);
    if !known || body.password != "demo" {
        tracing::info!(reason = "bad_credentials", "login refused");
        return problem(
            StatusCode::UNAUTHORIZED,
            "invalid username or password",
            None,
        );
    }
    let sub = body.username.as_str();
    let refresh_exp = demo.state().now().saturating_add_secs(REFRESH_TTL);
    let grant = demo.state().issue_family(sub, refresh_exp);
    let version = demo.state().current_version(sub);
    tracing::info!(sub, family = grant.family.0, "login");
    demo.pair(sub, version, grant.family, grant.generation, refresh_exp)
}

#[derive(Deserialize)]
struct RefreshBody {
    refresh_token: String,
}

#[derive(Deserialize)]
struct RefreshClaims {
    #[serde(rename = "gen")]
    generation: u32,
}

async fn refresh(State(demo): State<Demo>, Body(body): Body<RefreshBody>) -> Response {
    let refused = |detail: &str| problem(StatusCode::UNAUTHORIZED, detail, Some("invalid_grant"));
    let state = demo.state();
    let token = match demo
        .refresh
        .validate_at::<RefreshClaims>(&body.refresh_token, state.now().as_secs())
    {
        Ok(t) => t,
        Err(e) => {
            tracing::info!(reason = e.category(), "refresh refused");
            return refused(e.category());
        }
    };
    let sub = token.claims.sub.as_str();
    let (Some(family), Some(ver)) = (token.claims.fam, token.claims.ver) else {
        return refused("claims");
    };
    let version = Version(ver);
    if state.current_version(sub) != version {
        tracing::info!(sub, reason = "stale_version", "refresh refused");
        return refused("stale_version");
    }
    let facts = RefreshFacts {
        subject: sub,
        family: FamilyId(family),
        generation: token.custom.generation,
        expires_at: UnixTime::from_secs(token.claims.exp),
    };
    let refresh_exp = state.now().saturating_add_secs(REFRESH_TTL);
    match state.redeem(&facts, refresh_exp) {
        Ok(grant) => demo.pair(sub, version, grant.family, grant.generation, refresh_exp),
        Err(RedeemError::Reused(revocation)) => {
            revocation.await;
            demo.record("refresh_reuse", sub, token.claims.jti.as_deref(), None);
            tracing::warn!(
                sub,
                family,
                reason = "refresh_reuse",
                "refresh family revoked"
            );
            refused("refresh token reused; family revoked")
        }
        Err(e) => {
            tracing::info!(sub, reason = e.reason(), "refresh refused");
            refused(e.reason())
        }
    }
}

async fn logout(State(demo): State<Demo>, auth: Authenticated) -> Response {
    let claims = auth.claims();
    let sub = claims.sub.as_str();
    let exp = UnixTime::from_secs(claims.exp);
    if let Some(jti) = claims.jti.as_deref() {
        demo.state().revoke_token(jti, exp).await;
    }
    if let Some(fam) = claims.fam {
        demo.state().revoke_family(sub, FamilyId(fam)).await;
    }
    demo.record("revoke_token", sub, claims.jti.as_deref(), None);
    tracing::info!(sub, "logout");
    StatusCode::NO_CONTENT.into_response()
}

async fn me(State(demo): State<Demo>, auth: Authenticated) -> Response {
    let claims = auth.claims();
    Json(json!({
        "sub": claims.sub,
        "role": role_name(demo.state().live_roles(&claims.sub)),
        "jti": claims.jti,
        "ver": claims.ver,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct RoleBody {
    role: String,
}

async fn set_role(
    State(demo): State<Demo>,
    authenticated: Authenticated,
    PathParam(username): PathParam<String>,
    Body(body): Body<RoleBody>,
) -> Response {
    // The body has been read: a client withholding it held no guard.
    let admin = match demo.auth.guard::<Admin, _>(authenticated) {
        Ok(admin) => admin,
        Err(rejection) => return rejection.into_response(),
    };
    if let Some(r) = unknown_user(&username) {
        return r;
    }
    let Some(roles) = roles_for(&body.role) else {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "role must be \"user\" or \"admin\"",
            None,
        );
    };
    let revocation = demo.state().set_role(&username, roles);
    // Release our own guard before waiting: an admin downgrading themselves
    // would otherwise wait for their own request.
    let admin = admin.release();
    revocation.await;
    demo.record("role_change", &username, None, Some(&body.role));
    tracing::info!(by = admin.subject(), sub = %username, role = %body.role, "role changed");
    Json(json!({"sub": username, "role": body.role})).into_response()
}

// No body extractor: the guard extractor is admitted after the head and
// held only for the handler's own work.
async fn revoke_user(
    State(demo): State<Demo>,
    admin: Guarded<NoCustomClaims, Admin>,
    PathParam(username): PathParam<String>,
) -> Response {
    if let Some(r) = unknown_user(&username) {
        return r;
    }
    let revocation = match demo.state().revoke_subject(&username) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(sub = %username, error = %e, "revoke_subject failed");
            return problem(StatusCode::INTERNAL_SERVER_ERROR, "revocation failed", None);
        }
    };
    let admin = admin.release();
    revocation.await;
    demo.record("revoke_subject", &username, None, None);
    tracing::info!(by = admin.subject(), sub = %username, "subject revoked");
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct ActionBody {
    #[allow(dead_code)]
    note: String,
}

/// `hold_ms` from the query string (default 0); `None` if invalid.
fn hold_ms(query: Option<&str>) -> Option<u64> {
    let mut hold = 0;
    for pair in query.unwrap_or("").split('&') {
        if let Some(value) = pair.strip_prefix("hold_ms=") {
            hold = value.parse::<u64>().ok()?;
        }
    }
    (hold <= MAX_HOLD_MS).then_some(hold)
}

async fn action(
    State(demo): State<Demo>,
    RawQuery(query): RawQuery,
    authenticated: Authenticated,
    Body(_body): Body<ActionBody>,
) -> Response {
    // The body has been read: a client withholding it held no guard, and
    // the guard is held for at most `hold_ms` plus the recording.
    let guarded = match demo.auth.guard::<Admin, _>(authenticated) {
        Ok(guarded) => guarded,
        Err(rejection) => return rejection.into_response(),
    };
    let Some(hold) = hold_ms(query.as_deref()) else {
        return problem(
            StatusCode::BAD_REQUEST,
            "hold_ms must be an integer between 0 and 2000",
            None,
        );
    };
    tokio::time::sleep(Duration::from_millis(hold)).await;
    // Recorded while the guard is held: a revocation of this authority
    // cannot have passed its barrier yet.
    let role = role_name(guarded.authorization().live_roles);
    let seq = demo.record(
        "action",
        guarded.subject(),
        guarded.claims().jti.as_deref(),
        Some(role),
    );
    drop(guarded);
    (StatusCode::CREATED, Json(json!({"seq": seq}))).into_response()
}

async fn audit(State(demo): State<Demo>, _admin: Guarded<NoCustomClaims, Admin>) -> Response {
    let events = demo
        .audit
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .snapshot();
    Json(json!({"events": events})).into_response()
}

#[cfg(test)]
mod tests {
    use super::{AuditEvent, AuditLog};

    fn event(seq: u64) -> AuditEvent {
        AuditEvent {
            seq,
            kind: "action".to_owned(),
            sub: "alice".to_owned(),
            jti: None,
            role: None,
            at: 0,
        }
    }

    #[test]
    fn audit_log_is_capped_and_seq_stays_monotonic() {
        let mut log = AuditLog::with_capacity(3);
        let seqs: Vec<u64> = (0..5).map(|_| log.push(event)).collect();
        assert_eq!(seqs, [1, 2, 3, 4, 5]);
        let kept: Vec<u64> = log.snapshot().iter().map(|e| e.seq).collect();
        assert_eq!(kept, [3, 4, 5]);
        assert_eq!(log.push(event), 6);
        let kept: Vec<u64> = log.snapshot().iter().map(|e| e.seq).collect();
        assert_eq!(kept, [4, 5, 6]);
    }
}

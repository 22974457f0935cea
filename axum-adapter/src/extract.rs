//! Request extractors that validate a bearer JWT and check it against an
//! [`AuthState`] at the point of use.
//!
//! * [`Authenticated<C>`]: validated ([`Validator`]) and checked
//!   ([`AuthState::check`]) when extracted.
//! * `Option<Authenticated<C>>` (axum's `OptionalFromRequestParts`): no token
//!   gives `None`; a token that is present but invalid is still a rejection.
//! * [`Guarded<C, R>`]: validated, checked, and admitted by
//!   [`AuthState::guard`] for the role `R` names ([`RequiredRole`]). The core
//!   [`Guard`] lives exactly as long as the extractor value, so revocations of
//!   this authority wait until the handler has dropped it. Use it as an
//!   extractor only in handlers without a body extractor; handlers that take
//!   a body extract [`Authenticated<C>`] and the body, then admit the guard
//!   with [`Auth::guard`] (see [`Guarded`] for why).
//!
//! All of them read their configuration, an [`Auth`], from the router state
//! through [`FromRef`].
//!
//! # No "validate once, authorize later" layer
//!
//! This crate deliberately offers no tower layer that validates a token and
//! leaves its claims in request extensions: a handler deciding on such claims
//! later would decide on a check that a concurrent revocation may already
//! have withdrawn (the time-of-check-to-time-of-use race the core exists to
//! close). Every extractor here runs the core's check (or admits a guard) at
//! extraction time, in the handler's own call.
//!
//! # Example
//!
//! ```
//! # authstate::sync::doc_example(|| {
//! use authstate::AuthState;
//! use authstate_axum::extract::{Auth, Guarded, RequiredRole};
//! use authstate_axum::validation::{Algorithm, NoCustomClaims, Validator, VerificationKey};
//! use authstate_axum::RoleMap;
//! use axum::{Router, routing::post};
//!
//! struct Admin;
//! impl RequiredRole for Admin {
//!     const NAME: &'static str = "admin";
//! }
//!
//! async fn sensitive(guarded: Guarded<NoCustomClaims, Admin>) -> &'static str {
//!     // ... the write happens here, under the guard ...
//!     let _ = guarded.subject();
//!     "done"
//! }
//!
//! let validator = Validator::builder()
//!     .algorithms([Algorithm::HS256])
//!     .key(VerificationKey::hmac(b"an example secret of at least 32 bytes!").unwrap())
//!     .issuer("me")
//!     .audience("my-api")
//!     .build()
//!     .unwrap();
//! let auth = Auth::builder(validator, AuthState::new())
//!     .roles(RoleMap::new().with_index("admin", 0).unwrap())
//!     .realm("my-api")
//!     .build()
//!     .unwrap();
//! let app: Router = Router::new().route("/write", post(sensitive)).with_state(auth);
//! # let _ = app;
//! # });
//! ```

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use authstate::{AuthState, Authorization, Guard, Rejection, Roles, TokenFacts};
use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use crate::roles::RoleMap;
use crate::validation::{NoCustomClaims, StandardClaims, TokenError, ValidatedToken, Validator};

/// Where the extractors look for the token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum TokenSource {
    /// `Authorization: Bearer <token>`, scheme compared case-insensitively
    /// (RFC 6750 §2.1). The default.
    #[default]
    Bearer,
    /// A cookie of this name; the `Authorization` header is ignored.
    Cookie(String),
    /// `Authorization: Bearer` when the request has an `Authorization`
    /// header, otherwise the named cookie.
    BearerOrCookie(String),
}

/// A misconfiguration of an [`Auth`] found by [`AuthBuilder::build`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthConfigError {
    /// The realm is empty or contains characters not allowed in an HTTP
    /// quoted string without escaping (`"`, `\`, control characters, non-ASCII).
    #[error("realm must be non-empty printable ASCII without quotes or backslashes")]
    InvalidRealm,
    /// The cookie name is empty or not an HTTP token.
    #[error("cookie name must be a non-empty HTTP token")]
    InvalidCookieName,
}

/// Builds the HTTP response for a rejection. Implement it to change bodies or
/// headers; the default ([`DefaultResponder`]) follows RFC 6750 and RFC 9457.
pub trait RejectionResponder: Send + Sync + 'static {
    /// The response for `rejection`. The default is
    /// [`AuthRejection::default_response`].
    fn respond(&self, rejection: &AuthRejection) -> Response {
        rejection.default_response()
    }
}

/// The default [`RejectionResponder`]: RFC 6750 `WWW-Authenticate` challenges
/// and RFC 9457 `application/problem+json` bodies.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultResponder;

impl RejectionResponder for DefaultResponder {}

/// The extractors' configuration: validator, live state, role names, token
/// source, realm and rejection responder. Cheap to clone (one `Arc`).
///
/// Put it in the router state (directly, or in a larger state with a
/// [`FromRef`] implementation).
#[derive(Clone)]
pub struct Auth {
    inner: Arc<AuthInner>,
}

struct AuthInner {
    validator: Validator,
    state: AuthState,
    roles: RoleMap,
    source: TokenSource,
    realm: Option<Arc<str>>,
    responder: Arc<dyn RejectionResponder>,
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Auth")
            .field("validator", &self.inner.validator)
            .field("roles", &self.inner.roles)
            .field("source", &self.inner.source)
            .field("realm", &self.inner.realm)
            .finish_non_exhaustive()
    }
}

/// Builds an [`Auth`]; see [`Auth::builder`].
#[must_use]
pub struct AuthBuilder {
    validator: Validator,
    state: AuthState,
    roles: RoleMap,
    source: TokenSource,
    realm: Option<String>,
    responder: Arc<dyn RejectionResponder>,
}

impl fmt::Debug for AuthBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthBuilder")
            .field("source", &self.source)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl AuthBuilder {
    /// The role names tokens carry and [`RequiredRole::NAME`]s refer to
    /// (default: empty, so tokens claim no roles).
    pub fn roles(mut self, roles: RoleMap) -> Self {
        self.roles = roles;
        self
    }

    /// Where to read the token (default [`TokenSource::Bearer`]).
    pub fn source(mut self, source: TokenSource) -> Self {
        self.source = source;
        self
    }

    /// The `realm` of the `WWW-Authenticate` challenges (default: none).
    pub fn realm(mut self, realm: impl Into<String>) -> Self {
        self.realm = Some(realm.into());
        self
    }

    /// Replaces the [`DefaultResponder`].
    pub fn responder(mut self, responder: impl RejectionResponder) -> Self {
        self.responder = Arc::new(responder);
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// An [`AuthConfigError`] for an invalid realm or cookie name.
    pub fn build(self) -> Result<Auth, AuthConfigError> {
        if let Some(realm) = &self.realm
            && (realm.is_empty()
                || !realm
                    .bytes()
                    .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\'))
        {
            return Err(AuthConfigError::InvalidRealm);
        }
        if let TokenSource::Cookie(name) | TokenSource::BearerOrCookie(name) = &self.source
            && (name.is_empty() || !name.bytes().all(is_tchar))
        {
            return Err(AuthConfigError::InvalidCookieName);
        }
        Ok(Auth {
            inner: Arc::new(AuthInner {
                validator: self.validator,
                state: self.state,
                roles: self.roles,
                source: self.source,
                realm: self.realm.map(Arc::from),
                responder: self.responder,
            }),
        })
    }
}

/// RFC 9110 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

impl Auth {
    /// Starts a builder around a validator and the live state.
    pub fn builder(validator: Validator, state: AuthState) -> AuthBuilder {
        AuthBuilder {
            validator,
            state,
            roles: RoleMap::new(),
            source: TokenSource::Bearer,
            realm: None,
            responder: Arc::new(DefaultResponder),
        }
    }

    /// The validator.
    pub fn validator(&self) -> &Validator {
        &self.inner.validator
    }

    /// The live state.
    pub fn state(&self) -> &AuthState {
        &self.inner.state
    }

    /// The role names.
    pub fn roles(&self) -> &RoleMap {
        &self.inner.roles
    }

    /// The configured realm.
    pub fn realm(&self) -> Option<&str> {
        self.inner.realm.as_deref()
    }

    /// A rejection carrying this configuration's realm and responder, for
    /// handlers that want to answer like the extractors do.
    pub fn reject(&self, failure: AuthFailure) -> AuthRejection {
        AuthRejection {
            failure,
            realm: self.inner.realm.clone(),
            responder: Arc::clone(&self.inner.responder),
        }
    }

    /// Reads the token from the request. `Ok(None)` means no token at all
    /// (including an `Authorization` header of another scheme, RFC 6750
    /// §3.1); a malformed `Authorization` header is an error.
    fn token<'p>(&self, headers: &'p HeaderMap) -> Result<Option<&'p str>, AuthFailure> {
        match &self.inner.source {
            TokenSource::Bearer => bearer(headers),
            TokenSource::Cookie(name) => Ok(cookie(headers, name)),
            TokenSource::BearerOrCookie(name) => {
                if headers.contains_key(header::AUTHORIZATION) {
                    bearer(headers)
                } else {
                    Ok(cookie(headers, name))
                }
            }
        }
    }

    /// Validates the request's token against the state's clock and runs
    /// [`AuthState::check`].
    fn authenticate<C: DeserializeOwned>(
        &self,
        parts: &Parts,
    ) -> Result<Option<Authenticated<C>>, AuthFailure> {
        let Some(token) = self.token(&parts.headers)? else {
            return Ok(None);
        };
        let state = &self.inner.state;
        let token: ValidatedToken<C> = self
            .inner
            .validator
            .validate_at(token, state.now().as_secs())
            .map_err(AuthFailure::InvalidToken)?;
        let claimed = self.inner.roles.roles_of(&token.claims);
        let authorization = state
            .check(&token.claims.token_facts(claimed))
            .map_err(|r| AuthFailure::Rejected {
                subject: Some(token.claims.sub.clone()),
                rejection: r,
            })?;
        Ok(Some(Authenticated {
            token,
            claimed,
            authorization,
        }))
    }

    /// Admits a guard for an already extracted [`Authenticated`] request: the
    /// way to guard a handler that also takes a request body.
    ///
    /// Extract `Authenticated<C>` (it holds no guard) and the body first,
    /// then call this: the guard is admitted only once the whole request has
    /// arrived, so a client withholding its body cannot keep it live (see
    /// [`Guarded`]). The admission is [`AuthState::guard`] on the live state
    /// now, so an expiry or a revocation that happened while the body was
    /// being read is seen and refuses the request.
    ///
    /// `authenticated` must come from this `Auth` (its claimed roles were
    /// resolved through this [`RoleMap`]).
    ///
    /// # Errors
    /// The same [`AuthRejection`]s as the [`Guarded`] extractor: 401 when the
    /// core refuses the token, 403 when `R` is not held live, 500 when `R`'s
    /// name is not in the role map.
    ///
    /// ```
    /// # authstate::sync::doc_example(|| {
    /// use authstate::AuthState;
    /// use authstate_axum::extract::{Auth, AuthRejection, Authenticated, Guarded, RequiredRole};
    /// use authstate_axum::validation::{Algorithm, NoCustomClaims, Validator, VerificationKey};
    /// use authstate_axum::RoleMap;
    /// use axum::extract::State;
    /// use axum::{Json, Router, routing::post};
    ///
    /// struct Admin;
    /// impl RequiredRole for Admin {
    ///     const NAME: &'static str = "admin";
    /// }
    ///
    /// async fn write(
    ///     State(auth): State<Auth>,
    ///     authenticated: Authenticated,
    ///     Json(body): Json<serde_json::Value>,
    /// ) -> Result<&'static str, AuthRejection> {
    ///     // The body has been read; only now is the guard admitted.
    ///     let guarded: Guarded<NoCustomClaims, Admin> = auth.guard(authenticated)?;
    ///     // ... the write of `body` happens here, under the guard ...
    ///     let _ = (guarded.subject(), body);
    ///     Ok("done")
    /// }
    ///
    /// let validator = Validator::builder()
    ///     .algorithms([Algorithm::HS256])
    ///     .key(VerificationKey::hmac(b"an example secret of at least 32 bytes!").unwrap())
    ///     .issuer("me")
    ///     .audience("my-api")
    ///     .build()
    ///     .unwrap();
    /// let auth = Auth::builder(validator, AuthState::new())
    ///     .roles(RoleMap::new().with_index("admin", 0).unwrap())
    ///     .build()
    ///     .unwrap();
    /// let app: Router = Router::new().route("/write", post(write)).with_state(auth);
    /// # let _ = app;
    /// # });
    /// ```
    pub fn guard<R: RequiredRole, C>(
        &self,
        authenticated: Authenticated<C>,
    ) -> Result<Guarded<C, R>, AuthRejection> {
        let Authenticated { token, claimed, .. } = authenticated;
        self.admit(token, claimed)
    }

    /// Admits a guard for `R` with a validated token whose claimed roles are
    /// `claimed`.
    fn admit<R: RequiredRole, C>(
        &self,
        token: ValidatedToken<C>,
        claimed: Roles,
    ) -> Result<Guarded<C, R>, AuthRejection> {
        let Some(required) = R::roles(self.roles()) else {
            return Err(self.reject(AuthFailure::Misconfigured(
                "required role is not in the role map",
            )));
        };
        let core = self.state();
        let facts = token.claims.token_facts(claimed);
        let guard = core.guard(&facts, required).map_err(|rejection| {
            self.reject(AuthFailure::Rejected {
                subject: Some(token.claims.sub.clone()),
                rejection,
            })
        })?;
        tracing::debug!(sub = facts.subject, role = R::NAME, "guard admitted");
        // What the admission decided on, not a later reading of the state.
        let authorization = guard.authorization();
        Ok(Guarded {
            auth: Authenticated {
                token,
                claimed,
                authorization,
            },
            guard,
            state: core.clone(),
            required,
            _role: PhantomData,
        })
    }
}

fn bearer(headers: &HeaderMap) -> Result<Option<&str>, AuthFailure> {
    let mut all = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = all.next() else {
        return Ok(None);
    };
    if all.next().is_some() {
        return Err(AuthFailure::InvalidRequest(
            "multiple Authorization headers",
        ));
    }
    let value = value
        .to_str()
        .map_err(|_| AuthFailure::InvalidRequest("Authorization header is not visible ASCII"))?;
    let value = value.trim_matches(|c| c == ' ' || c == '\t');
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        // Another scheme (Basic, Digest, ...): no bearer credentials at all.
        return Ok(None);
    }
    let token = rest.trim_start_matches(' ');
    if token.is_empty() {
        return Err(AuthFailure::InvalidRequest(
            "Bearer credentials are missing",
        ));
    }
    if token.contains([' ', '\t', ',']) {
        return Err(AuthFailure::InvalidRequest(
            "Bearer credentials are not a single token",
        ));
    }
    Ok(Some(token))
}

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
        .filter(|v| !v.is_empty())
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthFailure {
    /// No token (or only credentials of another scheme): 401 with a bare
    /// `Bearer` challenge.
    MissingToken,
    /// A malformed `Authorization` header (several headers, non-ASCII bytes,
    /// `Bearer` without a token, a token with spaces): 400 `invalid_request`.
    InvalidRequest(&'static str),
    /// The token failed validation: 401 `invalid_token`, described by
    /// [`TokenError::category`].
    InvalidToken(TokenError),
    /// The core refused the token (401 `invalid_token`, described by
    /// [`Rejection::reason`]) or a required role is not held live (403
    /// `insufficient_scope`).
    Rejected {
        /// The token's subject.
        subject: Option<String>,
        /// The core's decision.
        rejection: Rejection,
    },
    /// A server-side fault, e.g. a [`RequiredRole::NAME`] missing from the
    /// [`RoleMap`]: 500, logged at error level.
    Misconfigured(&'static str),
}

impl AuthFailure {
    /// The HTTP status of this failure.
    pub fn status(&self) -> StatusCode {
        match self {
            AuthFailure::MissingToken | AuthFailure::InvalidToken(_) => StatusCode::UNAUTHORIZED,
            AuthFailure::InvalidRequest(_) => StatusCode::BAD_REQUEST,
            AuthFailure::Rejected { rejection, .. } if rejection.is_insufficient_role() => {
                StatusCode::FORBIDDEN
            }
            AuthFailure::Rejected { .. } => StatusCode::UNAUTHORIZED,
            AuthFailure::Misconfigured(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The RFC 6750 error code, if any (`invalid_request`, `invalid_token`,
    /// `insufficient_scope`).
    pub fn error_code(&self) -> Option<&'static str> {
        match self {
            AuthFailure::MissingToken | AuthFailure::Misconfigured(_) => None,
            AuthFailure::InvalidRequest(_) => Some("invalid_request"),
            AuthFailure::InvalidToken(_) => Some("invalid_token"),
            AuthFailure::Rejected { rejection, .. } if rejection.is_insufficient_role() => {
                Some("insufficient_scope")
            }
            AuthFailure::Rejected { .. } => Some("invalid_token"),
        }
    }

    /// A short, static, client-safe description: the validation category,
    /// the core's reason, or the header problem. Never token data.
    pub fn description(&self) -> &'static str {
        match self {
            AuthFailure::MissingToken => "no bearer token",
            AuthFailure::InvalidRequest(why) => why,
            AuthFailure::InvalidToken(e) => e.category(),
            AuthFailure::Rejected { rejection, .. } => rejection.reason(),
            AuthFailure::Misconfigured(_) => "internal error",
        }
    }

    fn log(&self) {
        match self {
            AuthFailure::MissingToken => tracing::debug!(reason = "missing_token", "auth rejected"),
            AuthFailure::InvalidRequest(why) => {
                tracing::info!(reason = "invalid_request", detail = why, "auth rejected");
            }
            AuthFailure::InvalidToken(e) => {
                tracing::info!(reason = "invalid_token", category = e.category(), detail = %e, "auth rejected");
            }
            AuthFailure::Rejected { subject, rejection } => {
                tracing::info!(
                    sub = subject.as_deref(),
                    reason = rejection.reason(),
                    "auth rejected"
                );
            }
            AuthFailure::Misconfigured(what) => {
                tracing::error!(detail = what, "auth misconfigured");
            }
        }
    }
}

/// The extractors' rejection: an [`AuthFailure`] plus the configured realm and
/// [`RejectionResponder`], which turns it into the response.
#[derive(Clone)]
pub struct AuthRejection {
    failure: AuthFailure,
    realm: Option<Arc<str>>,
    responder: Arc<dyn RejectionResponder>,
}

impl fmt::Debug for AuthRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthRejection")
            .field("failure", &self.failure)
            .field("realm", &self.realm)
            .finish_non_exhaustive()
    }
}

impl AuthRejection {
    /// What went wrong.
    pub fn failure(&self) -> &AuthFailure {
        &self.failure
    }

    /// The configured realm.
    pub fn realm(&self) -> Option<&str> {
        self.realm.as_deref()
    }

    /// The RFC 6750 `WWW-Authenticate` value, `None` for a server fault.
    /// Examples: `Bearer`, `Bearer realm="api"`,
    /// `Bearer error="invalid_token", error_description="expired"`.
    pub fn www_authenticate(&self) -> Option<HeaderValue> {
        if matches!(self.failure, AuthFailure::Misconfigured(_)) {
            return None;
        }
        let mut params = Vec::new();
        if let Some(realm) = &self.realm {
            params.push(format!("realm=\"{realm}\""));
        }
        if let Some(code) = self.failure.error_code() {
            params.push(format!("error=\"{code}\""));
            if !matches!(self.failure, AuthFailure::Rejected { rejection, .. } if rejection.is_insufficient_role())
            {
                params.push(format!(
                    "error_description=\"{}\"",
                    self.failure.description()
                ));
            }
        }
        let value = if params.is_empty() {
            "Bearer".to_owned()
        } else {
            format!("Bearer {}", params.join(", "))
        };
        // Realm checked at build time; codes and descriptions are static ASCII.
        HeaderValue::from_str(&value).ok()
    }

    /// The default response: the status of [`AuthFailure::status`], the
    /// `WWW-Authenticate` challenge and an RFC 9457 problem body.
    pub fn default_response(&self) -> Response {
        let status = self.failure.status();
        let mut response = problem(
            status,
            self.failure.description(),
            self.failure.error_code(),
        );
        if let Some(challenge) = self.www_authenticate() {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        self.failure.log();
        self.responder.respond(&self)
    }
}

/// An RFC 9457 `application/problem+json` response (`type` `about:blank`,
/// `title` the status phrase), with an optional `error` extension member.
pub fn problem(status: StatusCode, detail: &str, error: Option<&str>) -> Response {
    let mut body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    if let Some(error) = error {
        body["error"] = serde_json::Value::from(error);
    }
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// A request whose bearer token is valid and was accepted by
/// [`AuthState::check`] during extraction.
///
/// Holds no guard: use [`Guarded`] for sensitive writes that revocations must
/// wait for.
#[derive(Debug, Clone)]
pub struct Authenticated<C = NoCustomClaims> {
    token: ValidatedToken<C>,
    claimed: Roles,
    authorization: Authorization,
}

impl<C> Authenticated<C> {
    /// The validated token.
    pub fn token(&self) -> &ValidatedToken<C> {
        &self.token
    }

    /// The standard claims.
    pub fn claims(&self) -> &StandardClaims {
        &self.token.claims
    }

    /// The custom claims.
    pub fn custom(&self) -> &C {
        &self.token.custom
    }

    /// The subject (`sub`).
    pub fn subject(&self) -> &str {
        &self.token.claims.sub
    }

    /// The roles the token claims, resolved through the [`RoleMap`].
    pub fn claimed_roles(&self) -> Roles {
        self.claimed
    }

    /// The live state when the token was checked.
    pub fn authorization(&self) -> Authorization {
        self.authorization
    }

    /// The facts handed to the core.
    pub fn facts(&self) -> TokenFacts<'_> {
        self.token.claims.token_facts(self.claimed)
    }
}

impl<S, C> FromRequestParts<S> for Authenticated<C>
where
    Auth: FromRef<S>,
    S: Send + Sync,
    C: DeserializeOwned + Send,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_ref(state);
        match auth.authenticate(parts) {
            Ok(Some(a)) => {
                tracing::debug!(sub = a.subject(), "authenticated");
                Ok(a)
            }
            Ok(None) => Err(auth.reject(AuthFailure::MissingToken)),
            Err(failure) => Err(auth.reject(failure)),
        }
    }
}

impl<S, C> OptionalFromRequestParts<S> for Authenticated<C>
where
    Auth: FromRef<S>,
    S: Send + Sync,
    C: DeserializeOwned + Send,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let auth = Auth::from_ref(state);
        auth.authenticate(parts).map_err(|f| auth.reject(f))
    }
}

/// Names the role(s) a [`Guarded`] extractor requires.
///
/// The default resolves [`NAME`](Self::NAME) through the configured
/// [`RoleMap`]; override [`roles`](Self::roles) to compute the set another
/// way. A name the map does not know is a server misconfiguration (500).
///
/// ```
/// use authstate_axum::extract::RequiredRole;
/// struct Admin;
/// impl RequiredRole for Admin {
///     const NAME: &'static str = "admin";
/// }
/// ```
pub trait RequiredRole: Send + Sync + 'static {
    /// The role's name (also used in logs).
    const NAME: &'static str;

    /// The required roles, or `None` if they cannot be resolved.
    fn roles(map: &RoleMap) -> Option<Roles> {
        map.get(Self::NAME).map(Roles::from)
    }
}

/// A request admitted by [`AuthState::guard`] for the role `R` names: the
/// token is valid, accepted by the core, and the subject holds `R` live.
///
/// The core [`Guard`] lives as long as this value: a revocation of this
/// token, subject, family or role waits (its barrier) until the value is
/// dropped. Do the sensitive work while holding it; call
/// [`recheck`](Self::recheck) in long handlers, and
/// [`release`](Self::release) before awaiting a revocation this request
/// itself triggered (awaiting it while holding the guard could wait for
/// itself).
///
/// # Do not combine the extractor with a body extractor
///
/// axum runs every `FromRequestParts` extractor, this one included, before
/// the body extractor (which must be the last argument). A handler taking
/// `Guarded<C, R>` and, say, `Json<T>` therefore admits the guard as soon as
/// the request head has arrived, and holds it while the body is read. A
/// client with a valid token can send the head and then withhold or trickle
/// the body: the guard stays live for as long as the client likes, and every
/// revocation of that authority (logout, subject revocation, role change)
/// waits for it at its barrier. When a client controls how long the body
/// takes, extract [`Authenticated<C>`] and the body instead, and admit the
/// guard afterwards with [`Auth::guard`]. The extractor is for handlers
/// without a body extractor, where admission happens after the head and the
/// guard lives only for the handler's own work.
pub struct Guarded<C = NoCustomClaims, R = ()> {
    auth: Authenticated<C>,
    guard: Guard,
    state: AuthState,
    required: Roles,
    _role: PhantomData<fn() -> R>,
}

impl<C: fmt::Debug, R> fmt::Debug for Guarded<C, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Guarded")
            .field("auth", &self.auth)
            .field("guard", &self.guard)
            .field("required", &self.required)
            .finish_non_exhaustive()
    }
}

impl<C, R> std::ops::Deref for Guarded<C, R> {
    type Target = Authenticated<C>;
    fn deref(&self) -> &Authenticated<C> {
        &self.auth
    }
}

impl<C, R> Guarded<C, R> {
    /// What the admission decided on: the subject's version and live roles
    /// when the guard was admitted ([`Guard::authorization`]).
    pub fn authorization(&self) -> Authorization {
        self.guard.authorization()
    }

    /// The required roles this request was admitted with.
    pub fn required(&self) -> Roles {
        self.required
    }

    /// Checks the token again against the live state, still holding the
    /// guard: [`AuthState::check`] plus the required roles held live.
    ///
    /// While the guard is held a revocation of this authority cannot
    /// complete, but it is already visible to checks; a long handler can
    /// call this to stop early.
    ///
    /// # Errors
    /// [`Rejection`] from the core, or [`Rejection::InsufficientRole`].
    pub fn recheck(&self) -> Result<Authorization, Rejection> {
        let authorization = self.state.check(&self.auth.facts())?;
        let missing = self.required.difference(authorization.live_roles);
        if missing.is_empty() {
            Ok(authorization)
        } else {
            Err(Rejection::InsufficientRole { missing })
        }
    }

    /// Drops the guard and keeps the authentication.
    pub fn release(self) -> Authenticated<C> {
        drop(self.guard);
        self.auth
    }
}

impl<S, C, R> FromRequestParts<S> for Guarded<C, R>
where
    Auth: FromRef<S>,
    S: Send + Sync,
    C: DeserializeOwned + Send,
    R: RequiredRole,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = Auth::from_ref(state);
        // A misconfiguration is reported before anything about the request.
        if R::roles(auth.roles()).is_none() {
            return Err(auth.reject(AuthFailure::Misconfigured(
                "required role is not in the role map",
            )));
        }
        let Some(token) = auth.token(&parts.headers).map_err(|f| auth.reject(f))? else {
            return Err(auth.reject(AuthFailure::MissingToken));
        };
        let token: ValidatedToken<C> = auth
            .validator()
            .validate_at(token, auth.state().now().as_secs())
            .map_err(|e| auth.reject(AuthFailure::InvalidToken(e)))?;
        let claimed = auth.roles().roles_of(&token.claims);
        auth.admit(token, claimed)
    }
}

/// `()` requires no role: a guard for any valid token (e.g. a logout that
/// must not race with the token's own writes).
impl RequiredRole for () {
    const NAME: &'static str = "";
    fn roles(_: &RoleMap) -> Option<Roles> {
        Some(Roles::EMPTY)
    }
}

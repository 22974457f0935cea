//! Axum adapter for the [`authstate`] core.
//!
//! This crate turns a bearer JWT into facts the core can check at the point
//! of use. It is split in two layers:
//!
//! * [`validation`]: a strict, configuration-pinned JWT validator built on
//!   [`jsonwebtoken`] 12 with the pure-Rust `rust_crypto` backend. It checks
//!   the token's shape, header, signature and claims and yields a
//!   [`ValidatedToken`]. It never consults the core: a token that passes here
//!   is authentic and well formed, not yet *authorized*.
//! * [`roles`]: a [`RoleMap`] translating role / scope names carried by a
//!   token into the core's [`authstate::Roles`] bitset.
//!
//! * [`extract`]: request extractors ([`Authenticated`], [`Guarded`]) that
//!   combine both with an [`authstate::AuthState`] and check at the point of
//!   use, and RFC 6750 / RFC 9457 rejections ([`AuthRejection`]).
//! * [`demo`]: the demo service (`cargo run -p authstate-axum --example demo`).
//!
//! # Example
//!
//! ```
//! use authstate_axum::validation::{Algorithm, NoCustomClaims, Validator, VerificationKey};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let validator = Validator::builder()
//!     .algorithms([Algorithm::HS256])
//!     .key(VerificationKey::hmac(b"an example secret of at least 32 bytes!")?.with_kid("k1"))
//!     .issuer("https://issuer.example")
//!     .audience("my-api")
//!     .build()?;
//!
//! let err = validator.validate::<NoCustomClaims>("not.a.jwt").unwrap_err();
//! assert_eq!(err.category(), "malformed");
//! # Ok(())
//! # }
//! ```

#![forbid(unsafe_code)]

pub mod demo;
pub mod extract;
pub mod roles;
pub mod validation;

pub use extract::{
    Auth, AuthBuilder, AuthFailure, AuthRejection, Authenticated, Guarded, RejectionResponder,
    RequiredRole, TokenSource,
};
pub use roles::{RoleMap, RoleMapError};
pub use validation::{
    ConfigError, KeyError, KeySource, NoCustomClaims, StandardClaims, TokenError, ValidatedToken,
    Validator, ValidatorBuilder, VerificationKey,
};

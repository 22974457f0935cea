//! Race-free JWT revocation and permission state, checked at the point of use.
//!
//! A JWT is validated statelessly. Services that need logout, "log out
//! everywhere", role downgrades or refresh-token rotation keep server-side
//! state, and then lose to time-of-check-to-time-of-use races: a handler
//! checks the token, awaits, and writes with an authority that a concurrent
//! revocation has already withdrawn. [`AuthState`] closes that window:
//!
//! * [`AuthState::check`] decides at the point of use, against live state;
//! * [`AuthState::guard`] admits one sensitive action and returns a
//!   [`Guard`] that revocations wait for;
//! * every revocation returns a [`Revocation`] whose barrier passes once the
//!   guards admitted under the old authority are gone.
//!
//! ```
//! # authstate::sync::doc_example(|| {
//! use authstate::{AuthState, Rejection, Role, Roles, TokenFacts, Version};
//!
//! let state = AuthState::new();
//! let writer = Roles::from(Role::new(1).unwrap());
//! let _ = state.set_role("bob", writer);
//!
//! let now = state.now();
//! let facts = TokenFacts {
//!     subject: "bob",
//!     jti: Some("9f1c"),
//!     issued_at: now,
//!     expires_at: now.saturating_add_secs(300),
//!     version: Some(Version(0)),
//!     family: None,
//!     roles: writer,
//! };
//!
//! let guard = state.guard(&facts, writer).expect("admitted");
//! // ... the sensitive write happens here, across any number of awaits ...
//! drop(guard);
//!
//! // Logout: from now on the token is refused, and once `wait` returns no
//! // action admitted with it is still running.
//! state.revoke_token("9f1c", facts.expires_at).wait();
//! assert_eq!(state.check(&facts), Err(Rejection::Revoked));
//! # });
//! ```
//!
//! The invariants (I1 to I8) are listed in `INVARIANTS.md`; each appears in the
//! code that upholds it and in the loom and shuttle models that check it.
//!
//! All shared-memory concurrency goes through one facade, [`sync`], switched
//! to loom or shuttle by the features of the same names.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod barrier;
mod clock;
mod denylist;
mod digest;
mod error;
mod facts;
mod faults;
mod state;
pub mod sync;
pub mod transitions;

pub use barrier::{Completion, Guard, Revocation};
pub use clock::{Clock, ManualClock, SystemClock, UnixTime};
pub use denylist::SWEEP_CHUNK;
pub use digest::SubjectKey;
pub use error::{BarrierTimeout, RedeemError, Rejection, StateError};
pub use facts::{
    Authorization, FamilyId, RefreshFacts, RefreshGrant, Role, Roles, TokenFacts, Version,
};
pub use faults::Fault;
pub use state::{AuthState, AuthStateBuilder, SweepReport};

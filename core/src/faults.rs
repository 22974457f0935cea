//! Fault switches: each reintroduces one classic bug, so that the model
//! checkers can prove they catch it (the negative controls). Compiled only
//! with the `faults` feature; in other builds [`Fault`] still exists but no
//! state can be built with one switched on.

/// One classic bug, named after what it does wrong. The invariant it breaks
/// is in brackets; see `INVARIANTS.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Fault {
    /// \[I1\] Checks read the denylist from a snapshot that is refreshed
    /// only by the next sweep, not by the revocation itself.
    LaggingDenylist,
    /// \[I2\] `guard` validates the claims once and hands out a guard that
    /// no barrier knows about: the validate-then-await-then-write pattern.
    UnregisteredGuard,
    /// \[I3\] Role decisions use the roles written in the token instead of the
    /// subject's live roles.
    RoleFromToken,
    /// \[I4\] `revoke_subject` reads the version under the read lock and
    /// writes `read + 1` under a later write lock: a lost update.
    VersionLoadThenStore,
    /// \[I5\] Checks read the clock before the denylist lookup, so a sweep in
    /// between can remove the entry of a token that the early clock reading
    /// still considers unexpired.
    ClockBeforeLookup,
    /// \[I6\] Refresh redemption decides under the read lock and marks the
    /// token redeemed under a later write lock: check-then-mark.
    RedeemCheckThenMark,
    /// \[I7\] The barrier compares guards with the table's current counter
    /// instead of the bound captured at the write, so it also waits for
    /// guards admitted after the revocation.
    BarrierWrongGeneration,
    /// \[I8\] Cutoff updates load the cutoff and store the new value without
    /// an atomic read-modify-write, so a concurrent update can lower it.
    CutoffReadModifyWrite,
}

impl Fault {
    /// Every fault switch.
    pub const ALL: [Fault; 8] = [
        Fault::LaggingDenylist,
        Fault::UnregisteredGuard,
        Fault::RoleFromToken,
        Fault::VersionLoadThenStore,
        Fault::ClockBeforeLookup,
        Fault::RedeemCheckThenMark,
        Fault::BarrierWrongGeneration,
        Fault::CutoffReadModifyWrite,
    ];

    /// The invariant the fault breaks.
    pub fn invariant(self) -> &'static str {
        match self {
            Fault::LaggingDenylist => "I1",
            Fault::UnregisteredGuard => "I2",
            Fault::RoleFromToken => "I3",
            Fault::VersionLoadThenStore => "I4",
            Fault::ClockBeforeLookup => "I5",
            Fault::RedeemCheckThenMark => "I6",
            Fault::BarrierWrongGeneration => "I7",
            Fault::CutoffReadModifyWrite => "I8",
        }
    }

    /// A one-line description of the bug.
    pub fn describe(self) -> &'static str {
        match self {
            Fault::LaggingDenylist => "denylist read from a lagging snapshot",
            Fault::UnregisteredGuard => {
                "claims validated once and reused after an await without a registered guard"
            }
            Fault::RoleFromToken => "role taken from the token instead of live state",
            Fault::VersionLoadThenStore => "version bump as load-then-store",
            Fault::ClockBeforeLookup => "clock read before the denylist lookup, racing the sweep",
            Fault::RedeemCheckThenMark => "check-then-mark refresh redemption",
            Fault::BarrierWrongGeneration => {
                "barrier waits for the current generation instead of the captured one"
            }
            Fault::CutoffReadModifyWrite => "cutoff update as non-atomic read-modify-write",
        }
    }

    #[cfg(feature = "faults")]
    pub(crate) fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

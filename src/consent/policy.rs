//! Consent state and enforcement decisions.
//!
//! [`ConsentState`] is what a verified ledger says; [`check`] is the pure function the SDK
//! calls at each enforcement point (camera, microphone, recording, screen share, each
//! reading shared). Everything not explicitly granted is denied.

use serde::{Deserialize, Serialize};

use super::encoding::MAX_STR;
use super::error::LedgerError;
use super::model::{Collection, DataCategory, Event, Grant, Notice, Purpose, Recipient};

/// Latest instant the ledger accepts: 9999-12-31T23:59:59.999Z, so that every time has a
/// four-digit-year ISO 8601 form (FHIR `dateTime`).
pub const MAX_TIME: u64 = 253_402_300_799_999;

/// Where a grant stands, as far as recorded events go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "kebab-case")]
pub enum GrantStatus {
    /// Not withdrawn and no expiry recorded (the period may still have ended; see
    /// [`check`]).
    Active,
    /// Withdrawn by the patient.
    Withdrawn {
        /// When.
        at: u64,
    },
    /// Expiry recorded.
    Expired {
        /// When.
        at: u64,
    },
}

/// A grant and its history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GrantRecord {
    /// Sequence number of the grant's entry: the grant's id within its ledger.
    pub seq: u64,
    /// When it was recorded.
    pub granted_at: u64,
    /// The grant.
    pub grant: Grant,
    /// Its status.
    pub status: GrantStatus,
}

/// What a ledger says, replayed from its events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentState {
    /// Every grant, in ledger order.
    pub grants: Vec<GrantRecord>,
    /// The latest published version of each notice URI (from `NoticeUpdated` events).
    pub notices: Vec<Notice>,
    /// Time of the newest entry (0 for an empty ledger): a lower bound on the true time.
    pub head_time: u64,
}

fn short(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_STR
}

fn notice_ok(n: &Notice) -> bool {
    short(&n.uri) && short(&n.version) && n.language.len() <= MAX_STR
}

fn grant_ok(g: &Grant) -> bool {
    short(&g.patient.0)
        && short(&g.recipient.id.0)
        && !g.purposes.is_empty()
        && !g.categories.is_empty()
        && notice_ok(&g.notice)
        && g.period.start <= MAX_TIME
        && g.period
            .end
            .is_none_or(|end| end > g.period.start && end <= MAX_TIME)
        && match &g.collection {
            Collection::PatientAction => true,
            Collection::VerbalAttested { clinician } => short(&clinician.0),
        }
}

impl ConsentState {
    /// The grant recorded at sequence number `seq`.
    pub fn grant(&self, seq: u64) -> Option<&GrantRecord> {
        self.grants.iter().find(|r| r.seq == seq)
    }

    /// Whether a later version of `notice` has been published.
    pub fn superseded(&self, notice: &Notice) -> bool {
        self.notices
            .iter()
            .any(|n| n.uri == notice.uri && n.version != notice.version)
    }

    /// Whether `n` claims a URI and version already recorded with a different text hash.
    fn notice_conflicts(&self, n: &Notice) -> bool {
        let known = self
            .notices
            .iter()
            .chain(self.grants.iter().map(|r| &r.grant.notice));
        known
            .into_iter()
            .any(|k| k.uri == n.uri && k.version == n.version && k.sha256 != n.sha256)
    }

    /// Applies one authenticated event. All checks come before any change, so a rejected
    /// event leaves the state untouched.
    pub(crate) fn apply(&mut self, seq: u64, time: u64, event: &Event) -> Result<(), LedgerError> {
        if time > MAX_TIME {
            return Err(LedgerError::InvalidEvent { seq });
        }
        match event {
            Event::Grant(g) => {
                if !grant_ok(g) {
                    return Err(LedgerError::InvalidEvent { seq });
                }
                if g.period.end.is_some_and(|end| end <= time) {
                    return Err(LedgerError::GrantExpired { seq });
                }
                if self.notice_conflicts(&g.notice) {
                    return Err(LedgerError::NoticeHashMismatch);
                }
                self.grants.push(GrantRecord {
                    seq,
                    granted_at: time,
                    grant: g.clone(),
                    status: GrantStatus::Active,
                });
            }
            Event::Withdraw { grant } | Event::Expire { grant } => {
                let grant = *grant;
                let rec = self
                    .grants
                    .iter_mut()
                    .find(|r| r.seq == grant)
                    .ok_or(LedgerError::UnknownGrant { grant })?;
                if rec.status != GrantStatus::Active {
                    return Err(LedgerError::GrantNotActive { grant });
                }
                rec.status = if matches!(event, Event::Withdraw { .. }) {
                    GrantStatus::Withdrawn { at: time }
                } else if rec.grant.period.end.is_some_and(|end| time >= end) {
                    GrantStatus::Expired { at: time }
                } else {
                    return Err(LedgerError::PrematureExpiry { grant });
                };
            }
            Event::NoticeUpdated(n) => {
                if !notice_ok(n) {
                    return Err(LedgerError::InvalidEvent { seq });
                }
                if self.notice_conflicts(n) {
                    return Err(LedgerError::NoticeHashMismatch);
                }
                self.notices.retain(|k| k.uri != n.uri);
                self.notices.push(n.clone());
            }
            Event::SasConfirmed { .. } | Event::ParticipantAdmitted { .. } => {}
        }
        self.head_time = time;
        Ok(())
    }
}

/// A question at an enforcement point: may `category` go to `recipient` for `purpose` now,
/// while the app shows notice version `notice_version`?
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Request {
    /// The data about to be captured or shared.
    pub category: DataCategory,
    /// Who would receive it.
    pub recipient: Recipient,
    /// What for.
    pub purpose: Purpose,
    /// The current time, milliseconds since the Unix epoch.
    pub now: u64,
    /// The notice version the app currently presents.
    pub notice_version: String,
}

/// Why a decision came out as it did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Reason {
    /// An active grant covers the request.
    Granted,
    /// No grant covers this data category.
    NoGrant,
    /// Grants cover the category, but for another recipient.
    OtherRecipient,
    /// The recipient's grants do not cover this purpose.
    PurposeNotCovered,
    /// The covering grant was withdrawn.
    Withdrawn,
    /// The covering grant's period ended (or its expiry was recorded).
    Expired,
    /// The covering grant's period has not started.
    NotYetValid,
    /// The covering grant was given under another notice version: consent must be asked
    /// again.
    NoticeChanged,
    /// `now` is earlier than the newest ledger entry: the clock went backwards, and an
    /// expired grant could look valid again, so nothing is allowed until it recovers.
    ClockBehindLedger,
}

impl Reason {
    /// Every reason, in declaration order.
    pub const ALL: [Self; 9] = [
        Self::Granted,
        Self::NoGrant,
        Self::OtherRecipient,
        Self::PurposeNotCovered,
        Self::Withdrawn,
        Self::Expired,
        Self::NotYetValid,
        Self::NoticeChanged,
        Self::ClockBehindLedger,
    ];

    /// The reason named `name` (as [`Reason::name`] writes it), if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    /// The variant's name, as JavaScript sees it (`"NoGrant"`): written out rather than
    /// formatted with `Debug`, which would pull the formatting machinery into the wasm.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Granted => "Granted",
            Self::NoGrant => "NoGrant",
            Self::OtherRecipient => "OtherRecipient",
            Self::PurposeNotCovered => "PurposeNotCovered",
            Self::Withdrawn => "Withdrawn",
            Self::Expired => "Expired",
            Self::NotYetValid => "NotYetValid",
            Self::NoticeChanged => "NoticeChanged",
            Self::ClockBehindLedger => "ClockBehindLedger",
        }
    }
}

/// The answer at an enforcement point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Decision {
    /// Whether the data may flow. Default deny: only [`Reason::Granted`] allows.
    pub allowed: bool,
    /// Why.
    pub reason: Reason,
    /// The grant that allowed it, or the one that came closest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grant: Option<u64>,
}

impl Decision {
    fn deny(reason: Reason, grant: Option<u64>) -> Self {
        Self {
            allowed: false,
            reason,
            grant,
        }
    }
}

/// How far one grant gets towards allowing `req`; the failing stage's rank orders the
/// reasons, so a denial names the most specific obstacle.
fn evaluate(state: &ConsentState, r: &GrantRecord, req: &Request) -> Result<(), (u8, Reason)> {
    let g = &r.grant;
    if g.recipient != req.recipient {
        return Err((1, Reason::OtherRecipient));
    }
    if !g.purposes.contains(&req.purpose) {
        return Err((2, Reason::PurposeNotCovered));
    }
    match r.status {
        GrantStatus::Withdrawn { .. } => return Err((3, Reason::Withdrawn)),
        GrantStatus::Expired { .. } => return Err((3, Reason::Expired)),
        GrantStatus::Active => {}
    }
    if g.period.end.is_some_and(|end| req.now >= end) {
        return Err((4, Reason::Expired));
    }
    if req.now < g.period.start {
        return Err((4, Reason::NotYetValid));
    }
    if g.notice.version != req.notice_version || state.superseded(&g.notice) {
        return Err((5, Reason::NoticeChanged));
    }
    Ok(())
}

/// Decides one request against one ledger's state. Default deny.
pub fn check(state: &ConsentState, req: &Request) -> Decision {
    if req.now < state.head_time {
        return Decision::deny(Reason::ClockBehindLedger, None);
    }
    let mut best: Option<(u8, Reason, u64)> = None;
    for r in state
        .grants
        .iter()
        .filter(|r| r.grant.categories.contains(&req.category))
    {
        match evaluate(state, r, req) {
            Ok(()) => {
                return Decision {
                    allowed: true,
                    reason: Reason::Granted,
                    grant: Some(r.seq),
                };
            }
            // `>=`: among equally close grants, the newest explains best.
            Err((rank, reason)) if best.is_none_or(|(b, ..)| rank >= b) => {
                best = Some((rank, reason, r.seq));
            }
            Err(_) => {}
        }
    }
    match best {
        Some((_, reason, seq)) => Decision::deny(reason, Some(seq)),
        None => Decision::deny(Reason::NoGrant, None),
    }
}

/// Decides a request that needs every participant's consent, such as recording: allowed
/// only if each participant's own ledger allows it. The first denial is returned; an
/// empty list is denied ([`Reason::NoGrant`]).
pub fn check_every(participants: &[&ConsentState], req: &Request) -> Decision {
    if participants.is_empty() {
        return Decision::deny(Reason::NoGrant, None);
    }
    for state in participants {
        let d = check(state, req);
        if !d.allowed {
            return d;
        }
    }
    Decision {
        allowed: true,
        reason: Reason::Granted,
        grant: None,
    }
}

//! The steps of a call and the small records kept along them: crisis actions, notices,
//! referrals and consent.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

/// The steps of a call, in order (DESIGN section 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Intake,
    Safety,
    Screening,
    Assessment,
    Placement,
    Referral,
    Notices,
    Summary,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Intake,
        Step::Safety,
        Step::Screening,
        Step::Assessment,
        Step::Placement,
        Step::Referral,
        Step::Notices,
        Step::Summary,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Step::Intake => "intake",
            Step::Safety => "safety",
            Step::Screening => "screening",
            Step::Assessment => "assessment",
            Step::Placement => "placement",
            Step::Referral => "referral",
            Step::Notices => "notices",
            Step::Summary => "summary",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::Intake => "Intake",
            Step::Safety => "Safety",
            Step::Screening => "Screening",
            Step::Assessment => "Assessment",
            Step::Placement => "Placement",
            Step::Referral => "Referral",
            Step::Notices => "Notices",
            Step::Summary => "Summary",
        }
    }

    pub fn parse(s: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|st| st.id() == s)
    }

    pub fn next(self) -> Step {
        let i = Step::ALL.iter().position(|s| *s == self).expect("listed");
        Step::ALL[(i + 1).min(Step::ALL.len() - 1)]
    }

    pub fn prev(self) -> Step {
        let i = Step::ALL.iter().position(|s| *s == self).expect("listed");
        Step::ALL[i.saturating_sub(1)]
    }

    /// Steps whose questions come from instrument definitions.
    pub fn is_questions(self) -> bool {
        matches!(self, Step::Safety | Step::Screening | Step::Assessment)
    }
}

/// Actions a screener can record in the crisis protocol, with the time each was done.
pub const CRISIS_ACTIONS: &[(&str, &str)] = &[
    ("called_911", "Called 911 (police, fire, ambulance)"),
    (
        "connected_988",
        "Connected caller to 988 Suicide & Crisis Lifeline",
    ),
    (
        "mobile_response",
        "Requested psychiatric mobile response team",
    ),
    (
        "stayed_on_line",
        "Kept the caller on the line until help arrived",
    ),
    ("safety_plan", "Made a safety plan with the caller"),
    (
        "means_reduced",
        "Caller agreed to reduce access to lethal means",
    ),
];

/// Notices given during the call (DESIGN section 2, step 6).
pub const NOTICES: &[(&str, &str)] = &[
    ("handbook", "Beneficiary handbook offered"),
    ("provider_directory", "Provider directory offered"),
    ("grievance_rights", "Grievance and appeal rights explained"),
    (
        "language_assistance",
        "Free language assistance and interpreters offered",
    ),
    (
        "noabd",
        "Notice of adverse benefit determination (service denied)",
    ),
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CrisisRecord {
    pub opened: bool,
    pub opened_at: Option<DateTime<Utc>>,
    /// Action id → when it was done.
    pub actions: BTreeMap<String, DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    pub service_id: String,
    /// Warm hand-off (true) or an appointment given (false).
    pub warm_handoff: bool,
}

/// Consent to share substance-use information (42 CFR Part 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consent {
    #[default]
    NotAsked,
    Given,
    Declined,
}

impl Consent {
    pub fn as_str(self) -> &'static str {
        match self {
            Consent::NotAsked => "not_asked",
            Consent::Given => "given",
            Consent::Declined => "declined",
        }
    }

    pub(super) fn parse(s: &str) -> Consent {
        match s {
            "given" => Consent::Given,
            "declined" => Consent::Declined,
            _ => Consent::NotAsked,
        }
    }

    pub fn next(self) -> Consent {
        match self {
            Consent::NotAsked => Consent::Given,
            Consent::Given => Consent::Declined,
            Consent::Declined => Consent::NotAsked,
        }
    }
}

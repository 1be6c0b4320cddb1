//! Who calls, and why: synthetic intake facts and the words screeners and supervisors write.
//! Names and numbers are fictional (555-01xx numbers are reserved for fiction).

use chrono::{Datelike, NaiveDate};
use rand::Rng;
use rand::seq::IndexedRandom;

use super::plan::Profile;
use crate::domain::Definitions;
use crate::domain::outcome::Intake;

/// County threshold languages (codes), used when the directory lists none.
const FALLBACK_LANGUAGES: &[&str] = &[
    "en", "es", "hy", "zh", "ko", "tl", "vi", "fa", "ru", "km", "ar",
];
/// Los Angeles County ZIP codes, used when the service-area table lists none.
const FALLBACK_ZIPS: &[&str] = &[
    "90001", "90011", "90012", "90017", "90026", "90033", "90044", "90057", "90201", "90221",
    "90250", "90280", "90301", "90402", "90503", "90650", "90706", "90805", "91001", "91101",
    "91205", "91331", "91342", "91402", "91505", "91706", "91744", "91766", "93534", "93550",
];
const FIRST: &[&str] = &[
    "Maria", "Jose", "Ana", "Luis", "Jennifer", "Michael", "Grace", "Daniel", "Armen", "Lilit",
    "Min-jun", "Seo-yeon", "Wei", "Mei", "Thanh", "Linh", "Ramon", "Angela", "Darnell", "Keisha",
    "Tigran", "Nare", "Reza", "Shirin", "Sokha", "Dara", "Olga", "Dmitri", "Amal", "Omar", "Emily",
    "James", "Sofia", "Mateo", "Aaliyah", "Marcus", "Hannah", "Kevin", "Rosa", "Tyrone",
];
const LAST: &[&str] = &[
    "Garcia",
    "Hernandez",
    "Lopez",
    "Martinez",
    "Gonzalez",
    "Rodriguez",
    "Smith",
    "Johnson",
    "Kim",
    "Lee",
    "Park",
    "Nguyen",
    "Tran",
    "Chen",
    "Wang",
    "Petrosyan",
    "Sargsyan",
    "Hakobyan",
    "Santos",
    "Reyes",
    "Cruz",
    "Washington",
    "Jackson",
    "Williams",
    "Hosseini",
    "Karimi",
    "Chea",
    "Sok",
    "Ivanova",
    "Popov",
    "Haddad",
    "Khalil",
    "Brown",
    "Davis",
    "Flores",
    "Morales",
];
const MH: &[&str] = &[
    "feeling hopeless and not sleeping",
    "panic attacks at work",
    "hearing voices again",
    "crying every day since the divorce",
    "cannot get out of bed",
    "anxiety about everything",
    "stopped taking psychiatric medication",
    "paranoid about neighbors",
    "mood swings and anger",
    "trauma nightmares after a car accident",
    "grief after losing a parent",
    "isolating at home",
];
const SUD: &[&str] = &[
    "drinking every day",
    "using fentanyl daily",
    "methamphetamine use increasing",
    "wants detox",
    "relapsed after 2 years sober",
    "alcohol withdrawal shakes in the morning",
    "asking about methadone or buprenorphine",
    "cannabis use affecting school",
];
const RISK: &[&str] = &[
    "thoughts of suicide",
    "said they want to die",
    "wrote a goodbye note",
    "self-harm with cutting",
    "took extra pills last week",
];
const CONTEXT: &[&str] = &[
    "after job loss",
    "since eviction",
    "living in a car",
    "after release from jail",
    "since the baby was born",
    "after a breakup",
    "while caring for a sick parent",
    "since moving from another county",
    "after a hospital discharge",
    "staying in a shelter",
];
const ASKS: &[&str] = &[
    "requesting outpatient therapy",
    "asking for a psychiatrist",
    "needs a referral",
    "family asking how to help",
    "provider requesting linkage",
    "wants information on services",
];
const RETURN_NOTES: &[&str] = &[
    "Document the callback number or why it was declined.",
    "ASAM dimension 1 rating is not supported by the narrative; please clarify withdrawal history.",
    "Override reason is too brief; explain why the computed cell was not used.",
    "Interpreter use is not recorded for a non-English caller.",
    "Consent to share substance-use information is missing.",
    "Referral has no appointment or warm hand-off recorded.",
];
const ADDENDUM_NOTES: &[&str] = &[
    "Added callback number after supervisor review.",
    "Clarified withdrawal history; ASAM ratings unchanged.",
    "Expanded override reason per supervisor.",
    "Recorded interpreter use (phone vendor).",
    "Recorded consent to share substance-use information.",
    "Added appointment date for the referral.",
];

pub(super) fn return_note<R: Rng>(rng: &mut R) -> (&'static str, &'static str) {
    let n = rng.random_range(0..RETURN_NOTES.len());
    (RETURN_NOTES[n], ADDENDUM_NOTES[n])
}

fn pick<'a, R: Rng>(rng: &mut R, weighted: &[(&'a str, u32)]) -> &'a str {
    let total: u32 = weighted.iter().map(|(_, w)| w).sum();
    let mut x = rng.random_range(0..total);
    for (v, w) in weighted {
        if x < *w {
            return v;
        }
        x -= w;
    }
    weighted[0].0
}

/// Share of calls in each language (per cent), after the county's threshold-language mix:
/// English about 60, Spanish about 28, the others a per cent or two each. Codes the directory
/// lists that are not here get 0.3.
const LANGUAGE_MIX: &[(&str, f64)] = &[
    ("en", 60.0),
    ("es", 28.0),
    ("hy", 2.0),
    ("cmn", 1.5),
    ("zh", 1.5),
    ("yue", 1.3),
    ("ko", 1.5),
    ("vi", 1.3),
    ("tl", 1.1),
    ("fa", 1.0),
    ("ru", 0.8),
    ("km", 0.5),
    ("ar", 0.4),
    ("ja", 0.3),
    ("ase", 0.1),
];

/// Languages and ZIP codes to draw from, taken from the definitions when they list any.
pub(super) struct Vocab {
    /// `(code, cumulative weight)`.
    languages: Vec<(String, f64)>,
    zips: Vec<String>,
}

impl Vocab {
    pub fn new(defs: &Definitions) -> Vocab {
        let mut codes: Vec<String> = defs
            .directory
            .languages
            .iter()
            .map(|l| l.code.clone())
            .collect();
        if codes.is_empty() {
            codes = FALLBACK_LANGUAGES.iter().map(|s| s.to_string()).collect();
        }
        let mut total = 0.0;
        let languages = codes
            .into_iter()
            .map(|code| {
                total += LANGUAGE_MIX
                    .iter()
                    .find(|(c, _)| *c == code)
                    .map_or(0.3, |(_, w)| *w);
                (code, total)
            })
            .collect();
        let mut zips: Vec<String> = defs
            .service_areas
            .areas
            .iter()
            .flat_map(|a| a.zips.iter().cloned())
            .collect();
        if zips.is_empty() {
            zips = FALLBACK_ZIPS.iter().map(|s| s.to_string()).collect();
        }
        Vocab { languages, zips }
    }

    fn language<R: Rng>(&self, rng: &mut R) -> String {
        let total = self.languages.last().map_or(0.0, |l| l.1);
        let x = rng.random_range(0.0..total);
        self.languages
            .iter()
            .find(|(_, upto)| x < *upto)
            .unwrap_or(&self.languages[0])
            .0
            .clone()
    }
}

pub(super) fn intake<R: Rng>(rng: &mut R, vocab: &Vocab, p: &Profile, on: NaiveDate) -> Intake {
    // About 15 % of calls are about someone under 21 (the youth screening tool).
    let age: u32 = match rng.random_range(0..1000) {
        0..20 => rng.random_range(6..12),
        20..95 => rng.random_range(12..18),
        95..150 => rng.random_range(18..21),
        150..300 => rng.random_range(21..26),
        300..900 => rng.random_range(26..65),
        _ => rng.random_range(65..91),
    };
    let caller_type = if age < 12 || (age < 18 && rng.random_bool(0.6)) {
        "family"
    } else {
        pick(
            rng,
            &[
                ("self", 62),
                ("family", 20),
                ("provider", 9),
                ("law_enforcement", 5),
                ("other", 4),
            ],
        )
    };
    let anonymous = rng.random_bool(0.12);
    let language = vocab.language(rng);
    // Some callers give a date of birth; it must agree with the stated age on the call date.
    let date_of_birth = rng
        .random_bool(0.4)
        .then(|| NaiveDate::from_yo_opt(on.year() - age as i32 - 1, rng.random_range(1..=365)))
        .flatten()
        .filter(|dob| {
            Intake {
                date_of_birth: Some(*dob),
                ..Default::default()
            }
            .age_on(on)
                == Some(age)
        });
    Intake {
        caller_type: Some(caller_type.into()),
        anonymous,
        caller_name: (!anonymous).then(|| {
            format!(
                "{} {}",
                FIRST.choose(rng).unwrap(),
                LAST.choose(rng).unwrap()
            )
        }),
        callback_number: (!anonymous || rng.random_bool(0.3)).then(|| {
            format!(
                "({}) 555-01{:02}",
                ["213", "323", "310", "626", "818", "562", "661"]
                    .choose(rng)
                    .unwrap(),
                rng.random_range(0..100)
            )
        }),
        age: Some(age),
        date_of_birth,
        sex: Some(
            pick(
                rng,
                &[
                    ("female", 52),
                    ("male", 44),
                    ("other", 2),
                    ("unspecified", 2),
                ],
            )
            .into(),
        ),
        interpreter: language != "en" && rng.random_bool(0.8),
        language: Some(language),
        medi_cal: Some(
            pick(
                rng,
                &[
                    ("enrolled", 55),
                    ("pending", 10),
                    ("not_enrolled", 20),
                    ("unknown", 15),
                ],
            )
            .into(),
        ),
        zip: Some(vocab.zips.choose(rng).unwrap().clone()),
        service_area: None,
        reason: Some(reason(rng, p)),
    }
}

/// A reason for call in a screener's words, led by the strongest concern (the profile's levels
/// are standard-normal scores: 1.5 is the top 7 % of callers).
fn reason<R: Rng>(rng: &mut R, p: &Profile) -> String {
    let mut parts: Vec<&str> = Vec::new();
    if p.risk >= 1.5 {
        parts.push(RISK.choose(rng).unwrap());
    }
    if p.mh >= -0.3 || rng.random_bool(0.3) {
        parts.push(MH.choose(rng).unwrap());
    }
    if p.sud >= 0.7 {
        parts.push(SUD.choose(rng).unwrap());
    }
    if parts.is_empty() {
        parts.push(ASKS.choose(rng).unwrap());
    }
    let mut text = parts.join("; ");
    if rng.random_bool(0.5) {
        text.push(' ');
        text.push_str(CONTEXT.choose(rng).unwrap());
    }
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => text,
    }
}

//! The intake form of a call: its fields in screen order, what each holds, how an age or a
//! date of birth is read, and the choices a choice field offers.

use super::*;
use crate::domain::outcome::{CALLER_TYPES, MEDI_CAL, SEXES};

/// The intake form's fields, in screen order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntakeField {
    CallerType,
    Anonymous,
    Name,
    Callback,
    Age,
    Sex,
    Language,
    Interpreter,
    MediCal,
    Zip,
    Reason,
}

pub enum FieldKind {
    Choice,
    Toggle,
    Text,
}

impl IntakeField {
    pub const ALL: [IntakeField; 11] = [
        IntakeField::CallerType,
        IntakeField::Anonymous,
        IntakeField::Name,
        IntakeField::Callback,
        IntakeField::Age,
        IntakeField::Sex,
        IntakeField::Language,
        IntakeField::Interpreter,
        IntakeField::MediCal,
        IntakeField::Zip,
        IntakeField::Reason,
    ];

    pub fn key(self) -> &'static str {
        match self {
            IntakeField::CallerType => "intake.caller_type",
            IntakeField::Anonymous => "intake.anonymous",
            IntakeField::Name => "intake.caller_name",
            IntakeField::Callback => "intake.callback_number",
            IntakeField::Age => "intake.age",
            IntakeField::Sex => "intake.sex",
            IntakeField::Language => "intake.language",
            IntakeField::Interpreter => "intake.interpreter",
            IntakeField::MediCal => "intake.medi_cal",
            IntakeField::Zip => "intake.zip",
            IntakeField::Reason => "intake.reason",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            IntakeField::CallerType => "Caller",
            IntakeField::Anonymous => "Anonymous",
            IntakeField::Name => "Name",
            IntakeField::Callback => "Callback number",
            IntakeField::Age => "Age or date of birth",
            IntakeField::Sex => "Sex",
            IntakeField::Language => "Language",
            IntakeField::Interpreter => "Interpreter used",
            IntakeField::MediCal => "Medi-Cal",
            IntakeField::Zip => "ZIP code",
            IntakeField::Reason => "Reason for call",
        }
    }

    pub fn kind(self) -> FieldKind {
        match self {
            IntakeField::CallerType
            | IntakeField::Sex
            | IntakeField::Language
            | IntakeField::MediCal => FieldKind::Choice,
            IntakeField::Anonymous | IntakeField::Interpreter => FieldKind::Toggle,
            _ => FieldKind::Text,
        }
    }

    pub fn parse(key: &str) -> Option<IntakeField> {
        IntakeField::ALL.into_iter().find(|f| f.key() == key)
    }
}

/// Intake as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IntakeForm {
    pub caller_type: Option<String>,
    pub anonymous: bool,
    pub name: TextField,
    pub callback: TextField,
    pub age: TextField,
    pub sex: Option<String>,
    pub language: Option<String>,
    pub interpreter: bool,
    pub medi_cal: Option<String>,
    pub zip: TextField,
    pub reason: TextField,
}

impl IntakeForm {
    pub(super) fn new() -> IntakeForm {
        IntakeForm {
            name: TextField::new(80),
            callback: TextField::new(24),
            age: TextField::new(10),
            zip: TextField::new(5),
            reason: TextField::new(1000),
            ..IntakeForm::default()
        }
    }

    pub fn text(&self, f: IntakeField) -> Option<&TextField> {
        match f {
            IntakeField::Name => Some(&self.name),
            IntakeField::Callback => Some(&self.callback),
            IntakeField::Age => Some(&self.age),
            IntakeField::Zip => Some(&self.zip),
            IntakeField::Reason => Some(&self.reason),
            _ => None,
        }
    }

    pub fn text_mut(&mut self, f: IntakeField) -> Option<&mut TextField> {
        match f {
            IntakeField::Name => Some(&mut self.name),
            IntakeField::Callback => Some(&mut self.callback),
            IntakeField::Age => Some(&mut self.age),
            IntakeField::Zip => Some(&mut self.zip),
            IntakeField::Reason => Some(&mut self.reason),
            _ => None,
        }
    }

    pub fn choice(&self, f: IntakeField) -> Option<&str> {
        match f {
            IntakeField::CallerType => self.caller_type.as_deref(),
            IntakeField::Sex => self.sex.as_deref(),
            IntakeField::Language => self.language.as_deref(),
            IntakeField::MediCal => self.medi_cal.as_deref(),
            _ => None,
        }
    }

    fn choice_mut(&mut self, f: IntakeField) -> Option<&mut Option<String>> {
        match f {
            IntakeField::CallerType => Some(&mut self.caller_type),
            IntakeField::Sex => Some(&mut self.sex),
            IntakeField::Language => Some(&mut self.language),
            IntakeField::MediCal => Some(&mut self.medi_cal),
            _ => None,
        }
    }

    pub fn toggle(&self, f: IntakeField) -> Option<bool> {
        match f {
            IntakeField::Anonymous => Some(self.anonymous),
            IntakeField::Interpreter => Some(self.interpreter),
            _ => None,
        }
    }

    fn toggle_mut(&mut self, f: IntakeField) -> Option<&mut bool> {
        match f {
            IntakeField::Anonymous => Some(&mut self.anonymous),
            IntakeField::Interpreter => Some(&mut self.interpreter),
            _ => None,
        }
    }

    /// The saved form of a field.
    pub fn value(&self, f: IntakeField) -> Value {
        match f.kind() {
            FieldKind::Text => json!(self.text(f).map_or("", |t| t.value())),
            FieldKind::Toggle => json!(self.toggle(f).unwrap_or(false)),
            FieldKind::Choice => self.choice(f).map_or(Value::Null, |c| json!(c)),
        }
    }

    pub(super) fn restore(&mut self, f: IntakeField, v: &Value) {
        match f.kind() {
            FieldKind::Text => {
                if let (Some(t), Some(s)) = (self.text_mut(f), v.as_str()) {
                    t.set(s);
                }
            }
            FieldKind::Toggle => {
                if let (Some(t), Some(b)) = (self.toggle_mut(f), v.as_bool()) {
                    *t = b;
                }
            }
            FieldKind::Choice => {
                if let Some(c) = self.choice_mut(f) {
                    *c = v.as_str().map(str::to_owned);
                }
            }
        }
    }
}

/// What the age field holds, read leniently: `34`, `1990-05-01` or `05/01/1990`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgeInput {
    Empty,
    Age(u32),
    Born(NaiveDate),
    Invalid(String),
}

pub fn parse_age(text: &str, today: NaiveDate) -> AgeInput {
    let t = text.trim();
    if t.is_empty() {
        return AgeInput::Empty;
    }
    if let Ok(n) = t.parse::<u32>() {
        return if n <= 120 {
            AgeInput::Age(n)
        } else {
            AgeInput::Invalid(format!("{n} is not a plausible age (0–120)"))
        };
    }
    let date = NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(t, "%m/%d/%Y"));
    match date {
        Ok(d) if d > today => AgeInput::Invalid("date of birth is in the future".into()),
        Ok(d) if today.years_since(d).is_some_and(|y| y > 120) => {
            AgeInput::Invalid("date of birth is more than 120 years ago".into())
        }
        Ok(d) => AgeInput::Born(d),
        Err(_) => AgeInput::Invalid("type an age (34) or a date of birth (1990-05-01)".into()),
    }
}

/// The choices a choice field offers, in order.
pub fn choices(defs: &Definitions, f: IntakeField) -> Vec<(String, String)> {
    let plain = |list: &[&str]| {
        list.iter()
            .map(|s| ((*s).to_owned(), s.replace('_', " ")))
            .collect()
    };
    match f {
        IntakeField::CallerType => plain(CALLER_TYPES),
        IntakeField::Sex => plain(SEXES),
        IntakeField::MediCal => plain(MEDI_CAL),
        IntakeField::Language => defs
            .directory
            .languages
            .iter()
            .map(|l| (l.code.clone(), l.name.clone()))
            .collect(),
        _ => Vec::new(),
    }
}

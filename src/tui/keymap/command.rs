//! The commands a key can be bound to: their names (as in the keymap file) and what each does.

use super::*;

/// What a user can bind a key to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Command {
    Crisis,
    Help,
    Quit,
    NextStep,
    PrevStep,
    NextField,
    PrevField,
    Up,
    Down,
    Left,
    Right,
    Confirm,
    Cancel,
    Toggle,
    NewCall,
    Refresh,
    Yes,
    No,
    /// Answer with the option at this position (0–9).
    Pick(u8),
    /// Jump to step 1–8 of the call.
    GoStep(u8),
    Override,
    ClearOverride,
    FilterLanguage,
    FilterArea,
    Handoff,
    Finalize,
    Review,
    Search,
    FilterScreener,
    FilterAwaiting,
    CycleRisk,
    CycleTriage,
    CycleCell,
    CycleLanguage,
    CycleStatus,
    CycleSync,
    CycleDates,
    CycleSort,
    ClearFilters,
    Approve,
    Return,
    Dashboard,
    ExportReports,
    /// Lock the screen now (walking away from the desk).
    Lock,
    // Text editing, used when a text field has focus.
    TextLeft,
    TextRight,
    TextWordLeft,
    TextWordRight,
    TextHome,
    TextEnd,
    TextBackspace,
    TextDelete,
    TextDeleteWord,
    TextClear,
}

impl Command {
    /// The name used in the config file and the help screen's first column.
    pub fn name(self) -> String {
        match self {
            Command::Pick(n) => format!("pick_{n}"),
            Command::GoStep(n) => format!("go_step_{n}"),
            other => {
                let s = format!("{other:?}");
                let mut out = String::new();
                for (i, c) in s.chars().enumerate() {
                    if c.is_uppercase() && i > 0 {
                        out.push('_');
                    }
                    out.push(c.to_ascii_lowercase());
                }
                out
            }
        }
    }

    /// A short description for footers and help.
    pub fn describe(self) -> &'static str {
        match self {
            Command::Crisis => "crisis protocol",
            Command::Help => "help",
            Command::Quit => "quit",
            Command::NextStep => "next step",
            Command::PrevStep => "previous step",
            Command::NextField => "next field",
            Command::PrevField => "previous field",
            Command::Up => "up",
            Command::Down => "down",
            Command::Left => "previous choice",
            Command::Right => "next choice",
            Command::Confirm => "select",
            Command::Cancel => "close",
            Command::Toggle => "toggle",
            Command::NewCall => "new call",
            Command::Refresh => "refresh",
            Command::Yes => "yes",
            Command::No => "no",
            Command::Pick(_) => "answer",
            Command::GoStep(_) => "go to step",
            Command::Override => "override cell",
            Command::ClearOverride => "use computed cell",
            Command::FilterLanguage => "language only",
            Command::FilterArea => "area only",
            Command::Handoff => "hand-off/appt",
            Command::Finalize => "finalize",
            Command::Review => "review",
            Command::Search => "search",
            Command::FilterScreener => "screener",
            Command::FilterAwaiting => "awaiting only",
            Command::CycleRisk => "risk",
            Command::CycleTriage => "triage",
            Command::CycleCell => "cell",
            Command::CycleLanguage => "language",
            Command::CycleStatus => "status",
            Command::CycleSync => "sync",
            Command::CycleDates => "dates",
            Command::CycleSort => "sort",
            Command::ClearFilters => "clear filters",
            Command::Approve => "approve",
            Command::Return => "return with note",
            Command::Dashboard => "dashboard",
            Command::ExportReports => "write reports (CSV)",
            Command::Lock => "lock screen",
            Command::TextLeft => "cursor left",
            Command::TextRight => "cursor right",
            Command::TextWordLeft => "word left",
            Command::TextWordRight => "word right",
            Command::TextHome => "start of field",
            Command::TextEnd => "end of field",
            Command::TextBackspace => "delete back",
            Command::TextDelete => "delete forward",
            Command::TextDeleteWord => "delete word",
            Command::TextClear => "clear field",
        }
    }

    pub(super) fn all() -> Vec<Command> {
        let mut v = vec![
            Command::Crisis,
            Command::Help,
            Command::Quit,
            Command::NextStep,
            Command::PrevStep,
            Command::NextField,
            Command::PrevField,
            Command::Up,
            Command::Down,
            Command::Left,
            Command::Right,
            Command::Confirm,
            Command::Cancel,
            Command::Toggle,
            Command::NewCall,
            Command::Refresh,
            Command::Yes,
            Command::No,
            Command::Override,
            Command::ClearOverride,
            Command::FilterLanguage,
            Command::FilterArea,
            Command::Handoff,
            Command::Finalize,
            Command::Review,
            Command::Search,
            Command::FilterScreener,
            Command::FilterAwaiting,
            Command::CycleRisk,
            Command::CycleTriage,
            Command::CycleCell,
            Command::CycleLanguage,
            Command::CycleStatus,
            Command::CycleSync,
            Command::CycleDates,
            Command::CycleSort,
            Command::ClearFilters,
            Command::Approve,
            Command::Return,
            Command::Dashboard,
            Command::ExportReports,
            Command::Lock,
            Command::TextLeft,
            Command::TextRight,
            Command::TextWordLeft,
            Command::TextWordRight,
            Command::TextHome,
            Command::TextEnd,
            Command::TextBackspace,
            Command::TextDelete,
            Command::TextDeleteWord,
            Command::TextClear,
        ];
        v.extend((0..10).map(Command::Pick));
        v.extend((1..=8).map(Command::GoStep));
        v
    }
}

impl FromStr for Command {
    type Err = KeymapError;
    fn from_str(s: &str) -> Result<Command, KeymapError> {
        Command::all()
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| KeymapError::UnknownCommand(s.to_owned()))
    }
}

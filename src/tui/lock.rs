//! The sign-in and lock screen (DESIGN 6, issue 7): nothing of a call is on screen while it is
//! shown. At start-up it signs a user in (or, on a brand-new device, creates the first
//! administrator); after the idle time, or on the lock key, it hides the session until the same
//! user's PIN resumes it exactly where it was, or another user signs in and starts fresh.

use super::app::{App, Effect};
use super::keymap::Command;
use super::text_field::TextField;

/// Long enough for a passphrase, short enough that a paste cannot fill the screen.
const MAX_SECRET: usize = 128;
const MAX_NAME: usize = 64;

/// A PIN or passphrase: never printed, never in a debug dump or a log line.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// Why the screen is locked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockReason {
    /// Start-up: nobody is signed in yet.
    SignIn,
    /// A brand-new device: create the first administrator.
    FirstRun,
    /// No key for the idle time.
    Idle,
    /// The user locked the screen.
    Manual,
}

/// The fields of the form, in focus order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockField {
    User,
    DisplayName,
    Pin,
    Confirm,
}

impl LockField {
    pub fn label(self) -> &'static str {
        match self {
            LockField::User => "User name",
            LockField::DisplayName => "Full name",
            LockField::Pin => "PIN or passphrase",
            LockField::Confirm => "Repeat it",
        }
    }

    pub fn is_secret(self) -> bool {
        matches!(self, LockField::Pin | LockField::Confirm)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LockView {
    pub reason: LockReason,
    /// Whose session is behind the lock (None at start-up).
    pub locked_user: Option<String>,
    pub user: TextField,
    pub display_name: TextField,
    pub pin: TextField,
    pub confirm: TextField,
    pub focus: usize,
    pub message: Option<String>,
    /// A sign-in is being checked (Argon2 takes a moment): keys wait.
    pub busy: bool,
    /// The crisis lines are shown (read-only: recording actions needs a signed-in user).
    pub crisis: bool,
}

impl LockView {
    pub fn new(reason: LockReason, locked_user: Option<String>) -> LockView {
        let user = TextField::with_value(MAX_NAME, locked_user.as_deref().unwrap_or(""));
        let mut v = LockView {
            reason,
            locked_user,
            user,
            display_name: TextField::new(MAX_NAME),
            pin: TextField::new(MAX_SECRET),
            confirm: TextField::new(MAX_SECRET),
            focus: 0,
            message: None,
            busy: false,
            crisis: false,
        };
        // Coming back to a locked session: the name is there, the PIN is what's asked.
        if v.locked_user.is_some() {
            v.focus = v
                .fields()
                .iter()
                .position(|f| *f == LockField::Pin)
                .unwrap_or(0);
        }
        v
    }

    pub fn fields(&self) -> &'static [LockField] {
        match self.reason {
            LockReason::FirstRun => &[
                LockField::User,
                LockField::DisplayName,
                LockField::Pin,
                LockField::Confirm,
            ],
            _ => &[LockField::User, LockField::Pin],
        }
    }

    pub fn focused(&self) -> LockField {
        self.fields()[self.focus.min(self.fields().len() - 1)]
    }

    pub fn field(&self, f: LockField) -> &TextField {
        match f {
            LockField::User => &self.user,
            LockField::DisplayName => &self.display_name,
            LockField::Pin => &self.pin,
            LockField::Confirm => &self.confirm,
        }
    }

    fn field_mut(&mut self, f: LockField) -> &mut TextField {
        match f {
            LockField::User => &mut self.user,
            LockField::DisplayName => &mut self.display_name,
            LockField::Pin => &mut self.pin,
            LockField::Confirm => &mut self.confirm,
        }
    }

    /// The user name given on the command line: filled in, the PIN is what's asked.
    pub fn prefill_user(&mut self, user: &str) {
        self.user.set(user);
        self.focus = self
            .fields()
            .iter()
            .position(|f| *f == LockField::Pin)
            .unwrap_or(0);
    }

    pub fn insert(&mut self, c: char) {
        if !self.busy {
            let f = self.focused();
            self.field_mut(f).insert(c);
        }
    }

    pub fn paste(&mut self, text: &str) {
        if !self.busy {
            let f = self.focused();
            self.field_mut(f).paste(text);
        }
    }

    /// A failed attempt: say why, clear the secrets, focus the PIN again.
    pub fn failed(&mut self, why: String) {
        self.busy = false;
        self.message = Some(why);
        self.pin.set("");
        self.confirm.set("");
        self.focus = self
            .fields()
            .iter()
            .position(|f| *f == LockField::Pin)
            .unwrap_or(0);
    }
}

/// A key on the lock screen. Only the form's own keys, the crisis lines and quit work here.
pub fn command(app: &mut App, cmd: Command) -> Vec<Effect> {
    let Some(v) = app.lock.as_mut() else {
        return Vec::new();
    };
    if v.crisis {
        if matches!(cmd, Command::Cancel | Command::Crisis | Command::Confirm) {
            v.crisis = false;
        } else if cmd == Command::Quit {
            app.quit = true;
            return vec![Effect::Quit];
        }
        return Vec::new();
    }
    let n = v.fields().len();
    match cmd {
        Command::Crisis => v.crisis = true,
        Command::Quit => {
            app.quit = true;
            return vec![Effect::Quit];
        }
        _ if v.busy => {}
        Command::NextField | Command::Down => v.focus = (v.focus + 1) % n,
        Command::PrevField | Command::Up => v.focus = (v.focus + n - 1) % n,
        Command::Cancel => {
            v.message = None;
            v.pin.set("");
            v.confirm.set("");
        }
        Command::Confirm => {
            // Enter moves through the form; on the last field it submits.
            let fields = v.fields();
            if v.field(v.focused()).value().trim().is_empty() {
                v.message = Some(format!("{} is needed.", v.focused().label()));
            } else if v.focus + 1 < n {
                v.focus += 1;
            } else if let Some(i) = fields
                .iter()
                .position(|f| v.field(*f).value().trim().is_empty())
            {
                v.focus = i;
                v.message = Some(format!("{} is needed.", fields[i].label()));
            } else {
                return submit(app);
            }
        }
        other => {
            let f = v.focused();
            v.field_mut(f).command(other);
        }
    }
    Vec::new()
}

fn submit(app: &mut App) -> Vec<Effect> {
    let Some(v) = app.lock.as_mut() else {
        return Vec::new();
    };
    let user = v.user.value().trim().to_owned();
    let pin = Secret::new(v.pin.value());
    if v.reason == LockReason::FirstRun {
        if v.pin.value() != v.confirm.value() {
            v.failed("The two entries differ; type the passphrase twice.".into());
            return Vec::new();
        }
        v.busy = true;
        v.message = Some("Creating the administrator and encrypting the database…".into());
        return vec![Effect::FirstRun {
            user,
            display_name: v.display_name.value().trim().to_owned(),
            pin,
        }];
    }
    v.busy = true;
    v.message = Some("Checking…".into());
    vec![Effect::SignIn { user, pin }]
}

//! Keys → Commands. The only place that knows which physical key does what: screens ask for a
//! [`Command`], help and footers are generated from the same table, and a config file can
//! rebind any command (see `assets/keymap.toml` for the defaults and the format).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::Deserialize;
use thiserror::Error;

mod command;
pub use command::Command;

/// Where a key is looked up; the first context that binds it wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    /// Everywhere, even in a text field (so only keys that cannot be typed).
    Global,
    /// Screens without a focused text field.
    Navigation,
    Text,
    Home,
    Intake,
    Instrument,
    Placement,
    Referral,
    Notices,
    Summary,
    Crisis,
    Dialog,
    Help,
    Queue,
    Record,
    Dashboard,
}

impl Context {
    fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Navigation => "navigation",
            Context::Text => "text",
            Context::Home => "home",
            Context::Intake => "intake",
            Context::Instrument => "instrument",
            Context::Placement => "placement",
            Context::Referral => "referral",
            Context::Notices => "notices",
            Context::Summary => "summary",
            Context::Crisis => "crisis",
            Context::Dialog => "dialog",
            Context::Help => "help",
            Context::Queue => "queue",
            Context::Record => "record",
            Context::Dashboard => "dashboard",
        }
    }
}

/// One physical key with its modifiers (Shift is folded into the character).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl Key {
    pub fn from_event(ev: &KeyEvent) -> Key {
        // Shift is folded into the character (`?`, `A`); Shift+Tab arrives as BackTab.
        Key {
            code: ev.code,
            ctrl: ev.modifiers.contains(KeyModifiers::CONTROL),
            alt: ev.modifiers.contains(KeyModifiers::ALT),
        }
    }

    /// A printable character typed without Ctrl or Alt.
    pub fn printable(&self) -> Option<char> {
        match self.code {
            KeyCode::Char(c) if !self.ctrl && !self.alt && !c.is_control() => Some(c),
            _ => None,
        }
    }
}

impl FromStr for Key {
    type Err = KeymapError;
    fn from_str(s: &str) -> Result<Key, KeymapError> {
        let bad = || KeymapError::BadKey(s.to_owned());
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = s;
        loop {
            let lower = rest.to_ascii_lowercase();
            if lower.starts_with("ctrl-") && rest.len() > 5 {
                ctrl = true;
                rest = &rest[5..];
            } else if lower.starts_with("alt-") && rest.len() > 4 {
                alt = true;
                rest = &rest[4..];
            } else {
                break;
            }
        }
        let code = match rest.to_ascii_lowercase().as_str() {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "pageup" => KeyCode::PageUp,
            "pagedown" => KeyCode::PageDown,
            "space" => KeyCode::Char(' '),
            f if f.len() >= 2 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                let n: u8 = f[1..].parse().map_err(|_| bad())?;
                if !(1..=12).contains(&n) {
                    return Err(bad());
                }
                KeyCode::F(n)
            }
            _ => {
                let mut chars = rest.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) => KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c }),
                    _ => return Err(bad()),
                }
            }
        };
        Ok(Key { code, ctrl, alt })
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::BackTab => f.write_str("S-Tab"),
            KeyCode::Backspace => f.write_str("Bksp"),
            KeyCode::Delete => f.write_str("Del"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            other => write!(f, "{other:?}"),
        }
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum KeymapError {
    #[error("unknown command `{0}`")]
    UnknownCommand(String),
    #[error("cannot read key `{0}` (examples: `f2`, `ctrl-e`, `pagedown`, `y`)")]
    BadKey(String),
    #[error("keymap file: {0}")]
    Parse(String),
    #[error(
        "key `{key}` in [{context}] is a printable character; only Ctrl/Alt/F-keys may be bound globally"
    )]
    PrintableGlobal { context: String, key: String },
    #[error("the crisis protocol must keep at least one global key")]
    NoCrisisKey,
}

/// The key table: per context, key → command.
#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    bindings: BTreeMap<Context, Vec<(Key, Command)>>,
}

/// The shipped defaults (also the documentation of the file format).
pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

impl Keymap {
    pub fn default_map() -> Keymap {
        Keymap::parse(DEFAULT_KEYMAP).expect("the shipped keymap is valid")
    }

    /// Parse a keymap file: `[context]` tables of `command = ["key", ...]`.
    pub fn parse(text: &str) -> Result<Keymap, KeymapError> {
        let raw: BTreeMap<Context, BTreeMap<String, Vec<String>>> =
            toml::from_str(text).map_err(|e| KeymapError::Parse(e.to_string()))?;
        let mut map = Keymap {
            bindings: BTreeMap::new(),
        };
        map.merge(raw)?;
        map.check()?;
        Ok(map)
    }

    /// Defaults with a user's overrides: a command listed in a context replaces that command's
    /// keys there.
    pub fn with_overrides(text: &str) -> Result<Keymap, KeymapError> {
        let raw: BTreeMap<Context, BTreeMap<String, Vec<String>>> =
            toml::from_str(text).map_err(|e| KeymapError::Parse(e.to_string()))?;
        let mut map = Keymap::default_map();
        map.merge(raw)?;
        map.check()?;
        Ok(map)
    }

    fn merge(
        &mut self,
        raw: BTreeMap<Context, BTreeMap<String, Vec<String>>>,
    ) -> Result<(), KeymapError> {
        for (ctx, cmds) in raw {
            let list = self.bindings.entry(ctx).or_default();
            for (name, keys) in cmds {
                let cmd: Command = name.parse()?;
                list.retain(|(_, c)| *c != cmd);
                for k in keys {
                    let key: Key = k.parse()?;
                    if ctx == Context::Global && key.printable().is_some() {
                        return Err(KeymapError::PrintableGlobal {
                            context: ctx.name().into(),
                            key: k,
                        });
                    }
                    // A key rebound to a new command leaves its old one.
                    list.retain(|(bound, _)| *bound != key);
                    list.push((key, cmd));
                }
            }
        }
        Ok(())
    }

    fn check(&self) -> Result<(), KeymapError> {
        if self.keys_for(Context::Global, Command::Crisis).is_empty() {
            return Err(KeymapError::NoCrisisKey);
        }
        Ok(())
    }

    pub fn lookup(&self, ctx: Context, key: &Key) -> Option<Command> {
        self.bindings
            .get(&ctx)?
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, c)| *c)
    }

    pub fn keys_for(&self, ctx: Context, cmd: Command) -> Vec<Key> {
        self.bindings
            .get(&ctx)
            .map(|l| {
                l.iter()
                    .filter(|(_, c)| *c == cmd)
                    .map(|(k, _)| *k)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The first key for a command in the first of `contexts` that binds it, as text.
    pub fn label(&self, contexts: &[Context], cmd: Command) -> Option<String> {
        contexts
            .iter()
            .find_map(|c| self.keys_for(*c, cmd).first().copied())
            .map(|k| k.to_string())
    }

    /// Every binding of a context, for the help screen: (keys, command).
    pub fn describe(&self, ctx: Context) -> Vec<(String, Command)> {
        let mut by_cmd: BTreeMap<Command, Vec<String>> = BTreeMap::new();
        for (k, c) in self.bindings.get(&ctx).into_iter().flatten() {
            by_cmd.entry(*c).or_default().push(k.to_string());
        }
        by_cmd
            .into_iter()
            .map(|(c, keys)| (keys.join("/"), c))
            .collect()
    }

    pub fn context_title(ctx: Context) -> &'static str {
        match ctx {
            Context::Global => "Everywhere",
            Context::Navigation => "Moving around",
            Context::Text => "In a text field",
            Context::Home => "Home",
            Context::Intake => "Intake",
            Context::Instrument => "Questions",
            Context::Placement => "Placement",
            Context::Referral => "Referral",
            Context::Notices => "Notices and consent",
            Context::Summary => "Summary",
            Context::Crisis => "Crisis protocol",
            Context::Dialog => "Dialogs",
            Context::Help => "Help",
            Context::Queue => "Review queue",
            Context::Record => "Encounter record",
            Context::Dashboard => "Dashboard",
        }
    }

    pub fn contexts(&self) -> impl Iterator<Item = Context> + '_ {
        self.bindings.keys().copied()
    }
}

#[cfg(test)]
mod tests;

//! A single-line text field: editing through `tui-input`, a length limit, and paste handling
//! (line breaks become spaces; text past the limit is cut and reported, never silently lost
//! from the screen).

use tui_input::{Input, InputRequest};

use super::keymap::Command;

#[derive(Debug, Clone, Default)]
pub struct TextField {
    input: Input,
    pub max_chars: usize,
}

/// Fields are equal when their text is (the cursor is presentation).
impl PartialEq for TextField {
    fn eq(&self, other: &TextField) -> bool {
        self.value() == other.value() && self.max_chars == other.max_chars
    }
}

impl Eq for TextField {}

/// What an edit did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Unchanged,
    Changed,
    /// Changed, but some pasted text did not fit.
    Truncated,
}

impl TextField {
    pub fn new(max_chars: usize) -> TextField {
        TextField {
            input: Input::default(),
            max_chars,
        }
    }

    pub fn with_value(max_chars: usize, value: &str) -> TextField {
        let mut f = TextField::new(max_chars);
        f.set(value);
        f
    }

    pub fn value(&self) -> &str {
        self.input.value()
    }

    /// Cursor position in terminal columns (wide characters count two).
    pub fn visual_cursor(&self) -> usize {
        self.input.visual_cursor()
    }

    pub fn visual_scroll(&self, width: usize) -> usize {
        self.input.visual_scroll(width)
    }

    pub fn set(&mut self, value: &str) {
        let clean: String = clean(value).chars().take(self.max_chars).collect();
        self.input = Input::new(clean);
    }

    fn len(&self) -> usize {
        self.input.value().chars().count()
    }

    pub fn insert(&mut self, c: char) -> Edit {
        if c.is_control() || self.len() >= self.max_chars {
            return Edit::Unchanged;
        }
        self.apply(InputRequest::InsertChar(c))
    }

    /// Insert pasted text at the cursor.
    pub fn paste(&mut self, text: &str) -> Edit {
        let room = self.max_chars.saturating_sub(self.len());
        let clean = clean(text);
        let total = clean.chars().count();
        let mut changed = false;
        for c in clean.chars().take(room) {
            changed |= self.input.handle(InputRequest::InsertChar(c)).is_some();
        }
        match (total > room, changed) {
            (true, _) => Edit::Truncated,
            (false, true) => Edit::Changed,
            (false, false) => Edit::Unchanged,
        }
    }

    /// Apply an editing command; other commands are not for text fields.
    pub fn command(&mut self, cmd: Command) -> Edit {
        let req = match cmd {
            Command::TextLeft => InputRequest::GoToPrevChar,
            Command::TextRight => InputRequest::GoToNextChar,
            Command::TextWordLeft => InputRequest::GoToPrevWord,
            Command::TextWordRight => InputRequest::GoToNextWord,
            Command::TextHome => InputRequest::GoToStart,
            Command::TextEnd => InputRequest::GoToEnd,
            Command::TextBackspace => InputRequest::DeletePrevChar,
            Command::TextDelete => InputRequest::DeleteNextChar,
            Command::TextDeleteWord => InputRequest::DeletePrevWord,
            Command::TextClear => InputRequest::DeleteLine,
            _ => return Edit::Unchanged,
        };
        self.apply(req)
    }

    fn apply(&mut self, req: InputRequest) -> Edit {
        let before = self.input.value().len();
        let value_before = matches!(
            req,
            InputRequest::InsertChar(_)
                | InputRequest::DeletePrevChar
                | InputRequest::DeleteNextChar
                | InputRequest::DeletePrevWord
                | InputRequest::DeleteLine
        );
        match self.input.handle(req) {
            Some(s) if s.value => Edit::Changed,
            Some(_) => Edit::Unchanged,
            None if value_before && before != self.input.value().len() => Edit::Changed,
            None => Edit::Unchanged,
        }
    }
}

/// Line breaks and tabs become single spaces; other control characters are dropped.
fn clean(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\n' || c == '\r' || c == '\t' {
            if !out.ends_with(' ') {
                out.push(' ');
            }
        } else if !c.is_control() {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_and_editing_non_latin_text() {
        let mut f = TextField::new(40);
        for c in "Արամ 王小明".chars() {
            assert_eq!(f.insert(c), Edit::Changed);
        }
        assert_eq!(f.value(), "Արամ 王小明");
        // Three wide CJK characters take two columns each.
        assert_eq!(f.visual_cursor(), 4 + 1 + 6);
        assert_eq!(f.command(Command::TextBackspace), Edit::Changed);
        assert_eq!(f.value(), "Արամ 王小");
        f.command(Command::TextHome);
        f.insert('¡');
        assert_eq!(f.value(), "¡Արամ 王小");
        assert_eq!(f.command(Command::TextClear), Edit::Changed);
        assert_eq!(f.value(), "");
    }

    #[test]
    fn a_huge_paste_is_cut_to_the_limit_and_reported() {
        let mut f = TextField::new(10);
        assert_eq!(f.paste("line one\nline two\r\n"), Edit::Truncated);
        assert_eq!(f.value(), "line one l");
        assert_eq!(f.insert('x'), Edit::Unchanged);
        let mut g = TextField::new(100);
        assert_eq!(g.paste("a\tb\u{7}c"), Edit::Changed);
        assert_eq!(g.value(), "a bc");
    }
}

//! The CSV writer the reports use (RFC 4180, formulas defused).

use std::borrow::Cow;
use std::io::{self, Write};

/// An RFC 4180 writer: one record per line ending in CRLF, a field quoted when it holds a comma,
/// a quote, CR or LF (quotes doubled inside), everything else written as is, in UTF-8.
///
/// Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` (and a leading tab or CR) as a
/// formula: a caller's words read out by the screener must never become one (CSV/formula
/// injection). Such a cell gets a leading single quote, which spreadsheets show as plain text.
pub struct Csv<W: Write> {
    out: W,
    line: String,
}

impl<W: Write> Csv<W> {
    pub fn new(out: W) -> Csv<W> {
        Csv {
            out,
            line: String::with_capacity(512),
        }
    }

    pub fn record<S: AsRef<str>>(&mut self, fields: &[S]) -> io::Result<()> {
        self.line.clear();
        for (n, f) in fields.iter().enumerate() {
            if n > 0 {
                self.line.push(',');
            }
            push_field(&mut self.line, f.as_ref());
        }
        self.line.push_str("\r\n");
        self.out.write_all(self.line.as_bytes())
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// Characters that make a spreadsheet treat a cell as a formula when they come first.
const FORMULA_START: &[char] = &['=', '+', '-', '@', '\t', '\r'];

fn push_field(line: &mut String, value: &str) {
    let guarded: Cow<'_, str> = if value.starts_with(FORMULA_START) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    };
    if guarded.contains([',', '"', '\r', '\n']) {
        line.push('"');
        for ch in guarded.chars() {
            if ch == '"' {
                line.push('"');
            }
            line.push(ch);
        }
        line.push('"');
    } else {
        line.push_str(&guarded);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        let mut csv = Csv::new(Vec::new());
        csv.record(&[
            "plain",
            "a, b",
            "say \"hi\"",
            "two\nlines",
            "=1+1",
            "-5",
            "@x",
            "+1",
            "Անի",
            "",
        ])
        .unwrap();
        let text = String::from_utf8(csv.into_inner()).unwrap();
        assert_eq!(
            text,
            "plain,\"a, b\",\"say \"\"hi\"\"\",\"two\nlines\",'=1+1,'-5,'@x,'+1,Անի,\r\n"
        );
    }
}

//! A small reader for EDN (the data notation of Clojure and Jepsen histories).
//!
//! It reads the subset histories use: `nil`, booleans, integers (optionally with an `N` suffix),
//! floats, strings, characters, keywords, symbols, lists, vectors, maps, sets, tagged literals
//! (`#inst "..."`, read as their inner value), `#_` discards, `;` comments, and commas as whitespace.
//! Every value remembers the line it starts on, for error messages.
//!
//! ```
//! use models::parse::edn::{read_all, EdnKind};
//! let forms = read_all("{:process 0, :type :invoke} ; comment\n[1 nil]").unwrap();
//! assert_eq!(forms.len(), 2);
//! assert_eq!(forms[1].line, 2);
//! assert!(matches!(forms[0].kind, EdnKind::Map(_)));
//! ```

use std::fmt;

/// An EDN value with the (1-based) line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub struct Edn {
    /// The line of the value's first character.
    pub line: usize,
    /// The value.
    pub kind: EdnKind,
}

/// The kinds of EDN values.
#[derive(Clone, Debug, PartialEq)]
pub enum EdnKind {
    /// `nil`.
    Nil,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Float(f64),
    /// A string.
    Str(String),
    /// A character literal (`\a`).
    Char(char),
    /// A keyword, without the leading colon.
    Keyword(String),
    /// A symbol.
    Symbol(String),
    /// `( ... )`.
    List(Vec<Edn>),
    /// `[ ... ]`.
    Vector(Vec<Edn>),
    /// `{ k v ... }`, in source order.
    Map(Vec<(Edn, Edn)>),
    /// `#{ ... }`.
    Set(Vec<Edn>),
}

impl Edn {
    /// The keyword's name if this is a keyword.
    pub fn as_keyword(&self) -> Option<&str> {
        match &self.kind {
            EdnKind::Keyword(k) => Some(k),
            _ => None,
        }
    }

    /// Looks up a keyword key in a map (`None` if not a map or absent).
    pub fn get(&self, keyword: &str) -> Option<&Edn> {
        match &self.kind {
            EdnKind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_keyword() == Some(keyword))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The elements of a vector or list.
    pub fn as_seq(&self) -> Option<&[Edn]> {
        match &self.kind {
            EdnKind::Vector(v) | EdnKind::List(v) => Some(v),
            _ => None,
        }
    }
}

impl fmt::Display for EdnKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn seq(f: &mut fmt::Formatter<'_>, open: &str, items: &[Edn], close: &str) -> fmt::Result {
            write!(f, "{open}")?;
            for (i, e) in items.iter().enumerate() {
                if i > 0 {
                    write!(f, " ")?;
                }
                write!(f, "{}", e.kind)?;
            }
            write!(f, "{close}")
        }
        match self {
            EdnKind::Nil => write!(f, "nil"),
            EdnKind::Bool(b) => write!(f, "{b}"),
            EdnKind::Int(i) => write!(f, "{i}"),
            EdnKind::Float(x) => write!(f, "{x}"),
            EdnKind::Str(s) => write!(f, "{s:?}"),
            EdnKind::Char(c) => write!(f, "\\{c}"),
            EdnKind::Keyword(k) => write!(f, ":{k}"),
            EdnKind::Symbol(s) => write!(f, "{s}"),
            EdnKind::List(v) => seq(f, "(", v, ")"),
            EdnKind::Vector(v) => seq(f, "[", v, "]"),
            EdnKind::Set(v) => seq(f, "#{", v, "}"),
            EdnKind::Map(entries) => {
                write!(f, "{{")?;
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{} {}", k.kind, v.kind)?;
                }
                write!(f, "}}")
            }
        }
    }
}

/// A syntax error: the line and what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: expected {expected}, found {found}")]
pub struct EdnError {
    /// 1-based line.
    pub line: usize,
    /// What the reader expected.
    pub expected: String,
    /// What it found.
    pub found: String,
}

/// Reads every top-level form of `text`.
pub fn read_all(text: &str) -> Result<Vec<Edn>, EdnError> {
    let mut r = Reader {
        s: text.as_bytes(),
        text,
        pos: 0,
        line: 1,
    };
    let mut out = Vec::new();
    loop {
        r.skip_ws()?;
        if r.pos >= r.s.len() {
            return Ok(out);
        }
        if let Some(v) = r.read_form()? {
            out.push(v);
        }
    }
}

struct Reader<'a> {
    s: &'a [u8],
    text: &'a str,
    pos: usize,
    line: usize,
}

const MAX_DEPTH: usize = 200;

impl Reader<'_> {
    fn err<T>(&self, expected: &str) -> Result<T, EdnError> {
        let found = if self.pos >= self.s.len() {
            "end of input".to_string()
        } else {
            let rest = &self.text[self.pos..];
            let snippet: String = rest.chars().take(20).take_while(|c| *c != '\n').collect();
            format!("{snippet:?}")
        };
        Err(EdnError {
            line: self.line,
            expected: expected.to_string(),
            found,
        })
    }

    fn skip_ws(&mut self) -> Result<(), EdnError> {
        while self.pos < self.s.len() {
            match self.s[self.pos] {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                }
                b' ' | b'\t' | b'\r' | b',' => self.pos += 1,
                b';' => {
                    while self.pos < self.s.len() && self.s[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                _ => return Ok(()),
            }
        }
        Ok(())
    }

    /// Reads one form; `None` for a `#_` discard.
    fn read_form(&mut self) -> Result<Option<Edn>, EdnError> {
        self.read_form_depth(0)
    }

    fn read_form_depth(&mut self, depth: usize) -> Result<Option<Edn>, EdnError> {
        if depth > MAX_DEPTH {
            return self.err("nesting shallower than 200 levels");
        }
        self.skip_ws()?;
        let line = self.line;
        let Some(&c) = self.s.get(self.pos) else {
            return self.err("a value");
        };
        let kind = match c {
            b'(' => {
                self.pos += 1;
                EdnKind::List(self.read_seq(b')', depth)?)
            }
            b'[' => {
                self.pos += 1;
                EdnKind::Vector(self.read_seq(b']', depth)?)
            }
            b'{' => {
                self.pos += 1;
                let items = self.read_seq(b'}', depth)?;
                if items.len() % 2 != 0 {
                    self.line = line;
                    return self.err("a map with an even number of forms");
                }
                let mut entries = Vec::with_capacity(items.len() / 2);
                let mut it = items.into_iter();
                while let (Some(k), Some(v)) = (it.next(), it.next()) {
                    entries.push((k, v));
                }
                EdnKind::Map(entries)
            }
            b'#' => {
                self.pos += 1;
                match self.s.get(self.pos) {
                    Some(b'{') => {
                        self.pos += 1;
                        EdnKind::Set(self.read_seq(b'}', depth)?)
                    }
                    Some(b'_') => {
                        self.pos += 1;
                        self.read_form_depth(depth + 1)?;
                        return Ok(None);
                    }
                    Some(c) if c.is_ascii_alphabetic() => {
                        // A tagged literal: skip the tag, read the tagged value.
                        self.read_token();
                        loop {
                            if let Some(v) = self.read_form_depth(depth + 1)? {
                                return Ok(Some(v));
                            }
                        }
                    }
                    _ => return self.err("a set, discard or tagged literal after '#'"),
                }
            }
            b'"' => EdnKind::Str(self.read_string()?),
            b')' | b']' | b'}' => return self.err("a value"),
            b'\\' => {
                self.pos += 1;
                let tok = self.read_token();
                let ch = match tok {
                    "newline" => '\n',
                    "space" => ' ',
                    "tab" => '\t',
                    "return" => '\r',
                    t if t.chars().count() == 1 => t.chars().next().unwrap_or(' '),
                    _ => return self.err("a character literal"),
                };
                EdnKind::Char(ch)
            }
            _ => {
                let start = self.pos;
                let tok = self.read_token();
                if tok.is_empty() {
                    self.pos = start;
                    return self.err("a value");
                }
                match parse_atom(tok) {
                    Some(k) => k,
                    None => {
                        self.pos = start;
                        return self.err("a number, keyword, symbol, nil, true or false");
                    }
                }
            }
        };
        Ok(Some(Edn { line, kind }))
    }

    fn read_seq(&mut self, close: u8, depth: usize) -> Result<Vec<Edn>, EdnError> {
        let mut items = Vec::new();
        loop {
            self.skip_ws()?;
            match self.s.get(self.pos) {
                None => return self.err(&format!("'{}'", close as char)),
                Some(&c) if c == close => {
                    self.pos += 1;
                    return Ok(items);
                }
                Some(_) => {
                    if let Some(v) = self.read_form_depth(depth + 1)? {
                        items.push(v);
                    }
                }
            }
        }
    }

    fn read_token(&mut self) -> &str {
        let start = self.pos;
        while let Some(&c) = self.s.get(self.pos) {
            if c.is_ascii_whitespace()
                || matches!(
                    c,
                    b',' | b'(' | b')' | b'[' | b']' | b'{' | b'}' | b'"' | b';'
                )
            {
                break;
            }
            self.pos += 1;
        }
        // Token boundaries are ASCII bytes, so this slice is on char boundaries.
        self.text.get(start..self.pos).unwrap_or("")
    }

    fn read_string(&mut self) -> Result<String, EdnError> {
        let start_line = self.line;
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let rest = self.text.get(self.pos..).unwrap_or("");
            let mut chars = rest.chars();
            let Some(c) = chars.next() else {
                self.line = start_line;
                return self.err("a closing '\"' for the string starting here");
            };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(out),
                '\n' => {
                    self.line += 1;
                    out.push('\n');
                }
                '\\' => {
                    let Some(e) = chars.next() else {
                        return self.err("an escape sequence");
                    };
                    self.pos += e.len_utf8();
                    match e {
                        'n' => out.push('\n'),
                        't' => out.push('\t'),
                        'r' => out.push('\r'),
                        '"' => out.push('"'),
                        '\\' => out.push('\\'),
                        'u' => {
                            let hex = self.text.get(self.pos..self.pos + 4).unwrap_or("");
                            match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                                Some(ch) => {
                                    out.push(ch);
                                    self.pos += 4;
                                }
                                None => return self.err("four hex digits after \\u"),
                            }
                        }
                        _ => return self.err("one of \\n \\t \\r \\\" \\\\ \\u"),
                    }
                }
                c => out.push(c),
            }
        }
    }
}

fn parse_atom(tok: &str) -> Option<EdnKind> {
    match tok {
        "nil" => return Some(EdnKind::Nil),
        "true" => return Some(EdnKind::Bool(true)),
        "false" => return Some(EdnKind::Bool(false)),
        _ => {}
    }
    if let Some(k) = tok.strip_prefix(':') {
        if k.is_empty() {
            return None;
        }
        return Some(EdnKind::Keyword(k.to_string()));
    }
    let first = tok.as_bytes()[0];
    let numeric = first.is_ascii_digit()
        || ((first == b'-' || first == b'+')
            && tok.len() > 1
            && tok.as_bytes()[1].is_ascii_digit());
    if numeric {
        let t = tok.strip_suffix('N').unwrap_or(tok);
        if let Ok(i) = t.parse::<i64>() {
            return Some(EdnKind::Int(i));
        }
        let t = tok.strip_suffix('M').unwrap_or(tok);
        return t.parse::<f64>().ok().map(EdnKind::Float);
    }
    Some(EdnKind::Symbol(tok.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_values_and_lines() {
        let f = read_all(
            "; c\n[{:a 1, :b \"x\\\"y\"}\n #_ 5 (:k nil true -3N 1.5) #{1} #inst \"2020\"]",
        )
        .unwrap();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].line, 2);
        let items = f[0].as_seq().unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0].get("b").unwrap().kind, EdnKind::Str("x\"y".into()));
        assert_eq!(items[1].line, 3);
        assert_eq!(
            items[1].kind.to_string(),
            "(:k nil true -3 1.5)",
            "discard must drop the 5"
        );
        assert_eq!(items[3].kind, EdnKind::Str("2020".into()));
    }

    #[test]
    fn errors_name_line_and_expectation() {
        let e = read_all("[1 2\n 3").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.expected.contains(']'), "{e}");
        let e = read_all("{:a}").unwrap_err();
        assert!(e.expected.contains("even"), "{e}");
        let e = read_all("\n\n  )").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(read_all("\"abc").is_err());
        assert!(read_all(":").is_err());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let s = "[".repeat(10_000);
        assert!(read_all(&s).is_err());
    }
}

//! The validator's fast path: a strict JSON deserializer for one record that counts the text
//! content while it parses, so a line is read once instead of three times (UTF-8 check, serde_json,
//! the text scan).
//!
//! It is a *subset* parser: whatever it does not handle the way serde_json would, it refuses
//! ([`Bail`]), and the caller parses the line again with serde_json, which then decides and words
//! the error. So it may only return `Ok` for a line serde_json accepts, with the same visitor
//! calls serde_json would make. A surrogate `\u` escape, a struct written as an array, serde_json's
//! `RawValue` and nesting deeper than [`MAX_DEPTH`] are refused; a number other than a plain
//! integer or decimal is handed to serde_json's own number parser. The differential tests in
//! `validate/tests.rs` (both paths' reports on mutated records of every family; any JSON value
//! the fast parser accepts, against serde_json's) and the `validate_line` fuzz target hold it to
//! that.
//!
//! Why not a crate: the SIMD JSON crates (sonic-rs, simd-json) want `-C target-cpu=native` for
//! their speed, and none counts text by key while it parses; the one-pass count is the point.
//!
//! Three files: this one holds the parser's state and how it reads each kind of value;
//! `deserializer.rs` the serde `Deserializer` and its sequence, map and key accessors over it
//! (arrays and objects are read there, through them); `scan.rs` the byte scans under both (the
//! string scan with its SIMD, `\u` escapes, the number grammar, plain decimals). This file names
//! neither accessor, so the deserializer builds on it and not the other way round.

use serde::de::{self, Visitor};

pub(crate) use scan::find_special;
use scan::{hex4, plain_decimal, valid_number};

mod deserializer;
mod scan;

/// The fast path gave up: the line goes to serde_json.
#[derive(Debug)]
pub struct Bail;

impl std::fmt::Display for Bail {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("not on the fast path")
    }
}

impl std::error::Error for Bail {}

impl de::Error for Bail {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Bail
    }
}

type R<T> = Result<T, Bail>;

/// Nesting the fast path follows (serde_json's own limit is 128; deeper goes to it).
pub const MAX_DEPTH: u32 = 100;

/// What the text scan would have counted: characters of text content and media blocks
/// (the same rules as [`crate::validate::text::text_content`]).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub chars: u64,
    pub media: u64,
}

/// The last key seen, classed for the count.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Key {
    Other,
    Text,
    Media,
    Type,
}

fn class(k: &[u8]) -> Key {
    if crate::validate::text::is_text_key(k) {
        Key::Text
    } else if crate::validate::text::is_media_key(k) {
        Key::Media
    } else if k == b"type" {
        Key::Type
    } else {
        Key::Other
    }
}

/// A string as scanned: its raw bytes between the quotes, with what the scan learned.
#[derive(Clone, Copy)]
struct Raw {
    start: usize,
    end: usize,
    /// Holds a backslash escape.
    escaped: bool,
    /// Holds a byte ≥ 0x80 (already checked to be UTF-8).
    high: bool,
    /// Bytes the escapes take beyond the one character each stands for.
    extra: u64,
}

pub struct De<'de> {
    b: &'de [u8],
    i: usize,
    depth: u32,
    key: Key,
    tally: Tally,
    scratch: Vec<u8>,
}

/// Parses one record into `T`, or `None` when the fast path cannot vouch for it (the caller
/// then asks serde_json). The line is bytes: UTF-8 is checked inside strings, and outside them
/// only ASCII grammar is accepted.
pub fn from_slice<'de, T: de::Deserialize<'de>>(b: &'de [u8]) -> Option<(T, Tally)> {
    let mut d = De { b, i: 0, depth: 0, key: Key::Other, tally: Tally::default(), scratch: Vec::new() };
    let v = T::deserialize(&mut d).ok()?;
    d.skip_ws();
    (d.i == b.len()).then_some((v, d.tally))
}

impl<'de> De<'de> {
    #[inline(always)]
    fn skip_ws(&mut self) {
        // Records are mostly compact: one test for the usual case (no byte above a space is
        // JSON whitespace).
        if self.b.get(self.i).is_some_and(|&c| c > b' ') {
            return;
        }
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    #[inline(always)]
    fn peek(&mut self) -> R<u8> {
        self.skip_ws();
        self.b.get(self.i).copied().ok_or(Bail)
    }

    fn literal(&mut self, word: &[u8]) -> R<()> {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(Bail)
        }
    }

    /// Scans the string whose opening quote is at `self.i`; leaves `self.i` after its closing
    /// quote. Control characters, bad escapes, surrogate escapes and bad UTF-8 are refused.
    #[inline(always)]
    fn scan_str(&mut self) -> R<Raw> {
        let start = self.i + 1;
        let (j, high) = find_special(self.b, start);
        if !high && self.b.get(j) == Some(&b'"') {
            self.i = j + 1;
            return Ok(Raw { start, end: j, escaped: false, high: false, extra: 0 });
        }
        self.scan_rest(start, j, high)
    }

    /// The rest of a string that holds an escape or a byte ≥ 0x80 (or is broken), from `j`.
    #[inline(never)]
    fn scan_rest(&mut self, start: usize, mut j: usize, high: bool) -> R<Raw> {
        let mut raw = Raw { start, end: start, escaped: false, high, extra: 0 };
        loop {
            match self.b.get(j) {
                Some(b'"') => break,
                Some(b'\\') => {
                    raw.escaped = true;
                    match self.b.get(j + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            raw.extra += 1;
                            j += 2;
                        }
                        Some(b'u') => {
                            let n = self.b.get(j + 2..).and_then(hex4).ok_or(Bail)?;
                            // A surrogate (paired or lone) goes to serde_json, whose rules
                            // for them depend on whether the value is read or skipped.
                            if (0xD800..0xE000).contains(&n) {
                                return Err(Bail);
                            }
                            raw.extra += 5;
                            j += 6;
                        }
                        _ => return Err(Bail),
                    }
                }
                // A control character, or the end of the line.
                _ => return Err(Bail),
            }
            let (next, high) = find_special(self.b, j);
            raw.high |= high;
            j = next;
        }
        raw.end = j;
        self.i = j + 1;
        if raw.high {
            std::str::from_utf8(&self.b[start..j]).map_err(|_| Bail)?;
        }
        Ok(raw)
    }

    /// Counts a string value toward the tally, by the key it is under.
    fn tally_value(&mut self, raw: &Raw) {
        let s = &self.b[raw.start..raw.end];
        match self.key {
            Key::Text => {
                let cont = if raw.high { s.iter().filter(|&&c| (c as i8) < -64).count() as u64 } else { 0 };
                self.tally.chars += (s.len() as u64).saturating_sub(cont + raw.extra);
            }
            Key::Type if s == b"image" || s == b"document" => self.tally.media += 1,
            _ => {}
        }
    }

    /// The string's text: borrowed from the line when it has no escape, else decoded into the
    /// scratch buffer.
    #[inline(always)]
    fn text(&mut self, raw: &Raw) -> R<Str<'de, '_>> {
        let s: &'de [u8] = &self.b[raw.start..raw.end];
        if raw.escaped {
            return self.decode(s).map(Str::Scratch);
        }
        Ok(Str::Line(if raw.high {
            std::str::from_utf8(s).map_err(|_| Bail)?
        } else {
            // SAFETY: the scan saw no byte ≥ 0x80, so `s` is ASCII, which is UTF-8.
            unsafe { std::str::from_utf8_unchecked(s) }
        }))
    }

    /// A string with escapes, decoded into the scratch buffer.
    #[inline(never)]
    fn decode(&mut self, s: &[u8]) -> R<&str> {
        self.scratch.clear();
        let mut k = 0;
        while k < s.len() {
            let c = s[k];
            if c != b'\\' {
                self.scratch.push(c);
                k += 1;
                continue;
            }
            let ch = match s.get(k + 1) {
                Some(b'u') => {
                    let n = s.get(k + 2..).and_then(hex4).ok_or(Bail)?;
                    k += 6;
                    char::from_u32(n).ok_or(Bail)?
                }
                Some(&e) => {
                    k += 2;
                    match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        _ => return Err(Bail),
                    }
                }
                None => return Err(Bail),
            };
            let mut buf = [0u8; 4];
            self.scratch.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
        std::str::from_utf8(&self.scratch).map_err(|_| Bail)
    }

    /// After a key: the colon, and a media block when the key names one and an object follows.
    #[inline]
    fn colon(&mut self, key: &[u8]) -> R<()> {
        self.key = class(key);
        if self.peek()? != b':' {
            return Err(Bail);
        }
        self.i += 1;
        if self.key == Key::Media && self.peek()? == b'{' {
            self.tally.media += 1;
        }
        Ok(())
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(Bail);
        }
        Ok(())
    }

    /// Skips one value, checking it as strictly as reading it would (serde_json's IgnoredAny).
    fn skip(&mut self) -> R<()> {
        match self.peek()? {
            b'"' => {
                let raw = self.scan_str()?;
                self.tally_value(&raw);
                Ok(())
            }
            b'{' => self.skip_items(b'}', Self::skip_member),
            b'[' => self.skip_items(b']', Self::skip),
            b'n' => self.literal(b"null"),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'-' | b'0'..=b'9' => {
                let t = self.number_token();
                if valid_number(t) {
                    Ok(())
                } else {
                    Err(Bail)
                }
            }
            _ => Err(Bail),
        }
    }

    /// Skips an object's or an array's items (`item` skips one); `self.i` is on its opening byte.
    fn skip_items(&mut self, end: u8, item: fn(&mut Self) -> R<()>) -> R<()> {
        self.enter()?;
        self.i += 1;
        if self.peek()? != end {
            loop {
                item(self)?;
                match self.peek()? {
                    b',' => self.i += 1,
                    c if c == end => break,
                    _ => return Err(Bail),
                }
            }
        }
        self.close(end)
    }

    /// Skips one `"key": value` of an object.
    fn skip_member(&mut self) -> R<()> {
        if self.peek()? != b'"' {
            return Err(Bail);
        }
        let raw = self.scan_str()?;
        self.colon(&self.b[raw.start..raw.end])?;
        self.skip()
    }

    /// A container's closing byte, and one level up.
    fn close(&mut self, end: u8) -> R<()> {
        if self.peek()? != end {
            return Err(Bail);
        }
        self.i += 1;
        self.depth -= 1;
        Ok(())
    }

    /// The number token at the next value, or a refusal when the value is not a number.
    fn number_at(&mut self) -> R<&'de [u8]> {
        match self.peek()? {
            b'-' | b'0'..=b'9' => Ok(self.number_token()),
            _ => Err(Bail),
        }
    }

    /// The longest run of number characters at `self.i` (its grammar is checked by the caller).
    fn number_token(&mut self) -> &'de [u8] {
        let s = self.i;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.b.get(self.i) {
            self.i += 1;
        }
        &self.b[s..self.i]
    }

    /// A number, for any hint but the 128-bit ones: a short plain integer is visited as serde_json
    /// visits it (`u64`); any other number is handed to serde_json itself, so its rules for
    /// negatives, `-0`, floats and overflow stay its own.
    fn number<V: Visitor<'de>>(&mut self, v: V) -> R<V::Value> {
        let t = self.number_token();
        if !t.is_empty() && t.len() <= 18 && t.iter().all(u8::is_ascii_digit) && (t[0] != b'0' || t.len() == 1) {
            let n = t.iter().fold(0u64, |n, &c| n * 10 + u64::from(c - b'0'));
            return v.visit_u64(n);
        }
        if let Some(f) = plain_decimal(t) {
            return v.visit_f64(f);
        }
        delegate(t, |d| de::Deserializer::deserialize_any(d, v))
    }

    fn string<V: Visitor<'de>>(&mut self, v: V) -> R<V::Value> {
        let raw = self.scan_str()?;
        self.tally_value(&raw);
        match self.text(&raw)? {
            Str::Line(s) => v.visit_borrowed_str(s),
            Str::Scratch(s) => v.visit_str(s),
        }
    }
}

/// Runs serde_json's own deserializer on a number token (which must be all of it).
fn delegate<'de, T>(t: &'de [u8], f: impl FnOnce(&mut serde_json::Deserializer<serde_json::de::SliceRead<'de>>) -> serde_json::Result<T>) -> R<T> {
    let mut d = serde_json::Deserializer::from_slice(t);
    let v = f(&mut d).map_err(|_| Bail)?;
    d.end().map_err(|_| Bail)?;
    Ok(v)
}

enum Str<'de, 's> {
    Line(&'de str),
    Scratch(&'s str),
}

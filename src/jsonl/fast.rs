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
//! `jsonl.rs` (both paths' reports on mutated records of every family; any JSON value the fast
//! parser accepts, against serde_json's) and the `validate_line` fuzz target hold it to that.
//!
//! Why not a crate: the SIMD JSON crates (sonic-rs, simd-json) want `-C target-cpu=native` for
//! their speed, and none counts text by key while it parses; the one-pass count is the point.

use serde::de::{self, DeserializeSeed, Visitor};

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
/// (the same rules as [`super::text_content`]).
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
    if super::is_text_key(k) {
        Key::Text
    } else if super::is_media_key(k) {
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

/// The first `"`, `\` or control character at or after `i` (or `b.len()`), and whether a byte
/// ≥ 0x80 comes before it. Keys and short values end within the first sixteen bytes, tested
/// inline; a longer string goes on 32 bytes a step with AVX2 where the CPU has it (checked once
/// at run time), else 16 with SSE2 (every x86-64 has it), a byte a step elsewhere.
#[inline]
fn find_special(b: &[u8], i: usize) -> (usize, bool) {
    #[cfg(target_arch = "x86_64")]
    if let Some(chunk) = b.get(i..i + 16).and_then(|c| <&[u8; 16]>::try_from(c).ok()) {
        let (m, h) = simd::masks16(chunk);
        if m != 0 {
            let t = m.trailing_zeros();
            return (i + t as usize, h & ((1u32 << t) - 1) != 0);
        }
        let (j, high) = simd::find_long(b, i + 16);
        return (j, high || h != 0);
    }
    find_tail(b, i)
}

/// A byte a step: the tail under sixteen bytes, and every string on other machines.
fn find_tail(b: &[u8], mut i: usize) -> (usize, bool) {
    let mut high = false;
    while let Some(&c) = b.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        high |= c >= 0x80;
        i += 1;
    }
    (i, high)
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use std::arch::x86_64::*;

    /// For 16 bytes: the mask of `"`, `\` and control bytes, and the mask of bytes ≥ 0x80.
    #[inline]
    pub fn masks16(chunk: &[u8; 16]) -> (u32, u32) {
        // SAFETY: SSE2 is part of every x86-64 CPU (the target's baseline); the load reads 16
        // bytes of `chunk`, which has them, and needs no alignment.
        unsafe {
            let v = _mm_loadu_si128(chunk.as_ptr().cast::<__m128i>());
            let ctrl = _mm_set1_epi8(0x1f);
            // A byte ≤ 0x1f is its own unsigned max with 0x1f.
            let c = _mm_cmpeq_epi8(_mm_max_epu8(v, ctrl), ctrl);
            let q = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let s = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            let hit = _mm_or_si128(_mm_or_si128(q, s), c);
            (_mm_movemask_epi8(hit) as u32, _mm_movemask_epi8(v) as u32)
        }
    }

    /// [`super::find_special`] past the first sixteen bytes.
    #[inline(never)]
    pub fn find_long(b: &[u8], i: usize) -> (usize, bool) {
        if is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (just checked).
            unsafe { find_avx2(b, i) }
        } else {
            find_sse2(b, i)
        }
    }

    fn find_sse2(b: &[u8], mut i: usize) -> (usize, bool) {
        let mut high = 0u32;
        while let Some(chunk) = b.get(i..i + 16).and_then(|c| <&[u8; 16]>::try_from(c).ok()) {
            let (m, h) = masks16(chunk);
            if m != 0 {
                let t = m.trailing_zeros();
                return (i + t as usize, high != 0 || h & ((1u32 << t) - 1) != 0);
            }
            high |= h;
            i += 16;
        }
        let (j, h) = super::find_tail(b, i);
        (j, high != 0 || h)
    }

    #[target_feature(enable = "avx2")]
    fn find_avx2(b: &[u8], mut i: usize) -> (usize, bool) {
        let ctrl = _mm256_set1_epi8(0x1f);
        let quote = _mm256_set1_epi8(b'"' as i8);
        let slash = _mm256_set1_epi8(b'\\' as i8);
        let mut seen = _mm256_setzero_si256();
        while let Some(chunk) = b.get(i..i + 32).and_then(|c| <&[u8; 32]>::try_from(c).ok()) {
            // SAFETY: `chunk` is 32 readable bytes; the unaligned load needs nothing more.
            let v = unsafe { _mm256_loadu_si256(chunk.as_ptr().cast::<__m256i>()) };
            let c = _mm256_cmpeq_epi8(_mm256_max_epu8(v, ctrl), ctrl);
            let hit = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, slash)), c);
            let m = _mm256_movemask_epi8(hit) as u32;
            if m != 0 {
                let t = m.trailing_zeros();
                let before = (_mm256_movemask_epi8(v) as u32) & ((1u64 << t) - 1) as u32;
                return (i + t as usize, before != 0 || _mm256_movemask_epi8(seen) != 0);
            }
            seen = _mm256_or_si256(seen, v);
            i += 32;
        }
        let (j, h) = find_sse2(b, i);
        (j, h || _mm256_movemask_epi8(seen) != 0)
    }
}

fn hex4(h: &[u8]) -> Option<u32> {
    let mut n = 0u32;
    for &c in h.get(..4)? {
        n = n * 16 + (c as char).to_digit(16)?;
    }
    Some(n)
}

/// The JSON number grammar, exactly: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn valid_number(t: &[u8]) -> bool {
    let digits = |t: &[u8], mut i: usize| {
        let s = i;
        while t.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        (i > s).then_some(i)
    };
    let mut i = usize::from(t.first() == Some(&b'-'));
    match t.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => i = digits(t, i).unwrap_or(i),
        _ => return false,
    }
    if t.get(i) == Some(&b'.') {
        let Some(j) = digits(t, i + 1) else { return false };
        i = j;
    }
    if matches!(t.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(t.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let Some(j) = digits(t, i) else { return false };
        i = j;
    }
    i == t.len()
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

    fn seq<V: Visitor<'de>>(&mut self, v: V) -> R<V::Value> {
        self.enter()?;
        self.i += 1;
        let value = v.visit_seq(Seq { de: self, first: true })?;
        self.close(b']')?;
        Ok(value)
    }

    fn map<V: Visitor<'de>>(&mut self, v: V) -> R<V::Value> {
        self.enter()?;
        self.i += 1;
        let value = v.visit_map(Map { de: self, first: true })?;
        self.close(b'}')?;
        Ok(value)
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

/// `-?(0|[1-9][0-9]*)\.[0-9]+` with at most 18 digits, as serde_json computes it (without its
/// `float_roundtrip` feature, which nothing here enables): the digits as one integer, over the
/// power of ten of the fraction's length — the same operations on the same values, so the same
/// `f64` to the bit. Anything else is left to serde_json.
fn plain_decimal(t: &[u8]) -> Option<f64> {
    const POW10: [f64; 19] = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18];
    let (negative, d) = match t.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, t),
    };
    let dot = d.iter().position(|&c| c == b'.')?;
    let (int, frac) = (&d[..dot], &d[dot + 1..]);
    if int.is_empty() || frac.is_empty() || int.len() + frac.len() > 18 || (int.len() > 1 && int[0] == b'0') {
        return None;
    }
    if !int.iter().chain(frac).all(u8::is_ascii_digit) {
        return None;
    }
    let significand = int.iter().chain(frac).fold(0u64, |n, &c| n * 10 + u64::from(c - b'0'));
    let f = significand as f64 / POW10[frac.len()];
    Some(if negative { -f } else { f })
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

struct Seq<'a, 'de> {
    de: &'a mut De<'de>,
    first: bool,
}

impl<'de> de::SeqAccess<'de> for Seq<'_, 'de> {
    type Error = Bail;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> R<Option<T::Value>> {
        match self.de.peek()? {
            b']' => return Ok(None),
            b',' if !self.first => {
                self.de.i += 1;
                if self.de.peek()? == b']' {
                    return Err(Bail);
                }
            }
            _ if self.first => self.first = false,
            _ => return Err(Bail),
        }
        seed.deserialize(&mut *self.de).map(Some)
    }
}

struct Map<'a, 'de> {
    de: &'a mut De<'de>,
    first: bool,
}

impl<'de> de::MapAccess<'de> for Map<'_, 'de> {
    type Error = Bail;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> R<Option<K::Value>> {
        match self.de.peek()? {
            b'}' => return Ok(None),
            b',' if !self.first => {
                self.de.i += 1;
                self.de.skip_ws();
            }
            _ if self.first => self.first = false,
            _ => return Err(Bail),
        }
        if self.de.b.get(self.de.i) != Some(&b'"') {
            return Err(Bail);
        }
        let raw = self.de.scan_str()?;
        let key = match self.de.text(&raw)? {
            Str::Line(s) => seed.deserialize(KeyDe::Line(s))?,
            Str::Scratch(s) => seed.deserialize(KeyDe::Copied(s))?,
        };
        let de = &mut *self.de;
        de.colon(&de.b[raw.start..raw.end])?;
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> R<V::Value> {
        seed.deserialize(&mut *self.de)
    }
}

/// Methods of a deserializer that refuse their form: serde_json, not the fast path, reads it.
macro_rules! refuse {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, _: V) -> R<V::Value> {
                Err(Bail)
            }
        )*
    };
}

/// A key, which serde sees as a string (a field name, or a map's key).
enum KeyDe<'de, 's> {
    Line(&'de str),
    Copied(&'s str),
}

impl<'de> de::Deserializer<'de> for KeyDe<'de, '_> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self {
            KeyDe::Line(s) => v.visit_borrowed_str(s),
            KeyDe::Copied(s) => v.visit_str(s),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_any(v)
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_any(v)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_any(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        v.visit_unit()
    }

    // A key read as anything but a string is serde_json's to judge.
    refuse! { deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32 deserialize_f64 deserialize_char deserialize_bytes deserialize_byte_buf deserialize_option deserialize_unit deserialize_seq deserialize_map }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, _: V) -> R<V::Value> {
        Err(Bail)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, _: V) -> R<V::Value> {
        Err(Bail)
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> R<V::Value> {
        Err(Bail)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _: &'static str, _: usize, _: V) -> R<V::Value> {
        Err(Bail)
    }
    fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], _: V) -> R<V::Value> {
        Err(Bail)
    }
    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], _: V) -> R<V::Value> {
        Err(Bail)
    }
}

macro_rules! numbers {
    ($($method:ident)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
                match self.peek()? {
                    b'-' | b'0'..=b'9' => self.number(v),
                    _ => Err(Bail),
                }
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for &mut De<'de> {
    type Error = Bail;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'n' => {
                self.literal(b"null")?;
                v.visit_unit()
            }
            b't' => {
                self.literal(b"true")?;
                v.visit_bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                v.visit_bool(false)
            }
            b'"' => self.string(v),
            b'[' => self.seq(v),
            b'{' => self.map(v),
            b'-' | b'0'..=b'9' => self.number(v),
            _ => Err(Bail),
        }
    }

    numbers! { deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64 deserialize_f32 deserialize_f64 }

    fn deserialize_i128<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        let t = self.number_at()?;
        delegate(t, |d| de::Deserializer::deserialize_i128(d, v))
    }

    fn deserialize_u128<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        let t = self.number_at()?;
        delegate(t, |d| de::Deserializer::deserialize_u128(d, v))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b't' => {
                self.literal(b"true")?;
                v.visit_bool(true)
            }
            b'f' => {
                self.literal(b"false")?;
                v.visit_bool(false)
            }
            _ => Err(Bail),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'"' => self.string(v),
            _ => Err(Bail),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            v.visit_none()
        } else {
            v.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'n' => {
                self.literal(b"null")?;
                v.visit_unit()
            }
            _ => Err(Bail),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(self, _: &'static str, v: V) -> R<V::Value> {
        self.deserialize_unit(v)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, name: &'static str, v: V) -> R<V::Value> {
        // serde_json reads its RawValue through a private token: that is its own business.
        if name.starts_with("$serde_json") {
            return Err(Bail);
        }
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'[' => self.seq(v),
            _ => Err(Bail),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, v: V) -> R<V::Value> {
        self.deserialize_seq(v)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(self, _: &'static str, _: usize, v: V) -> R<V::Value> {
        self.deserialize_seq(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        match self.peek()? {
            b'{' => self.map(v),
            _ => Err(Bail),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], v: V) -> R<V::Value> {
        // serde_json also reads a struct from an array; that rare form is left to it.
        self.deserialize_map(v)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> R<V::Value> {
        self.skip()?;
        v.visit_unit()
    }

    // Forms the records never take: left to serde_json.
    refuse! { deserialize_char deserialize_bytes deserialize_byte_buf }
    fn deserialize_enum<V: Visitor<'de>>(self, _: &'static str, _: &'static [&'static str], _: V) -> R<V::Value> {
        Err(Bail)
    }
}

#[cfg(test)]
mod tests {
    /// The vector scan against a byte-by-byte one, at every length to 100 (across the 16- and
    /// 32-byte steps), every place of the first stop byte, with a high byte before it, after it
    /// or nowhere.
    #[test]
    fn the_string_scan_finds_what_a_plain_scan_finds() {
        for len in 0..100usize {
            for stop_at in 0..=len {
                for (stop, high_at) in [(b'"', None), (b'\\', Some(0usize)), (0x1f, Some(len / 2)), (b'"', Some(len.saturating_sub(1)))] {
                    let mut b: Vec<u8> = (0..len).map(|k| b"abc {}[]:,0 ~"[k % 13]).collect();
                    if let Some(h) = high_at.filter(|&h| h < len) {
                        b[h] = 0xC3;
                    }
                    if stop_at < len {
                        b[stop_at] = stop;
                    }
                    for from in [0, 1, 7, 16, 33].into_iter().filter(|&f| f <= len) {
                        let at = b[from..].iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20).map_or(len, |p| p + from);
                        let high = b[from..at].iter().any(|&c| c >= 0x80);
                        assert_eq!(super::find_special(&b, from), (at, high), "from {from}: {b:?}");
                    }
                }
            }
        }
    }

    /// Decimals of every length the fast path takes, and forms it must leave alone: where it
    /// answers, the answer is serde_json's to the bit (the sign of zero included).
    #[test]
    fn plain_decimals_are_serde_jsons_to_the_bit() {
        let mut rng: u64 = 0xDEC1;
        let mut cases: Vec<String> = ["0.2", "-0.0", "0.1", "1.5", "123456789.123456789", "99999999999999999.9", "0.000000000000000001", "-12.50"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        for _ in 0..20_000 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let int_len = 1 + (rng % 10) as usize;
            let frac_len = 1 + ((rng >> 8) % 12) as usize;
            let digits: String = (0..int_len + frac_len).map(|k| char::from(b'0' + ((rng >> (k * 3 % 60)) % 10) as u8)).collect();
            let sign = if rng >> 63 == 1 { "-" } else { "" };
            cases.push(format!("{sign}{}.{}", &digits[..int_len], &digits[int_len..]));
        }
        let mut taken = 0;
        for c in &cases {
            let want: f64 = serde_json::from_str(c).unwrap_or_else(|e| panic!("{c}: {e}"));
            if let Some(got) = super::plain_decimal(c.as_bytes()) {
                taken += 1;
                assert_eq!(got.to_bits(), want.to_bits(), "{c}");
            }
        }
        assert!(taken > cases.len() / 2, "{taken}");
        for c in ["1.", ".5", "01.5", "1e5", "1.5e3", "-", "1.2.3", "0.1234567890123456789", "--1.0"] {
            assert_eq!(super::plain_decimal(c.as_bytes()), None, "{c}");
        }
    }
}

//! The fast way through `prepare` for the common case: a template of plain text and plain column
//! references (`{{Context}}`, `{{[Column With Spaces]}}`; no helpers, blocks or partials) is
//! filled by copying segments, and the record is spliced into the family's body, built once with
//! placeholders, with each filled text JSON-escaped in place. The result is byte for byte what
//! the handlebars path and `build_body` + serde_json produce (a differential test holds them
//! together); anything else takes that path.

use handlebars::template::{Parameter, TemplateElement};
use handlebars::{Path as HbPath, PathSeg, Template};

use crate::families::{build_body, BodyOptions, Family};
use crate::table::Cell;

/// Handlebars' built-in helpers: a name-only expression with one of these names is a helper,
/// any other a column.
const HELPERS: &[&str] = &["if", "unless", "each", "with", "lookup", "raw", "eq", "ne", "gt", "gte", "lt", "lte", "and", "or", "not", "len", "log"];

pub(crate) fn is_helper(name: &str) -> bool {
    HELPERS.contains(&name)
}

/// A piece of a plain template.
#[derive(Debug, Clone)]
pub enum Seg {
    Lit(String),
    /// A column, by name (resolved to its index by [`Plain::bind`]).
    Col(String),
}

/// The segments of a template made of plain text and plain column references, else None.
pub fn plain(t: &Template) -> Option<Vec<Seg>> {
    let mut out = Vec::new();
    for e in &t.elements {
        match e {
            TemplateElement::RawString(s) => out.push(Seg::Lit(s.clone())),
            TemplateElement::Comment(_) => {}
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h)
                if h.params.is_empty() && h.hash.is_empty() && h.template.is_none() =>
            {
                match &h.name {
                    Parameter::Path(HbPath::Relative((segs, _))) if segs.len() == 1 => match &segs[0] {
                        PathSeg::Named(n) if n != "this" && !n.starts_with('@') => out.push(Seg::Col(n.clone())),
                        _ => return None,
                    },
                    Parameter::Name(n) if !n.starts_with('@') && n != "this" && !is_helper(n) => {
                        out.push(Seg::Col(n.trim_start_matches('[').trim_end_matches(']').to_string()))
                    }
                    _ => return None,
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

/// A bound segment: text (already JSON-escaped), or a column index.
enum Bound {
    Lit(Vec<u8>),
    Col(usize),
}

/// What goes between the parts of a spliced record.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    Id,
    Prompt,
    System,
}

const ID: &str = "@@bedbatch-record-id-9c1e@@";
const PROMPT: &str = "@@bedbatch-prompt-9c1e@@";
const SYSTEM: &str = "@@bedbatch-system-9c1e@@";

/// The plain templates bound to a header, and the record's bytes around the filled texts.
pub struct Plain {
    prompt: Vec<Bound>,
    system: Option<Vec<Bound>>,
    parts: Vec<Vec<u8>>,
    slots: Vec<Slot>,
    scratch: String,
}

fn bind(segs: &[Seg], header: &[String]) -> Option<Vec<Bound>> {
    segs.iter()
        .map(|s| match s {
            Seg::Lit(t) => {
                let mut escaped = Vec::with_capacity(t.len());
                escape_into(t, &mut escaped);
                Some(Bound::Lit(escaped))
            }
            Seg::Col(c) => header.iter().position(|h| h == c).map(Bound::Col),
        })
        .collect()
}

impl Plain {
    /// None when the family's body does not hold each text exactly once as a JSON string part.
    pub fn bind(prompt: &[Seg], system: Option<&[Seg]>, header: &[String], family: Family, options: &BodyOptions) -> Option<Plain> {
        let body = build_body(family, PROMPT, system.map(|_| SYSTEM), options).ok()?;
        let record = serde_json::to_string(&serde_json::json!({"recordId": ID, "modelInput": body})).ok()?;
        let mut marks: Vec<(usize, Slot, usize)> = Vec::new();
        for (m, slot) in [(ID, Slot::Id), (PROMPT, Slot::Prompt), (SYSTEM, Slot::System)] {
            let found: Vec<usize> = record.match_indices(m).map(|(i, _)| i).collect();
            let want = usize::from(slot != Slot::System || system.is_some());
            if found.len() != want {
                return None;
            }
            marks.extend(found.into_iter().map(|i| (i, slot, m.len())));
        }
        marks.sort_by_key(|m| m.0);
        let (mut parts, mut slots, mut at) = (Vec::new(), Vec::new(), 0);
        for (i, slot, len) in marks {
            parts.push(record.as_bytes()[at..i].to_vec());
            slots.push(slot);
            at = i + len;
        }
        parts.push(record.as_bytes()[at..].to_vec());
        Some(Plain {
            prompt: bind(prompt, header)?,
            system: match system {
                Some(s) => Some(bind(s, header)?),
                None => None,
            },
            parts,
            slots,
            scratch: String::new(),
        })
    }

    /// The record of one row, appended to `out`.
    pub fn record(&mut self, row: &[Cell], id: &str, out: &mut Vec<u8>) {
        for (i, slot) in self.slots.iter().enumerate() {
            out.extend_from_slice(&self.parts[i]);
            match slot {
                Slot::Id => escape_into(id, out),
                Slot::Prompt => fill_escaped(&self.prompt, row, &mut self.scratch, out),
                Slot::System => fill_escaped(self.system.as_deref().unwrap_or_default(), row, &mut self.scratch, out),
            }
        }
        out.extend_from_slice(&self.parts[self.slots.len()]);
    }
}

/// A cell as handlebars renders its JSON value: a string as is, null as nothing, a number as
/// serde_json writes it, a boolean as true or false.
fn push_cell(c: &Cell, out: &mut String) {
    match c {
        Cell::Str(s) => out.push_str(s),
        Cell::Null => {}
        Cell::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        other => match other.to_json() {
            serde_json::Value::Number(n) => out.push_str(&n.to_string()),
            serde_json::Value::String(s) => out.push_str(&s),
            serde_json::Value::Null => {}
            v => out.push_str(&v.to_string()),
        },
    }
}

/// The filled template, JSON-escaped into `out`: each piece escaped on its own is the whole
/// escaped (JSON escapes character by character), so the filled text is never built.
fn fill_escaped(segs: &[Bound], row: &[Cell], scratch: &mut String, out: &mut Vec<u8>) {
    for s in segs {
        match s {
            Bound::Lit(t) => out.extend_from_slice(t),
            Bound::Col(i) => match &row[*i] {
                Cell::Str(text) => escape_into(text, out),
                other => {
                    scratch.clear();
                    push_cell(other, scratch);
                    escape_into(scratch, out);
                }
            },
        }
    }
}

/// JSON string escaping exactly as serde_json writes it (without the quotes): `"` and `\`
/// backslashed, \b \t \n \f \r, other control characters as \u00xx, everything else as is.
///
/// 64 bytes at a time: one SIMD pass marks the bytes that need escaping, and the runs between
/// them are copied 16 bytes a step through a stack copy of the block, with no search or `memcpy`
/// call per escaped byte (a prompt's text has a quote or a line end every few dozen bytes: on
/// `prepare`'s benchmark, escaping with a search per escaped byte was a sixth of all the work,
/// `perf`, benches/table.rs).
pub fn escape_into(s: &str, out: &mut Vec<u8>) {
    let bytes = s.as_bytes();
    let mut blocks = bytes.chunks_exact(64);
    for block in blocks.by_ref() {
        escape_block(block.try_into().expect("a whole block"), 64, out);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut padded = [0u8; 64];
        padded[..tail.len()].copy_from_slice(tail);
        escape_block(&padded, tail.len(), out);
    }
}

/// What each byte that needs escaping becomes, and its length.
const fn escapes() -> [([u8; 8], u8); 256] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut t = [([0u8; 8], 0u8); 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = ([b'\\', b'u', b'0', b'0', HEX[b >> 4], HEX[b & 0xF], 0, 0], 6);
        b += 1;
    }
    t[0x08] = ([b'\\', b'b', 0, 0, 0, 0, 0, 0], 2);
    t[0x09] = ([b'\\', b't', 0, 0, 0, 0, 0, 0], 2);
    t[0x0A] = ([b'\\', b'n', 0, 0, 0, 0, 0, 0], 2);
    t[0x0C] = ([b'\\', b'f', 0, 0, 0, 0, 0, 0], 2);
    t[0x0D] = ([b'\\', b'r', 0, 0, 0, 0, 0, 0], 2);
    t[b'"' as usize] = ([b'\\', b'"', 0, 0, 0, 0, 0, 0], 2);
    t[b'\\' as usize] = ([b'\\', b'\\', 0, 0, 0, 0, 0, 0], 2);
    t
}
static ESCAPES: [([u8; 8], u8); 256] = escapes();

/// Escapes the first `len` bytes of `block` onto `out`.
fn escape_block(block: &[u8; 64], len: usize, out: &mut Vec<u8>) {
    // A stack copy 16 bytes longer than the block: every run is copied in 16-byte steps from it,
    // the last step reading past the run (never past the copy).
    let mut src = [0u8; 80];
    src[..64].copy_from_slice(block);
    let mut mask = special_mask(block) & if len == 64 { !0 } else { (1u64 << len) - 1 };
    // At most 6 bytes out for each byte in, and 16 of slack for the last step of a run.
    out.reserve(64 * 6 + 16);
    let base = out.len();
    let dst = out.spare_capacity_mut().as_mut_ptr().cast::<u8>();
    let mut w = 0usize;
    let mut from = 0usize;
    let copy = |from: usize, to: usize, w: &mut usize| {
        // Up to four 16-byte steps, written out (as a loop the compiler turns it into a call to
        // `memcpy`, which costs more than the copy for runs this short).
        for k in [0, 16, 32, 48] {
            if from + k < to {
                // SAFETY: from + k < 64, so 16 bytes from there are inside `src` (80 bytes);
                // *w + k + 16 stays under the 64 * 6 + 16 bytes reserved (every byte in writes
                // at most 6 out).
                unsafe { std::ptr::copy_nonoverlapping(src.as_ptr().add(from + k), dst.add(*w + k), 16) };
            }
        }
        *w += to - from;
    };
    while mask != 0 {
        let j = mask.trailing_zeros() as usize;
        copy(from, j, &mut w);
        let (esc, n) = &ESCAPES[block[j] as usize];
        // SAFETY: 8 bytes at w, inside the reserve as above.
        unsafe { std::ptr::copy_nonoverlapping(esc.as_ptr(), dst.add(w), 8) };
        w += *n as usize;
        from = j + 1;
        mask &= mask - 1;
    }
    copy(from, len, &mut w);
    // SAFETY: the w bytes after `base` were written above, inside the reserved capacity.
    unsafe { out.set_len(base + w) };
}

/// Bit i set where byte i of the block needs escaping: `"`, `\` or a control character.
#[cfg(target_arch = "x86_64")]
fn special_mask(block: &[u8; 64]) -> u64 {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    let mut m = 0u64;
    // SAFETY: SSE2 is part of every x86_64 target; each 16-byte load at 16 * i is inside the
    // 64-byte block, unaligned.
    unsafe {
        let (q, bs, ctl) = (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(b'\\' as i8), _mm_set1_epi8(0x1F));
        for i in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * i).cast::<__m128i>());
            // v <= 0x1F (unsigned) where min(v, 0x1F) == v.
            let hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, q), _mm_cmpeq_epi8(v, bs)), _mm_cmpeq_epi8(_mm_min_epu8(v, ctl), v));
            m |= u64::from(_mm_movemask_epi8(hit) as u16) << (16 * i);
        }
    }
    m
}

#[cfg(not(target_arch = "x86_64"))]
fn special_mask(block: &[u8; 64]) -> u64 {
    special_mask_scalar(block)
}

/// [`special_mask`] a byte at a time (other targets; and the reference the SIMD one is tested
/// against).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn special_mask_scalar(block: &[u8; 64]) -> u64 {
    block.iter().enumerate().fold(0, |m, (i, &b)| m | u64::from(b == b'"' || b == b'\\' || b < 0x20) << i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn escaping_is_what_serde_json_writes(
            parts in proptest::collection::vec(prop_oneof![Just("\"".to_string()), Just("\\".to_string()), Just("\n".to_string()), Just("\r".to_string()), Just("\u{1}".to_string()), Just("\u{1f}".to_string()), Just("\u{7f}".to_string()), Just("é".to_string()), Just("日本".to_string()), Just("😀".to_string()), Just("abc".to_string()), Just("x".repeat(40)), any::<char>().prop_map(String::from)], 0..90),
            prefix in "[a-z]{0,3}",
        ) {
            let s = parts.concat();
            // Something already in the buffer stays as it was.
            let mut out = prefix.clone().into_bytes();
            escape_into(&s, &mut out);
            let want = serde_json::to_string(&s).unwrap();
            prop_assert_eq!(String::from_utf8(out).unwrap(), format!("{prefix}{}", &want[1..want.len() - 1]));
        }

        #[test]
        fn the_block_mask_is_the_bytes(block in proptest::collection::vec(any::<u8>(), 64)) {
            let block: [u8; 64] = block.try_into().unwrap();
            prop_assert_eq!(special_mask(&block), special_mask_scalar(&block));
        }
    }
    use crate::run::prepare::{records, Prompt, Settings};

    /// Every record of `rows` (JSONL objects) through `prompt`.
    fn run(rows: &[serde_json::Value], prompt: Prompt, family: Family, options: BodyOptions) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        std::fs::write(&path, rows.iter().map(|r| r.to_string() + "\n").collect::<String>()).unwrap();
        let mut table = crate::table::open(&path, crate::table::Format::Jsonl).unwrap();
        let settings = Settings { family, options, id_column: Some("id".into()) };
        let mut out = Vec::new();
        records(table.as_mut(), "t.jsonl", &prompt, &settings, &mut |_, rec| {
            out.push(String::from_utf8(rec.to_vec()).unwrap());
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn the_fast_fill_writes_what_handlebars_and_serde_json_write() {
        let tricky = [
            "plain",
            "",
            "q\"uo\\te",
            "new\nline\r\n\ttab",
            "café 日本 😀",
            "\u{1}\u{1f}\u{7f}",
            "{{not a template}}",
            "@@bedbatch-prompt-9c1e@ near",
        ];
        let rows: Vec<serde_json::Value> = (0..40)
            .map(|i| {
                let t = tricky[i % tricky.len()];
                serde_json::json!({"id": format!("id-\"{i}\"\n"), "a": t, "b c": tricky[(i + 3) % tricky.len()],
                    "n": if i % 3 == 0 { serde_json::json!(null) } else if i % 3 == 1 { serde_json::json!(i) } else { serde_json::json!(i as f64 / 8.0) },
                    "flag": i % 2 == 0})
            })
            .collect();
        let templates = [
            ("Q: {{a}} / {{[b c]}} n={{n}} f={{flag}} {{! a comment }}end", Some("Sys {{a}}")),
            ("{{a}}{{a}}", None),
            ("no columns at all", Some("just text")),
        ];
        let mut families = 0;
        for family in Family::ALL.into_iter().filter(|f| *f != Family::Unknown) {
            for (p, sys) in templates {
                let sys = if family.is_embedding() { None } else { sys };
                let options = BodyOptions { max_tokens: 77, temperature: (!family.is_embedding()).then_some(0.3), top_p: None };
                let fast = Prompt::new(("p", p), sys.map(|s| ("s", s))).unwrap();
                assert!(fast.plain.is_some(), "{p}: plain");
                let plain = fast.plain.as_ref().unwrap();
                let header: Vec<String> = ["id", "a", "b c", "n", "flag"].iter().map(|s| s.to_string()).collect();
                assert!(Plain::bind(&plain.0, plain.1.as_deref(), &header, family, &options).is_some(), "{family:?}: the body splices");
                let slow = Prompt::new(("p", p), sys.map(|s| ("s", s))).unwrap().without_fast_fill();
                assert_eq!(run(&rows, fast, family, options), run(&rows, slow, family, options), "{family:?} {p}");
            }
            families += 1;
        }
        assert_eq!(families, 11);
        // A helper or block keeps handlebars.
        assert!(Prompt::new(("p", "{{#if a}}{{a}}{{/if}}"), None).unwrap().plain.is_none());
        assert!(Prompt::new(("p", "{{lookup this \"a\"}}"), None).unwrap().plain.is_none());
    }

    #[test]
    fn escaping_is_serde_jsons() {
        let mut all = String::new();
        for c in (0u32..0x80).chain([0xE9, 0x2028, 0x1F600]).filter_map(char::from_u32) {
            all.push(c);
        }
        let long: String = (0..300).map(|i| ["ab", "\"", "\\", "\n", "é", "\u{3}", "xyzxyzxyzxyzxyzxyz"][i % 7]).collect();
        let short: String = long.chars().take(33).collect();
        for s in [all.as_str(), "", "plain", "q\"uo\\te\n\r\t\u{8}\u{c}\u{1}\u{1f}\u{7f}", long.as_str(), short.as_str()] {
            let mut ours = Vec::new();
            escape_into(s, &mut ours);
            let theirs = serde_json::to_string(s).unwrap();
            assert_eq!(String::from_utf8(ours).unwrap(), theirs[1..theirs.len() - 1], "{s:?}");
        }
    }
}

//! Finding the records and fields of a CSV file, 64 bytes at a time.
//!
//! A buffer of the file is first indexed whole: for each 64-byte block, one bit a byte says where
//! the quotes, the line feeds and the field ends are. A byte is inside a quoted field when an odd
//! number of quotes comes before it since the record began (a doubled quote inside a quoted field
//! counts twice, so it keeps the parity), which is the prefix XOR of the quote bits: field ends
//! are then the delimiters and line feeds outside quotes. Records and fields are read off those
//! bits, and a quoted field is unquoted from its quote bits, with no search per quote (on
//! `prepare`'s benchmark, text cells with a doubled quote every ~35 bytes, the per-quote `memchr`
//! searches of the reader this replaced were a quarter of the reading thread's time: `perf`,
//! benches/table.rs).
//!
//! The bits read what RFC 4180 writes: a field quoted whole (`"…"`, doubled quotes inside) or
//! holding no quote and no carriage return. A record with anything else (a quote inside an
//! unquoted field, `5'10"`, which is text; a lone carriage return, which ends a record) is read
//! byte by byte by [`scalar`], as the `csv` crate reads it, and so are the next records, a run
//! of them, before the rest of the buffer is indexed again from a record's start (where the
//! parity is known again). A quoted field that does not close at its end is refused either way.

use std::fs::File;
use std::io::Read;

/// Where the reading stands in the file: a buffer of it, indexed.
pub struct Splitter {
    file: File,
    delimiter: u8,
    buf: Vec<u8>,
    /// Bytes of `buf` read from the file; `buf[len..]` is zero up to the next 64-byte block.
    len: usize,
    /// The next record starts at `buf[pos]`.
    pos: usize,
    /// The file offset of `buf[0]`.
    offset: u64,
    eof: bool,
    /// One bit a byte of `buf`: a quote; a line feed; a field end (delimiter or line feed
    /// outside quotes); a byte over 0x7F (none in a field: its text is ASCII, so UTF-8).
    quotes: Vec<u64>,
    lfs: Vec<u64>,
    ends: Vec<u64>,
    high: Vec<u64>,
    /// The longest record read: a quote left open would otherwise take the rest of the file,
    /// whatever its size, into memory before the error.
    max_record: usize,
    /// The buffer's size, to come back to after a long record grew it.
    capacity: usize,
    /// Records left to read byte by byte before indexing again (after an odd record).
    scalar_left: u32,
    /// Where the last record [`Next::Record`] gave starts.
    record_start: usize,
    /// The cells of the last record read byte by byte ([`Next::Parsed`]).
    pub texts: Vec<Vec<u8>>,
}

/// After a record the bits cannot read, the records read byte by byte before indexing again:
/// a file with an odd record every few rows then costs a re-indexing of the buffer's rest every
/// so many records, not every record.
const SCALAR_RUN: u32 = 64;

/// Why the next record could not be read, and the blank lines skipped before it (so the
/// error names the line the record starts on).
pub struct Failure {
    pub what: String,
    pub blank_lines: u64,
}

/// The error of a field that opens a quote and does not close it at its end (RFC 4180,
/// section 2, rules 5-7). The csv crate reads it leniently: `"x"y` as `xy`, and a quote left open
/// takes in every row after it as this cell's text, the rows then missing from the table.
pub fn open_quote(field: usize) -> String {
    format!(
        "field {field} opens a quote that does not close at the field's end: a quoted field ends at its closing quote and a quote inside it is written twice (\"\"), RFC 4180 section 2; a quote left open takes in the rows after it"
    )
}

/// The longest record [`Splitter::new`] reads: far beyond any model's input (a million-token
/// context is a few MB of text), far under the memory of a notebook's machine.
pub const MAX_RECORD: usize = 256 << 20;

/// What the next record is.
pub enum Next {
    /// Its fields, as byte ranges of [`Splitter::bytes`] (a quoted field with its quotes, the
    /// carriage return of a CRLF record end left out), and the number of line feeds inside it.
    Record { newlines: u64, blank_lines: u64 },
    /// No more records.
    End,
    /// A record read byte by byte: its cells' text in [`Splitter::texts`], unquoted.
    Parsed { newlines: u64, blank_lines: u64 },
}

const BLOCK: usize = 64;

impl Splitter {
    pub fn new(file: File, delimiter: u8, capacity: usize, max_record: usize) -> Splitter {
        Splitter {
            max_record,
            capacity: capacity.max(BLOCK),
            scalar_left: 0,
            record_start: 0,
            texts: Vec::new(),
            file,
            delimiter,
            buf: vec![0; capacity.max(BLOCK)],
            len: 0,
            pos: 0,
            offset: 0,
            eof: false,
            quotes: Vec::new(),
            lfs: Vec::new(),
            ends: Vec::new(),
            high: Vec::new(),
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Reads more of the file behind the unread part (moved to the front), growing the buffer
    /// when one record fills it, and indexes it all again.
    fn refill(&mut self) -> std::io::Result<()> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.len, 0);
            self.offset += self.pos as u64;
            self.len -= self.pos;
            self.pos = 0;
        }
        if self.buf.len() > self.capacity && self.len + BLOCK < self.capacity {
            // Back to the usual size after a long record.
            self.buf.truncate(self.capacity);
            self.buf.shrink_to_fit();
        }
        if self.len + BLOCK >= self.buf.len() {
            if self.buf.len() >= self.max_record {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "the record that starts here runs past {} MiB without an end: a quote left open takes in every row after it (a quote inside a quoted field is written twice, RFC 4180 section 2); no model's input is that long",
                        self.max_record >> 20
                    ),
                ));
            }
            let grown = (self.buf.len() * 2).min(self.max_record.max(BLOCK * 2));
            self.buf.resize(grown, 0);
        }
        // Leave room for a whole block of padding after the data.
        let room = self.buf.len() - BLOCK;
        while self.len < room && !self.eof {
            match self.file.read(&mut self.buf[self.len..room]) {
                Ok(0) => self.eof = true,
                Ok(n) => self.len += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let padded = self.len.div_ceil(BLOCK) * BLOCK;
        self.buf[self.len..padded].fill(0);
        self.index(padded);
        Ok(())
    }

    /// The bitmaps of `buf[..upto]` (a whole number of blocks), starting outside quotes.
    fn index(&mut self, upto: usize) {
        let words = upto / BLOCK;
        for v in [&mut self.quotes, &mut self.lfs, &mut self.ends, &mut self.high] {
            v.clear();
            v.resize(words + 1, 0);
        }
        let mut inside = 0u64;
        for (w, block) in self.buf[..upto].chunks_exact(BLOCK).enumerate() {
            let (q, d, n, h) = masks(block.try_into().expect("a whole block"), self.delimiter);
            let within = prefix_xor(q) ^ inside;
            // All ones when the block ends inside quotes.
            inside = ((within >> 63) as u64).wrapping_neg();
            self.quotes[w] = q;
            self.lfs[w] = n;
            self.ends[w] = (d | n) & !within;
            self.high[w] = h;
        }
    }

    /// Reads the next record's fields into `fields` (or its cells into `texts`).
    pub fn next(&mut self, fields: &mut Vec<(usize, usize)>) -> Result<Next, Failure> {
        let mut blank_lines = 0;
        let fail = |e: std::io::Error, blank_lines: u64| Failure {
            what: if e.kind() == std::io::ErrorKind::InvalidData { e.to_string() } else { format!("cannot read: {e}") },
            blank_lines,
        };
        loop {
            fields.clear();
            if self.offset == 0 && self.pos == 0 && self.len == 0 && !self.eof {
                self.refill().map_err(|e| fail(e, blank_lines))?;
                // A UTF-8 byte order mark (Excel writes one) is not part of the first column's name.
                if self.bytes().starts_with(b"\xEF\xBB\xBF") {
                    self.pos = 3;
                }
            }
            if self.pos >= self.len {
                if self.eof {
                    return Ok(Next::End);
                }
                self.refill().map_err(|e| fail(e, blank_lines))?;
                continue;
            }
            if self.scalar_left > 0 {
                match scalar(&self.buf[self.pos..self.len], self.eof, self.delimiter, &mut self.texts) {
                    Scalar::Need => self.refill().map_err(|e| fail(e, blank_lines))?,
                    Scalar::Blank { end, lines } => {
                        blank_lines += lines;
                        self.pos += end;
                    }
                    Scalar::Bad(what) => return Err(Failure { what, blank_lines }),
                    Scalar::Record { end, newlines } => {
                        self.pos += end;
                        self.scalar_left -= 1;
                        if self.scalar_left == 0 {
                            // Index the rest again from this record's start.
                            self.refill().map_err(|e| fail(e, blank_lines))?;
                        }
                        return Ok(Next::Parsed { newlines, blank_lines });
                    }
                }
                continue;
            }
            let mut start = self.pos;
            let end = loop {
                match next_bit(&self.ends, start, self.len) {
                    Some(at) => {
                        fields.push((start, at));
                        if self.buf[at] == b'\n' {
                            break Some(at + 1);
                        }
                        start = at + 1;
                    }
                    None if self.eof => {
                        fields.push((start, self.len));
                        break Some(self.len);
                    }
                    None => break None,
                }
            };
            let Some(end) = end else {
                // The record goes on past what is read.
                self.refill().map_err(|e| fail(e, blank_lines))?;
                continue;
            };
            // The carriage return of a CRLF (or of the last record, at the end of the file).
            let last = fields.last_mut().expect("a record has a field");
            if last.1 > last.0 && self.buf[last.1 - 1] == b'\r' {
                last.1 -= 1;
            }
            let newlines = count_bits(&self.lfs, self.pos, end);
            if fields.len() == 1 && fields[0].0 == fields[0].1 {
                // A blank line: no record, as the csv crate reads it.
                blank_lines += newlines;
                self.pos = end;
                continue;
            }
            for &(a, b) in fields.iter() {
                let raw = &self.buf[a..b];
                let odd = match raw.first() {
                    // A quoted field is checked as it is unquoted ([`Splitter::reread`]).
                    Some(b'"') => false,
                    _ => next_bit(&self.quotes, a, b).is_some() || memchr::memchr(b'\r', raw).is_some(),
                };
                if odd {
                    self.scalar_left = SCALAR_RUN;
                }
            }
            if self.scalar_left > 0 {
                continue;
            }
            self.record_start = self.pos;
            self.pos = end;
            // The record's own line end is not inside it.
            let own = u64::from(self.buf[end - 1] == b'\n');
            return Ok(Next::Record { newlines: newlines - own, blank_lines });
        }
    }

    /// Reads the record [`Next::Record`] just gave again, byte by byte (and a run of records
    /// after it): one of its quoted fields did not unquote. The bits read a lone CR after a
    /// closing quote (`"a"<CR>`, which ends the record) as part of the field; byte by byte it
    /// is read as the `csv` crate reads it, and a field really left open is refused.
    pub fn reread(&mut self) {
        self.pos = self.record_start;
        self.scalar_left = SCALAR_RUN;
    }

    /// Whether `buf[a..b]` is ASCII (so its text is UTF-8 as it is).
    pub fn ascii(&self, (a, b): (usize, usize)) -> bool {
        next_bit(&self.high, a, b).is_none()
    }

    /// The text of the quoted field `buf[a..b]` (quoted whole, every quote inside doubled) into
    /// `out`; None for any other quoting (RFC 4180, section 2, rules 5-7).
    pub fn unquote(&self, (a, b): (usize, usize), out: &mut Vec<u8>) -> Option<()> {
        if b < a + 2 || self.buf[b - 1] != b'"' {
            return None;
        }
        let (mut from, end) = (a + 1, b - 1);
        while let Some(q) = next_bit(&self.quotes, from, end) {
            if q + 1 >= end || self.quotes[(q + 1) / 64] & (1 << ((q + 1) % 64)) == 0 {
                return None;
            }
            // The run and one of the two quotes. (Copied 16 bytes a step instead of by
            // `memcpy`, the runs' overlapping stores stalled the escaping's loads of the same
            // text soon after: +20% in all, A/B.)
            out.extend_from_slice(&self.buf[from..=q]);
            from = q + 2;
        }
        out.extend_from_slice(&self.buf[from..end]);
        Some(())
    }
}

/// What [`scalar`] found at the start of its bytes.
enum Scalar {
    /// The record goes on past the bytes read.
    Need,
    /// A blank line (`lines` line ends), `end` bytes long.
    Blank {
        end: usize,
        lines: u64,
    },
    /// A record `end` bytes long (its line end included), its cells in `texts`.
    Record {
        end: usize,
        newlines: u64,
    },
    Bad(String),
}

/// One record read a byte at a time, as the `csv` crate reads it (RFC 4180; a quote inside an
/// unquoted field is text; CRLF, LF or a lone CR ends a record; a line with nothing on it is
/// no record), but a quoted field must close at its end. `eof`: nothing comes after `data`.
fn scalar(data: &[u8], eof: bool, delimiter: u8, texts: &mut Vec<Vec<u8>>) -> Scalar {
    let mut n = 0;
    let mut i = 0;
    loop {
        if n == texts.len() {
            texts.push(Vec::new());
        }
        let cell = &mut texts[n];
        cell.clear();
        n += 1;
        let quoted = data.get(i) == Some(&b'"');
        if quoted {
            i += 1;
            loop {
                let Some(k) = memchr::memchr(b'"', &data[i..]) else {
                    return if eof { Scalar::Bad(open_quote(n)) } else { Scalar::Need };
                };
                cell.extend_from_slice(&data[i..i + k]);
                i += k + 1;
                match data.get(i) {
                    Some(b'"') => {
                        cell.push(b'"');
                        i += 1;
                    }
                    None if !eof => return Scalar::Need,
                    _ => break,
                }
            }
        } else {
            match memchr::memchr3(delimiter, b'\n', b'\r', &data[i..]) {
                Some(k) => {
                    cell.extend_from_slice(&data[i..i + k]);
                    i += k;
                }
                None if eof => {
                    cell.extend_from_slice(&data[i..]);
                    i = data.len();
                }
                None => return Scalar::Need,
            }
        }
        // What ends the field: a delimiter, a line end, the end of the file.
        let own_lf = match data.get(i) {
            Some(&d) if d == delimiter => {
                i += 1;
                continue;
            }
            None => None,
            Some(b'\n') => {
                i += 1;
                Some(true)
            }
            Some(b'\r') => match data.get(i + 1) {
                Some(b'\n') => {
                    i += 2;
                    Some(true)
                }
                None if !eof => return Scalar::Need,
                _ => {
                    i += 1;
                    Some(false)
                }
            },
            Some(_) => return Scalar::Bad(open_quote(n)),
        };
        texts.truncate(n);
        let lfs = memchr::memchr_iter(b'\n', &data[..i]).count() as u64;
        if n == 1 && !quoted && texts[0].is_empty() {
            return Scalar::Blank { end: i, lines: u64::from(own_lf.is_some()) };
        }
        return Scalar::Record { end: i, newlines: lfs - u64::from(own_lf == Some(true)) };
    }
}

/// The first set bit of `bits` at or after `from` and before `to`.
fn next_bit(bits: &[u64], from: usize, to: usize) -> Option<usize> {
    if from >= to {
        return None;
    }
    let mut w = from / 64;
    let mut word = bits[w] & (!0u64 << (from % 64));
    loop {
        if word != 0 {
            let at = w * 64 + word.trailing_zeros() as usize;
            return (at < to).then_some(at);
        }
        w += 1;
        if w * 64 >= to {
            return None;
        }
        word = bits[w];
    }
}

/// The set bits of `bits` from `from` up to (not with) `to`.
fn count_bits(bits: &[u64], from: usize, to: usize) -> u64 {
    if from >= to {
        return 0;
    }
    let (first, last) = (from / 64, (to - 1) / 64);
    let head = !0u64 << (from % 64);
    let tail = !0u64 >> (63 - (to - 1) % 64);
    if first == last {
        return u64::from((bits[first] & head & tail).count_ones());
    }
    let mut n = u64::from((bits[first] & head).count_ones()) + u64::from((bits[last] & tail).count_ones());
    for w in &bits[first + 1..last] {
        n += u64::from(w.count_ones());
    }
    n
}

/// Bit i set where byte i is within quotes (the opening quote included, the closing one not):
/// the XOR of the quote bits up to and with i.
fn prefix_xor(mut x: u64) -> u64 {
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    x
}

/// The quotes, delimiters, line feeds and bytes over 0x7F of a block, a bit a byte.
#[cfg(target_arch = "x86_64")]
fn masks(block: &[u8; BLOCK], delimiter: u8) -> (u64, u64, u64, u64) {
    use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8};
    let (mut mq, mut md, mut mn, mut mh) = (0u64, 0u64, 0u64, 0u64);
    // SAFETY: SSE2 is part of every x86_64 target; each 16-byte load at 16 * i is inside
    // `block` (64 bytes), unaligned.
    unsafe {
        let (q, d, n) = (_mm_set1_epi8(b'"' as i8), _mm_set1_epi8(delimiter as i8), _mm_set1_epi8(b'\n' as i8));
        for i in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * i).cast::<__m128i>());
            mq |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, q)) as u16) << (16 * i);
            md |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, d)) as u16) << (16 * i);
            mn |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(v, n)) as u16) << (16 * i);
            mh |= u64::from(_mm_movemask_epi8(v) as u16) << (16 * i);
        }
    }
    (mq, md, mn, mh)
}

#[cfg(not(target_arch = "x86_64"))]
fn masks(block: &[u8; BLOCK], delimiter: u8) -> (u64, u64, u64, u64) {
    masks_scalar(block, delimiter)
}

/// [`masks`] a byte at a time (other targets; and the reference the SIMD one is tested against).
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn masks_scalar(block: &[u8; BLOCK], delimiter: u8) -> (u64, u64, u64, u64) {
    let (mut q, mut d, mut n, mut h) = (0u64, 0u64, 0u64, 0u64);
    for (i, b) in block.iter().enumerate() {
        q |= u64::from(*b == b'"') << i;
        d |= u64::from(*b == delimiter) << i;
        n |= u64::from(*b == b'\n') << i;
        h |= u64::from(*b > 0x7F) << i;
    }
    (q, d, n, h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn the_block_masks_are_the_bytes(block in proptest::collection::vec(prop_oneof![Just(b'"'), Just(b','), Just(b'\n'), Just(b'\t'), any::<u8>()], 64), tab in any::<bool>()) {
            let block: [u8; 64] = block.try_into().unwrap();
            let delimiter = if tab { b'\t' } else { b',' };
            prop_assert_eq!(masks(&block, delimiter), masks_scalar(&block, delimiter));
        }

        #[test]
        fn bit_searches_agree_with_a_plain_walk(bits in proptest::collection::vec(any::<u64>().prop_map(|w| w & w.rotate_left(7) & w.rotate_left(19)), 1..5), a in 0usize..320, b in 0usize..320) {
            let len = bits.len() * 64;
            let (a, b) = (a.min(len), b.min(len));
            let set = |i: usize| bits[i / 64] >> (i % 64) & 1 == 1;
            prop_assert_eq!(next_bit(&bits, a, b), (a..b).find(|&i| set(i)));
            prop_assert_eq!(count_bits(&bits, a, b), (a..b).filter(|&i| set(i)).count() as u64);
        }
    }

    #[test]
    fn prefix_xor_marks_the_inside_of_quotes() {
        // Quotes at 1 and 4: bytes 1..=3 inside.
        assert_eq!(prefix_xor(0b10010), 0b01110);
    }
}

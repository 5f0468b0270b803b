//! The byte scans under the fast path: where a string's next quote, backslash or control byte
//! is (SIMD on x86-64), `\u` escapes, the JSON number grammar, and the decimals it computes as
//! serde_json does.

/// The first `"`, `\` or control character at or after `i` (or `b.len()`), and whether a byte
/// ≥ 0x80 comes before it. Keys and short values end within the first sixteen bytes, tested
/// inline; a longer string goes on 32 bytes a step with AVX2 where the CPU has it (checked once
/// at run time), else 16 with SSE2 (every x86-64 has it), a byte a step elsewhere.
#[inline]
pub(crate) fn find_special(b: &[u8], i: usize) -> (usize, bool) {
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
#[inline]
pub(super) fn find_tail(b: &[u8], mut i: usize) -> (usize, bool) {
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
        let (j, h) = crate::validate::fast::scan::find_tail(b, i);
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

#[inline]
pub(super) fn hex4(h: &[u8]) -> Option<u32> {
    let mut n = 0u32;
    for &c in h.get(..4)? {
        n = n * 16 + (c as char).to_digit(16)?;
    }
    Some(n)
}

/// The JSON number grammar, exactly: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
#[inline]
pub(super) fn valid_number(t: &[u8]) -> bool {
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

/// `-?(0|[1-9][0-9]*)\.[0-9]+` with at most 18 digits, as serde_json computes it (without its
/// `float_roundtrip` feature, which nothing here enables): the digits as one integer, over the
/// power of ten of the fraction's length — the same operations on the same values, so the same
/// `f64` to the bit. Anything else is left to serde_json.
#[inline]
pub(super) fn plain_decimal(t: &[u8]) -> Option<f64> {
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

//! Counting a record's text content for the input-token estimate: one scan of the bytes for the
//! characters of text the model reads and the media blocks it holds (the fast path counts by the
//! same key lists while it parses, and is tested against this scan).

/// Keys whose string values are text the model reads: message text and content, prompts, system
/// prompts, texts to embed.
pub const TEXT_KEYS: &[&str] = &["text", "content", "prompt", "system", "inputText", "texts", "input", "value"];
/// Keys that hold an image, document or video block (Converse, Nova).
pub const MEDIA_KEYS: &[&str] = &["image", "document", "video", "audio"];

pub(crate) fn is_text_key(k: &[u8]) -> bool {
    // The same list as TEXT_KEYS, as a match: a dispatch on length, not eight comparisons.
    matches!(k, b"text" | b"content" | b"prompt" | b"system" | b"inputText" | b"texts" | b"input" | b"value")
}

pub(crate) fn is_media_key(k: &[u8]) -> bool {
    matches!(k, b"image" | b"document" | b"video" | b"audio")
}

/// The first `a` or `b` in `hay`. JSON keys and the gaps between strings are short: the first
/// 32 bytes are tested eight at a time in a register, and only a longer stretch goes to
/// memchr's vector search (whose setup costs more than a short key).
#[inline]
fn find2(hay: &[u8], a: u8, b: u8) -> Option<usize> {
    const ONES: u64 = u64::MAX / 255;
    const HIGH: u64 = ONES << 7;
    let (wa, wb) = (ONES * u64::from(a), ONES * u64::from(b));
    let mut at = 0;
    while at + 8 <= hay.len() && at < 32 {
        let w = u64::from_le_bytes(hay[at..at + 8].try_into().unwrap_or([0; 8]));
        // A zero byte of w ^ wa is an `a` (the classic has-zero-byte test; exact for the lowest
        // match, which is the one taken).
        let (xa, xb) = (w ^ wa, w ^ wb);
        let found = ((xa.wrapping_sub(ONES) & !xa) | (xb.wrapping_sub(ONES) & !xb)) & HIGH;
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    if at < 32 {
        // Fewer than eight bytes left.
        return hay[at..].iter().position(|&c| c == a || c == b).map(|p| p + at);
    }
    memchr::memchr2(a, b, &hay[at..]).map(|p| p + at)
}

/// The characters of text content in a JSON record, and how many images, documents and
/// videos it holds. One scan of the bytes: a string followed by `:` is a key; a string value
/// counts when the key before it is one of [`TEXT_KEYS`] (characters, an escape as one); a
/// `"type"` of `image` or `document` (Anthropic) or an object under a [`MEDIA_KEYS`] key
/// (Converse, Nova) is one medium. Malformed JSON gives a partial count, never a panic.
pub fn text_content(b: &[u8]) -> (u64, u64) {
    let (mut chars, mut media) = (0u64, 0u64);
    let mut key: &[u8] = b"";
    let mut i = 0;
    // The next opening quote (a backslash outside a string is skipped as any other byte).
    while let Some(q) = find2(&b[i..], b'"', b'"') {
        let start = i + q + 1;
        // The string's end: the next quote not escaped. Escapes are rare; jump between them.
        let mut j = start;
        let mut escapes = 0u64;
        loop {
            match find2(&b[j..], b'"', b'\\') {
                Some(k) if b[j + k] == b'\\' => {
                    // `\uXXXX` is one character in 6 bytes, `\x` one in 2.
                    let width: usize = if b.get(j + k + 1) == Some(&b'u') { 6 } else { 2 };
                    escapes += width as u64 - 1;
                    j += k + width;
                    if j >= b.len() {
                        j = b.len();
                        break;
                    }
                }
                Some(k) => {
                    j += k;
                    break;
                }
                None => {
                    j = b.len();
                    break;
                }
            }
        }
        let s = &b[start..j];
        i = (j + 1).min(b.len());
        let next = b[i..].iter().position(|c| !c.is_ascii_whitespace()).map(|p| i + p);
        if next.is_some_and(|n| b[n] == b':') {
            key = s;
            if is_media_key(s) {
                let after = next.map(|n| n + 1).unwrap_or(b.len());
                if b[after..].iter().find(|c| !c.is_ascii_whitespace()) == Some(&b'{') {
                    media += 1;
                }
            }
        } else if is_text_key(key) {
            // Characters: bytes, less UTF-8 continuation bytes, less the escapes' extra bytes.
            // Most text is ASCII (checked a word at a time); only other text is counted byte by byte.
            let cont = if s.is_ascii() { 0 } else { s.iter().map(|&c| u64::from((c as i8) < -64)).sum::<u64>() };
            chars += (s.len() as u64).saturating_sub(cont + escapes);
        } else if key == b"type" && (s == b"image" || s == b"document") {
            media += 1;
        }
        if i >= b.len() {
            break;
        }
    }
    (chars, media)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_content_counts_text_not_syntax_and_media_apart() {
        let rec = r#"{"recordId":"abc","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":64,"system":"Be brief.","messages":[{"role":"user","content":[{"type":"text","text":"Summarise caf\u00e9 notes"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},{"role":"assistant","content":"Sure"}]}}"#;
        let (chars, media) = text_content(rec.as_bytes());
        // "Be brief." 9 + "Summarise café notes" 20 + "Sure" 4.
        assert_eq!((chars, media), (33, 1));
        let converse =
            r#"{"modelInput":{"messages":[{"role":"user","content":[{"text":"héllo"},{"image":{"format":"png","source":{"bytes":"AAAA"}}}]}]}}"#;
        assert_eq!(text_content(converse.as_bytes()), (5, 1));
        // Malformed input: a partial count, no panic.
        let _ = text_content(br#"{"text":"unterminated \"#);
    }

    #[test]
    fn find2_finds_what_a_plain_scan_finds() {
        // Every length to 80 and every position of the first match (or none), with bytes that
        // sit next to '"' and '\\' in value and high bytes that could fool the word test.
        let filler = [b'a', b'!', b'#', b'[', b']', 0x80, 0xff, 0x01, b' '];
        for len in 0..80usize {
            for first in (0..=len).step_by(1) {
                for (i, &target) in [b'"', b'\\'].iter().enumerate() {
                    let mut hay: Vec<u8> = (0..len).map(|k| filler[(k * 7 + i + first) % filler.len()]).collect();
                    if first < len {
                        hay[first] = target;
                        if first + 1 < len {
                            hay[first + 1] = b'"';
                        }
                    }
                    let want = hay.iter().position(|&c| c == b'"' || c == b'\\');
                    assert_eq!(find2(&hay, b'"', b'\\'), want, "{hay:?}");
                }
            }
        }
    }

    #[test]
    fn the_key_matches_are_the_key_lists() {
        for k in TEXT_KEYS {
            assert!(is_text_key(k.as_bytes()) && !is_media_key(k.as_bytes()), "{k}");
        }
        for k in MEDIA_KEYS {
            assert!(is_media_key(k.as_bytes()) && !is_text_key(k.as_bytes()), "{k}");
        }
        assert!(!is_text_key(b"type") && !is_text_key(b"texts2") && !is_media_key(b"images"));
        // Keys, gaps and strings longer than the byte-by-byte stretch go to the vector search.
        let long = format!(r#"{{"{}":1, {}"text" : "{}\"{}"}}"#, "k".repeat(40), " ".repeat(40), "a".repeat(50), "b".repeat(30));
        assert_eq!(text_content(long.as_bytes()), (81, 0));
    }
}

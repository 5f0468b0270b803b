//! The validator's tests: the envelope, the file and job counts, each family's shape (a good
//! record and one bad record per rule, [`FAMILY_CASES`]), and the fast path held to serde_json's
//! reports on mutated records of every family.

use super::diags::Code;
use super::engine::{validate_reader, Validator};
use super::fast;
use super::limits::Limits;
use super::report::{Level, Report};
use crate::families::Family;

#[test]
fn the_estimate_is_text_length_over_four_and_a_missing_maximum_counts_at_the_limit() {
    let text = "word ".repeat(200);
    let line = format!(r#"{{"recordId":"a","modelInput":{{"messages":[{{"role":"user","content":[{{"text":"{text}"}}]}}]}}}}"#);
    let limits = Limits { max_output_tokens: Some(5000), ..Limits::default() };
    let mut v = Validator::new(Family::Nova, limits, 3);
    v.feed(line.as_bytes());
    let r = v.finish("x", None);
    let want = text.len() as f64 / 4.0;
    assert!((r.input_tokens_estimate as f64 - want).abs() <= want * 0.1, "{} vs {want}", r.input_tokens_estimate);
    assert_eq!((r.output_tokens_ceiling, r.records_without_max_tokens), (5000, 1));
}

fn run(family: Family, text: &str) -> Report {
    let v = Validator::new(family, Limits { min_records: 1, ..Limits::default() }, 20);
    validate_reader(text.as_bytes(), v, |_| {}).unwrap().finish("t", Some("t.jsonl"))
}

fn codes(r: &Report) -> Vec<&'static str> {
    r.problems.iter().filter(|p| p.level == Level::Error).map(|p| p.code.as_str()).collect()
}

const OK: &str =
    r#"{"recordId":"a","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}}"#;

#[test]
fn all_lists_every_family_once() {
    for (i, f) in Family::ALL.iter().enumerate() {
        assert_eq!(f.ordinal(), i, "{f:?}");
    }
}

#[test]
fn parse_errors_name_a_column_not_a_second_line() {
    let r = run(Family::Anthropic, &format!("{OK}\n{{\"recordId\": \"b\", oops}}\n"));
    let e = &r.problems.iter().find(|p| p.code == Code::InvalidJson).expect("invalid-json").examples[0];
    assert_eq!(e.line, 2);
    assert!(e.message.contains("at column 19") && !e.message.contains("line"), "{}", e.message);
}

#[test]
fn records_with_problems_still_count_their_declared_maximum() {
    let bad_role = OK.replace("\"user\"", "\"assistant\"").replace("\"a\"", "\"b\"");
    let nova_bad = r#"{"recordId":"n","modelInput":{"messages":"x","inferenceConfig":{"maxTokens":7}}}"#;
    let r = run(Family::Anthropic, &format!("{OK}\n{bad_role}\n"));
    assert_eq!(codes(&r), vec!["wrong-shape"]);
    assert_eq!(r.output_tokens_ceiling, 20, "both records declare 10");
    let r = run(Family::Nova, nova_bad);
    assert!(!codes(&r).is_empty());
    assert_eq!(r.output_tokens_ceiling, 7);
    let v = Validator::new(Family::Anthropic, Limits::default(), 20);
    let r = validate_reader(OK.as_bytes(), v, |_| {}).unwrap().finish("t", Some("t.jsonl"));
    assert!(r.problems.iter().flat_map(|p| &p.examples).any(|e| e.message.contains("1 record in the file")), "{r:#?}");
}

#[test]
fn bom_crlf_blank_and_no_final_newline() {
    let text = format!("\u{feff}{OK}\r\n\n{}", OK.replace("\"a\"", "\"b\""));
    let r = run(Family::Anthropic, &text);
    assert_eq!(codes(&r), Vec::<&str>::new(), "{r:#?}");
    assert_eq!((r.records, r.blank_lines), (2, 1));
    assert_eq!(r.output_tokens_ceiling, 20);
}

#[test]
fn duplicates_and_broken_lines_are_located() {
    let text = format!("{OK}\n{{broken\n{OK}\n");
    let r = run(Family::Anthropic, &text);
    assert_eq!(codes(&r), vec!["duplicate-record-id", "invalid-json"]);
    let dup = r.problems.iter().find(|p| p.code.as_str() == "duplicate-record-id").unwrap();
    assert_eq!(dup.examples[0].line, 3);
    assert!(dup.examples[0].message.contains("line 1"));
}

#[test]
fn a_string_field_is_quoted_in_messages_as_written() {
    let line = r#"{"recordId":"a","modelInput":{"messages":[{"role":"system","content":[{"text":"hi"}]}]}}"#;
    let r = run(Family::Nova, line);
    let p = r.problems.iter().find(|p| p.code.as_str() == "wrong-shape").expect("a wrong shape");
    assert!(p.examples[0].message.ends_with(r#"role must be user or assistant, not "system""#), "{}", p.examples[0].message);
}

#[test]
fn anthropic_shape() {
    let bad = OK.replace("bedrock-2023-05-31", "2023-06-01");
    assert_eq!(codes(&run(Family::Anthropic, &bad)), vec!["wrong-shape"]);
    let bad = OK.replace("\"max_tokens\":10", "\"max_tokens\":1.5");
    assert_eq!(codes(&run(Family::Anthropic, &bad)), vec!["wrong-shape"]);
    let bad = OK.replace("\"role\":\"user\"", "\"role\":\"assistant\"");
    assert_eq!(codes(&run(Family::Anthropic, &bad)), vec!["wrong-shape"]);
    let bad = OK.replace("\"hi\"", "[{\"type\":\"audio\"}]");
    assert_eq!(codes(&run(Family::Anthropic, &bad)), vec!["wrong-shape"]);
    let v = Validator::new(
        Family::Anthropic,
        Limits { min_records: 1, max_output_tokens: Some(5), forbids_temperature_with_top_p: true, ..Limits::default() },
        20,
    );
    let r = validate_reader(OK.as_bytes(), v, |_| {}).unwrap().finish("t", None);
    assert_eq!(codes(&r), vec!["max-tokens-over-limit"]);
}

#[test]
fn other_families() {
    assert!(codes(&run(Family::TitanEmbed, r#"{"modelInput":{"inputText":"x"}}"#)).is_empty());
    assert_eq!(codes(&run(Family::TitanEmbed, r#"{"modelInput":{"texts":["x"]}}"#)), vec!["wrong-shape"]);
    assert!(codes(&run(Family::Nova, r#"{"modelInput":{"messages":[{"role":"user","content":[{"text":"x"}]}],"inferenceConfig":{"maxTokens":5}}}"#))
        .is_empty());
    assert_eq!(codes(&run(Family::Nova, r#"{"modelInput":{"messages":[{"role":"user","content":"x"}]}}"#)), vec!["wrong-shape"]);
    assert!(codes(&run(Family::Llama, r#"{"modelInput":{"prompt":"x","max_gen_len":5}}"#)).is_empty());
    assert_eq!(codes(&run(Family::Llama, r#"{"modelInput":{"messages":[]}}"#)), vec!["wrong-shape"]);
    let r = run(Family::Unknown, r#"{"modelInput":{"anything":1}}"#);
    assert!(codes(&r).is_empty() && r.problems.iter().any(|p| p.code.as_str() == "unknown-family"));
    assert_eq!(codes(&run(Family::Unknown, r#"{"modelInput":"text"}"#)), vec!["bad-model-input"]);
}

/// The families added from AWS's model-parameter pages: a good `modelInput`, then one bad
/// one per rule, each with the code it must give.
const FAMILY_CASES: &[(Family, &str, &[&str])] = &[
    (Family::TitanEmbedImage, r#"{"inputText":"a cat"}"#, &[]),
    (Family::TitanEmbedImage, r#"{"inputImage":"iVBORw0KGgo=","embeddingConfig":{"outputEmbeddingLength":384}}"#, &[]),
    (Family::TitanEmbedImage, r#"{"embeddingConfig":{"outputEmbeddingLength":256}}"#, &["wrong-shape"]),
    (Family::TitanEmbedImage, r#"{"inputText":"x","embeddingConfig":{"outputEmbeddingLength":512}}"#, &["wrong-shape"]),
    (Family::Mistral, r#"{"prompt":"<s>[INST] hi [/INST]","max_tokens":50,"stop":["</s>"],"top_k":5}"#, &[]),
    (
        Family::Mistral,
        r#"{"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}],"tool_choice":"auto","max_tokens":9}"#,
        &[],
    ),
    (Family::Mistral, r#"{"max_tokens":9}"#, &["wrong-shape"]),
    (Family::Mistral, r#"{"prompt":"x","messages":[{"role":"user","content":"hi"}]}"#, &["wrong-shape"]),
    (Family::Mistral, r#"{"messages":[{"role":"developer","content":"hi"}]}"#, &["wrong-shape"]),
    (Family::Mistral, r#"{"messages":[{"role":"user","content":"hi"}],"tool_choice":"required"}"#, &["wrong-shape"]),
    (Family::Mistral, r#"{"prompt":"x","max_tokens":0}"#, &["wrong-shape"]),
    (Family::DeepSeek, r#"{"prompt":"why?","max_tokens":2048,"temperature":0.6,"top_p":0.9,"stop":["STOP"]}"#, &[]),
    (Family::DeepSeek, r#"{"max_tokens":10}"#, &["wrong-shape"]),
    (Family::DeepSeek, r#"{"prompt":"x","max_tokens":40000}"#, &["max-tokens-over-limit"]),
    (Family::DeepSeek, r#"{"prompt":"x","temperature":1.5}"#, &["wrong-shape"]),
    (Family::DeepSeek, r#"{"prompt":"x","stop":["a","b","c","d","e","f","g","h","i","j","k"]}"#, &["wrong-shape"]),
    (
        Family::OpenAi,
        r#"{"messages":[{"role":"developer","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"}]}],"max_completion_tokens":500,"reasoning_effort":"low","temperature":1}"#,
        &[],
    ),
    (Family::OpenAi, r#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":20}"#, &[]),
    (Family::OpenAi, r#"{"prompt":"hi"}"#, &["wrong-shape"]),
    (Family::OpenAi, r#"{"messages":[{"role":"robot","content":"hi"}]}"#, &["wrong-shape"]),
    (Family::OpenAi, r#"{"messages":[{"role":"user"}]}"#, &["wrong-shape"]),
    (Family::OpenAi, r#"{"messages":[{"role":"user","content":"hi"}],"reasoning_effort":"extreme"}"#, &["wrong-shape"]),
    (Family::OpenAi, r#"{"messages":[{"role":"user","content":"hi"}],"max_completion_tokens":-1}"#, &["wrong-shape"]),
    // Nova Multimodal Embeddings: a good text and a good image request, then a bad one per rule.
    (
        Family::NovaEmbed,
        r#"{"schemaVersion":"nova-multimodal-embed-v1","taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","embeddingDimension":3072,"text":{"truncationMode":"END","value":"a cat"}}}"#,
        &[],
    ),
    (
        Family::NovaEmbed,
        r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"IMAGE_RETRIEVAL","image":{"format":"png","detailLevel":"STANDARD_IMAGE","source":{"bytes":"iVBORw0KGgo="}}}}"#,
        &[],
    ),
    (
        Family::NovaEmbed,
        r#"{"schemaVersion":"v2","taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","text":{"value":"x"}}}"#,
        &["wrong-shape"],
    ),
    (Family::NovaEmbed, r#"{"singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","text":{"value":"x"}}}"#, &["wrong-shape"]),
    (
        Family::NovaEmbed,
        r#"{"taskType":"EMBED","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","text":{"value":"x"}}}"#,
        &["wrong-shape"],
    ),
    (Family::NovaEmbed, r#"{"taskType":"SINGLE_EMBEDDING"}"#, &["wrong-shape"]),
    (Family::NovaEmbed, r#"{"taskType":"SEGMENTED_EMBEDDING"}"#, &["wrong-shape"]),
    (Family::NovaEmbed, r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"text":{"value":"x"}}}"#, &["wrong-shape"]),
    (
        Family::NovaEmbed,
        r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"SEARCH","text":{"value":"x"}}}"#,
        &["wrong-shape"],
    ),
    (
        Family::NovaEmbed,
        r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","embeddingDimension":512,"text":{"value":"x"}}}"#,
        &["wrong-shape"],
    ),
    (Family::NovaEmbed, r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX"}}"#, &["wrong-shape"]),
    (
        Family::NovaEmbed,
        r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","text":{"value":"x"},"audio":{"format":"mp3","source":{}}}}"#,
        &["wrong-shape"],
    ),
    (
        Family::NovaEmbed,
        r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","text":{}}}"#,
        &["wrong-shape"],
    ),
    (
        Family::NovaEmbed,
        r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","text":{"value":"x","truncationMode":"MIDDLE"}}}"#,
        &["wrong-shape"],
    ),
    (
        Family::NovaEmbed,
        r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","image":{"format":"png"}}}"#,
        &["wrong-shape"],
    ),
    (
        Family::NovaEmbed,
        r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"GENERIC_INDEX","image":{"format":"bmp","source":{}}}}"#,
        &["wrong-shape"],
    ),
    (
        Family::NovaEmbed,
        r#"{"taskType":"SINGLE_EMBEDDING","singleEmbeddingParams":{"embeddingPurpose":"VIDEO_RETRIEVAL","video":{"format":"mp4","source":{},"embeddingMode":"VIDEO_ONLY"}}}"#,
        &["wrong-shape"],
    ),
    // Cohere Embed v3: good texts and a good image, then a bad one per rule.
    (Family::CohereEmbed, r#"{"texts":["a cat","a dog"],"input_type":"search_document","truncate":"END","embedding_types":["float","int8"]}"#, &[]),
    (Family::CohereEmbed, r#"{"images":["data:image/png;base64,iVBORw0KGgo="],"input_type":"image"}"#, &[]),
    (Family::CohereEmbed, r#"{"texts":["x"]}"#, &["wrong-shape"]),
    (Family::CohereEmbed, r#"{"texts":["x"],"input_type":"search"}"#, &["wrong-shape"]),
    (Family::CohereEmbed, r#"{"input_type":"clustering"}"#, &["wrong-shape"]),
    (Family::CohereEmbed, r#"{"texts":["x"],"images":["data:image/png;base64,AA=="],"input_type":"image"}"#, &["wrong-shape"]),
    (Family::CohereEmbed, r#"{"images":["data:image/png;base64,AA==","data:image/png;base64,AA=="],"input_type":"image"}"#, &["wrong-shape"]),
    (Family::CohereEmbed, r#"{"images":["https://example.com/cat.png"],"input_type":"image"}"#, &["wrong-shape"]),
    (Family::CohereEmbed, r#"{"texts":["x"],"input_type":"classification","truncate":"MIDDLE"}"#, &["wrong-shape"]),
    (Family::CohereEmbed, r#"{"texts":["x"],"input_type":"classification","embedding_types":["double"]}"#, &["wrong-shape"]),
];

/// The families added from AWS's model-parameter pages: a good record, then one bad record
/// per rule, each with the code it must give.
#[test]
fn mistral_deepseek_openai_and_titan_multimodal() {
    for (family, input, want) in FAMILY_CASES {
        let r = run(*family, &format!(r#"{{"recordId":"a","modelInput":{input}}}"#));
        assert_eq!(codes(&r), *want, "{family:?} {input}: {:?}", r.problems);
    }
    assert_eq!(Family::guess("us.deepseek.r1-v1:0"), Family::DeepSeek);
    assert_eq!(Family::guess("amazon.titan-embed-image-v1"), Family::TitanEmbedImage);
    assert_eq!(Family::guess("openai.gpt-oss-20b-1:0"), Family::OpenAi);
    assert_eq!(Family::guess("amazon.nova-2-multimodal-embeddings-v1:0"), Family::NovaEmbed);
    assert_eq!(Family::guess("cohere.embed-multilingual-v3"), Family::CohereEmbed);
    assert_eq!(Family::guess("cohere.embed-v4:0"), Family::Unknown, "Embed v4 takes another body");
    // Cohere's per-request limits: 96 texts, 2,048 characters each.
    let many = format!(r#"{{"recordId":"a","modelInput":{{"texts":{},"input_type":"clustering"}}}}"#, serde_json::json!(vec!["x"; 97]));
    assert_eq!(codes(&run(Family::CohereEmbed, &many)), vec!["wrong-shape"]);
    let long = format!(r#"{{"recordId":"a","modelInput":{{"texts":["{}"],"input_type":"clustering"}}}}"#, "é".repeat(2049));
    assert_eq!(codes(&run(Family::CohereEmbed, &long)), vec!["wrong-shape"]);
    // Embeddings declare no output: the ceiling stays 0, and the text counts as input.
    let r = run(Family::CohereEmbed, r#"{"recordId":"a","modelInput":{"texts":["abcdefgh"],"input_type":"clustering"}}"#);
    assert_eq!((r.output_tokens_ceiling, r.records_without_max_tokens, r.input_tokens_estimate), (0, 0, 2));
}

#[test]
fn counts() {
    let v = Validator::new(Family::Anthropic, Limits { min_records: 100, ..Limits::default() }, 20);
    let r = validate_reader(OK.as_bytes(), v, |_| {}).unwrap().finish("t", Some("input.json"));
    assert_eq!(codes(&r), vec!["not-jsonl", "too-few-records"]);
}

#[test]
fn arbitrary_bytes_never_panic() {
    let mut v = Validator::new(Family::Anthropic, Limits::default(), 3);
    for s in [
        &b"\xff\xfe"[..],
        b"{\"modelInput\":",
        b"[]",
        b"{\"recordId\":1}",
        b"\"\\ud800\"",
        b"{\"modelInput\":{\"messages\":[{\"role\":\"user\",\"content\":{}}]}}",
    ] {
        v.feed(s);
    }
    let _ = v.finish("x", None);
}

/// Records every family's fast path must take, and forms it must hand to serde_json.
fn seeds() -> Vec<(Family, String)> {
    let mut seeds: Vec<(Family, String)> =
        FAMILY_CASES.iter().map(|(f, input, _)| (*f, format!(r#"{{"recordId":"a","modelInput":{input}}}"#))).collect();
    seeds.push((Family::Anthropic, OK.to_string()));
    let odd = [
        // Escapes of every kind, a surrogate pair and a lone one, text in several scripts.
        r#"{"recordId":"a\u0062\n","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":9,"system":"s\t\"\\\/\b\f\r","messages":[{"role":"user","content":[{"type":"text","text":"caf\u00e9 😀 \ud83d\ude00 日本語"},{"type":"image","source":{}}]}]}}"#,
        r#"{"recordId":"\ud800","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":9,"messages":[{"role":"user","content":"x"}]}}"#,
        // Numbers: negative zero, exponents, floats, too big for u64, leading zeros.
        r#"{"recordId":"n","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":1e3,"temperature":-0,"top_p":0.5e-1,"messages":[{"role":"user","content":"x"}]}}"#,
        r#"{"recordId":"n","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":18446744073709551616,"messages":[{"role":"user","content":"x"}]}}"#,
        r#"{"recordId":"n","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":123456789012345678,"messages":[{"role":"user","content":"x"}]}}"#,
        r#"{"recordId":"n","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":007,"messages":[{"role":"user","content":"x"}]}}"#,
        // Whitespace everywhere, a struct written as an array, a duplicate key.
        " { \"recordId\" :\t\"w\" ,\r\"modelInput\" : { \"anthropic_version\" : \"bedrock-2023-05-31\" , \"max_tokens\" : 5 , \"messages\" : [ { \"role\" : \"user\" , \"content\" : \"x\" } ] } } ",
        r#"{"recordId":"w","modelInput":["bedrock-2023-05-31",5]}"#,
        r#"{"recordId":"d","recordId":"e","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"messages":[{"role":"user","content":"x"}]}}"#,
        r#"{"recordId":"x","modelInput":{"anthropic_version":"bedrock-2023-05-31","max_tokens":5,"metadata":{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}},"messages":[]}}"#,
        r#"{"recordId":"c","modelInput":{"messages":[{"role":"user","content":[{"text":"x"},{"document":{"format":"pdf","name":"n","source":{"bytes":"AA=="}}}]}],"toolConfig":{"tools":[]}}}"#,
    ];
    for family in Family::ALL {
        seeds.extend(odd.iter().map(|l| (family, l.to_string())));
    }
    seeds
}

/// Changes a record the ways a broken or unusual file would: bytes dropped, doubled or
/// replaced; tokens of JSON, escapes, numbers, text and media keys, bad UTF-8 put in.
fn mutate(line: &mut Vec<u8>, rng: &mut u64) {
    let mut next = |n: usize| {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        (*rng % n.max(1) as u64) as usize
    };
    const TOKENS: &[&[u8]] = &[
        b"\"",
        b"\\",
        b"\\u00e9",
        b"\\ud83d\\ude00",
        b"\\ud800",
        b"\\udc00",
        b"\\n",
        b"\\x",
        b"\\u12",
        "é".as_bytes(),
        "😀".as_bytes(),
        b"\x01",
        b"\x7f",
        b" ",
        b"\t",
        b",",
        b":",
        b"{",
        b"}",
        b"[",
        b"]",
        b"0",
        b"-0",
        b"1e400",
        b"1.5",
        b"-",
        b"1.",
        b".5",
        b"18446744073709551616",
        b"123456789012345678",
        b"1234567890123456789",
        b"true",
        b"null",
        b"nul",
        b"\"text\":\"x\",",
        b"\"content\":\"ab\",",
        b"\"image\":{},",
        b"\"type\":\"image\",",
        b"\"system\":\"s\",",
        b"\xff",
        b"\xc3",
        b"\xed\xa0\x80",
        b",]",
        b",}",
        b"[,",
        b"{,",
        b"\"text\":\"caf\\u00e9\\n\",",
    ];
    for _ in 0..1 + next(3) {
        let at = next(line.len() + 1);
        match next(4) {
            0 if !line.is_empty() => {
                let end = (at + 1 + next(3)).min(line.len());
                line.drain(at.min(end)..end);
            }
            1 => {
                let t = TOKENS[next(TOKENS.len())];
                line.splice(at..at, t.iter().copied());
            }
            2 if at < line.len() => line[at] = b" \"\\{}[],:0a\xc3\xff\x01"[next(14)],
            _ => {
                let end = (at + next(20)).min(line.len());
                let copy = line[at..end].to_vec();
                line.splice(at..at, copy);
            }
        }
    }
}

/// The fast path against serde_json alone, on every seed record and thousands of mutations
/// of them, for every family: the reports (problems and their lines and messages, counts,
/// the text estimate, the output ceiling) must be the same whichever path parsed the line.
/// More cases: BEDBATCH_FAST_DIFF_CASES; another sequence: BEDBATCH_FAST_DIFF_SEED.
#[test]
fn the_fast_path_reports_what_serde_json_reports() {
    let seeds = seeds();
    let cases: usize = std::env::var("BEDBATCH_FAST_DIFF_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let mut rng: u64 = std::env::var("BEDBATCH_FAST_DIFF_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(0x5EED_F00D) | 1;
    let limits = || Limits { min_records: 1, max_output_tokens: Some(4096), forbids_temperature_with_top_p: true, ..Limits::default() };
    let mut fast_taken = 0;
    // Five lines a job, so duplicates and line numbers are compared too.
    for chunk in 0..cases.div_ceil(5) {
        let family = Family::ALL[chunk % Family::ALL.len()];
        let mut fast = Validator::new(family, limits(), 5);
        let mut slow = Validator::new(family, limits(), 5).serde_only();
        let mut lines = Vec::new();
        for _ in 0..5 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let (_, seed) = &seeds[rng as usize % seeds.len()];
            let mut line = seed.clone().into_bytes();
            if rng % 4 != 0 {
                mutate(&mut line, &mut rng);
            }
            fast.feed(&line);
            slow.feed(&line);
            lines.push(String::from_utf8_lossy(&line).into_owned());
        }
        fast_taken += fast.fast_lines;
        assert_eq!(slow.fast_lines, 0);
        assert_eq!((fast.input_chars, fast.media), (slow.input_chars, slow.media), "{family:?} lines:\n{}", lines.join("\n"));
        let (f, s) = (fast.finish("t", None), slow.finish("t", None));
        assert_eq!(serde_json::to_string_pretty(&f).unwrap(), serde_json::to_string_pretty(&s).unwrap(), "{family:?} lines:\n{}", lines.join("\n"));
    }
    assert!(fast_taken > cases as u64 / 10, "the fast path took only {fast_taken} of {cases} lines");
}

/// The fast parser against serde_json on any JSON (a `Value`, so no shape error hides a
/// grammar one): where it accepts a line, serde_json accepts it too, with the same value.
#[test]
fn the_fast_parser_accepts_only_what_serde_json_accepts() {
    let seeds = seeds();
    let mut rng: u64 = 0xA11CE;
    let mut accepted = 0;
    for _ in 0..20_000 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let mut line = seeds[rng as usize % seeds.len()].1.clone().into_bytes();
        mutate(&mut line, &mut rng);
        if let Some((v, _)) = fast::from_slice::<serde_json::Value>(&line) {
            accepted += 1;
            let want: serde_json::Value = serde_json::from_slice(&line).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&line)));
            assert_eq!(v, want, "{}", String::from_utf8_lossy(&line));
        }
    }
    assert!(accepted > 2_000, "only {accepted} lines accepted");
}

/// Every record the tests call good takes the fast path, in every family but the unknown one
/// (whose modelInput only serde_json reads).
#[test]
fn good_records_take_the_fast_path() {
    for (family, line) in seeds() {
        let mut v = Validator::new(family, Limits::default(), 5);
        v.feed(line.as_bytes());
        let good = FAMILY_CASES.iter().any(|(f, input, want)| *f == family && want.is_empty() && line.contains(input)) || line == OK;
        if good {
            assert_eq!(v.fast_lines, u64::from(family != Family::Unknown), "{family:?} {line}");
        }
    }
    for line in [r#"{"recordId":"\ud800","modelInput":{}}"#, r#"{"recordId":"n","modelInput":{"max_tokens":007}}"#] {
        let mut v = Validator::new(Family::Anthropic, Limits::default(), 5);
        v.feed(line.as_bytes());
        assert_eq!(v.fast_lines, 0, "{line} is serde_json's to judge");
    }
}

//! From a table to a table, through the binary: `prepare`, `run start DATA --prompt…` and
//! `run collect -o results.{csv,parquet,jsonl}` against the emulator. Every input cell comes back
//! as read, every row comes back in input order whatever became of it, answers are read in each
//! family's own output shape (Converse included), and the actual tokens and cost are the sums of
//! the emulator's usage.
//!
//! Each test uses a model no other suite uses, so their quotas never collide.

mod common;
use common::*;

use std::sync::Arc;

use arrow_array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use serde_json::{json, Value};

/// Cells that break naive CSV handling: commas, doubled quotes, newlines (LF and CRLF inside a
/// quoted field), unicode, an empty cell.
fn tricky(i: usize) -> (String, String) {
    let q = match i % 5 {
        0 => format!("Is {i}, or not, \"the\" answer?"),
        1 => format!("line one of {i}\nline two\r\nline three"),
        2 => format!("café {i} — naïve 日本"),
        3 => String::new(),
        _ => format!("plain {i}"),
    };
    (format!("ctx {i}"), q)
}

/// Writes the tricky table as CSV with a BOM and CRLF records, fields quoted by the csv crate.
fn write_csv(path: &str, rows: usize) -> Vec<Vec<String>> {
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(vec![]);
    let header = vec!["id".to_string(), "Context".to_string(), "The Question".to_string()];
    w.write_record(&header).unwrap();
    let mut all = vec![header];
    for i in 1..=rows {
        let (c, q) = tricky(i);
        let rec = vec![format!("{i}"), c, q];
        w.write_record(&rec).unwrap();
        all.push(rec);
    }
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend(w.into_inner().unwrap());
    std::fs::write(path, bytes).unwrap();
    all
}

fn read_csv(path: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_path(path).unwrap();
    r.records().map(|x| x.unwrap().iter().map(String::from).collect()).collect()
}

fn read_parquet(path: &str) -> Vec<RecordBatch> {
    let f = std::fs::File::open(path).unwrap();
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(f).unwrap().build().unwrap().map(|b| b.unwrap()).collect()
}

fn prices() -> Value {
    serde_json::from_str(&std::fs::read_to_string(project_root().join("policies/prices.json")).unwrap()).unwrap()
}

const PROMPT: &str = "Context: {{Context}}\nQuestion: {{[The Question]}}";

/// `run start TABLE` with these flags, to its end; its run id and report (exit 0 asserted).
fn start_table(env: &RunEnv, table: &str, flags: &[&str]) -> (String, Value) {
    let mut a = vec!["run", "start", table, "--yes", "--poll-interval-ms", "10"];
    a.extend(flags);
    let (code, v) = env.json(&a);
    assert_eq!(code, 0, "{v:#}");
    (v["run_id"].as_str().unwrap().to_string(), v)
}

#[tokio::test]
async fn a_csv_round_trips_to_a_results_table_cell_for_cell() {
    const MODEL: &str = "anthropic.claude-3-5-sonnet-20240620-v1:0";
    let env = RunEnv::new("tblcsv", MODEL).await;
    let data = env.path("data.csv");
    let original = write_csv(&data, 130);
    let (code, v) = env.json(&["run", "start", &data, "--prompt-text", PROMPT, "--max-tokens", "64", "--yes", "--poll-interval-ms", "10"]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["verdict"], "completed", "{v:#}");
    assert_eq!(v["records"], 130);
    let run_id = v["run_id"].as_str().unwrap().to_string();

    // CSV: the header is the input's, then the added columns; every input cell as read.
    let out = env.path("results.csv");
    let (code, c) = env.json(&["run", "collect", &run_id, "-o", &out]);
    assert_eq!(code, 0, "{c:#}");
    assert_eq!(c["rows"], 130);
    assert_eq!(c["records_ok"], 130);
    let got = read_csv(&out);
    assert_eq!(got.len(), 131);
    assert_eq!(
        got[0],
        [
            "id",
            "Context",
            "The Question",
            "record_id",
            "status",
            "output_text",
            "stop_reason",
            "input_tokens",
            "output_tokens",
            "error_code",
            "error_message"
        ]
    );
    for (i, row) in got.iter().enumerate().skip(1) {
        assert_eq!(&row[..3], &original[i][..], "row {i}: input cells as read");
        assert_eq!(row[3], format!("r{i:010}"), "row {i}: the id from the row number");
        assert_eq!(row[4], "ok");
        assert!(row[5].starts_with("Emulated answer to "), "{row:?}");
        assert_eq!(row[6], "end_turn");
        assert!(row[7].parse::<u64>().unwrap() > 0 && row[8].parse::<u64>().unwrap() > 0);
        assert_eq!((row[9].as_str(), row[10].as_str()), ("", ""));
    }
    // The answer is the emulator's to *this* row's prompt: rows with equal prompts would be the
    // only way two answers match, and no two rows here have equal prompts.
    let answers: std::collections::HashSet<&String> = got.iter().skip(1).map(|r| &r[5]).collect();
    assert_eq!(answers.len(), 130, "each row its own answer (joined by recordId, not position)");

    // Actual tokens: the jobs' manifest.json.out totals equal the sum of each record's usage,
    // and the cost is those tokens at the batch price.
    let tin: u64 = got.iter().skip(1).map(|r| r[7].parse::<u64>().unwrap()).sum();
    let tout: u64 = got.iter().skip(1).map(|r| r[8].parse::<u64>().unwrap()).sum();
    assert_eq!((c["input_tokens"].as_u64(), c["output_tokens"].as_u64()), (Some(tin), Some(tout)), "{c:#}");
    assert_eq!((c["record_input_tokens"].as_u64(), c["record_output_tokens"].as_u64()), (Some(tin), Some(tout)));
    let p = &prices()["models"][MODEL];
    let want = (tin as f64 * p["input"].as_f64().unwrap() + tout as f64 * p["output"].as_f64().unwrap()) * 0.5 / 1e6;
    assert!((c["cost_usd"].as_f64().unwrap() - want).abs() < 1e-12, "{c:#} vs {want}");
    let (code, s) = env.json(&["run", "status", &run_id]);
    assert_eq!(code, 0);
    assert_eq!((s["input_tokens"].as_u64(), s["output_tokens"].as_u64()), (Some(tin), Some(tout)));
    assert!(s["estimated_cost_usd"]["high"].as_f64().unwrap() >= s["cost_usd"].as_f64().unwrap(), "{s:#}");
    assert_eq!(s["records_processed"], 130);

    // Parquet and JSONL from the same run: the same cells.
    let pq = env.path("results.parquet");
    assert_eq!(env.json(&["run", "collect", &run_id, "-o", &pq]).0, 0);
    let batches = read_parquet(&pq);
    let n: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(n, 130);
    let b = arrow_select_concat(&batches);
    let q = b.column_by_name("The Question").unwrap().as_any().downcast_ref::<StringArray>().unwrap();
    let it = b.column_by_name("input_tokens").unwrap().as_any().downcast_ref::<Int64Array>().unwrap();
    for i in 0..130 {
        assert_eq!(q.value(i), original[i + 1][2]);
        assert_eq!(it.value(i).to_string(), got[i + 1][7]);
    }
    let jl = env.path("results.jsonl");
    assert_eq!(env.json(&["run", "collect", &run_id, "-o", &jl]).0, 0);
    let rows: Vec<Value> = std::fs::read_to_string(&jl).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 130);
    assert_eq!(rows[1]["The Question"], original[2][2].as_str());
    assert_eq!(rows[1]["status"], "ok");

    // A name clash with an added column is refused, naming it; --prefix resolves it.
    let clash = env.path("clash.csv");
    std::fs::write(&clash, "status,Context,The Question\n".to_string() + &(1..=101).map(|i| format!("s{i},c{i},q{i}\n")).collect::<String>())
        .unwrap();
    let (code, v) = env.json(&["run", "start", &clash, "--prompt-text", PROMPT, "--yes", "--poll-interval-ms", "10"]);
    assert_eq!(code, 0, "{v:#}");
    let rid = v["run_id"].as_str().unwrap().to_string();
    let (code, e) = env.json(&["run", "collect", &rid, "-o", &env.path("clash-out.csv")]);
    assert_eq!(code, 2, "{e:#}");
    assert!(e["error"]["message"].as_str().unwrap().contains("\"status\"") && e["error"]["message"].as_str().unwrap().contains("--prefix"), "{e:#}");
    let (code, _) = env.json(&["run", "collect", &rid, "-o", &env.path("clash-out.csv"), "--prefix", "bedrock_"]);
    assert_eq!(code, 0);
    let got = read_csv(&env.path("clash-out.csv"));
    assert_eq!(&got[0][..5], ["status", "Context", "The Question", "bedrock_record_id", "bedrock_status"]);
    assert_eq!(got[5][0], "s5");

    // The table sorted in place (two rows swapped: the same size): its rows are no longer the
    // run's, so the run's copy is read, not the file joined by row number to the wrong answers.
    let size = std::fs::metadata(&data).unwrap().len();
    let mut swapped = original.clone();
    swapped.swap(1, 2);
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(b"\xEF\xBB\xBF".to_vec());
    swapped.iter().for_each(|r| w.write_record(r).unwrap());
    std::fs::write(&data, w.into_inner().unwrap()).unwrap();
    assert_eq!(std::fs::metadata(&data).unwrap().len(), size);
    let sorted = env.path("sorted.csv");
    assert_eq!(env.json(&["run", "collect", &run_id, "-o", &sorted]).0, 0);
    assert_eq!(read_csv(&sorted), read_csv(&out), "the run's rows, each with its own answer");

    // Collect on a machine without the table: the run's own copy in S3 is read.
    std::fs::remove_file(&data).unwrap();
    let again = env.path("again.csv");
    assert_eq!(env.json(&["run", "collect", &run_id, "-o", &again]).0, 0);
    assert_eq!(read_csv(&again), read_csv(&out));
}

/// Concatenates batches of one schema (the files here hold one or two).
fn arrow_select_concat(batches: &[RecordBatch]) -> RecordBatch {
    if batches.len() == 1 {
        return batches[0].clone();
    }
    let schema = batches[0].schema();
    let cols: Vec<Arc<dyn Array>> = (0..schema.fields().len())
        .map(|j| {
            let parts: Vec<&dyn Array> = batches.iter().map(|b| b.column(j).as_ref()).collect();
            arrow_concat(&parts)
        })
        .collect();
    RecordBatch::try_new(schema, cols).unwrap()
}

fn arrow_concat(parts: &[&dyn Array]) -> Arc<dyn Array> {
    // Only the column types these tests read back.
    if parts[0].as_any().downcast_ref::<StringArray>().is_some() {
        let v: Vec<Option<&str>> = parts.iter().flat_map(|p| p.as_any().downcast_ref::<StringArray>().unwrap().iter()).collect();
        return Arc::new(StringArray::from(v));
    }
    if parts[0].as_any().downcast_ref::<Int64Array>().is_some() {
        let v: Vec<Option<i64>> = parts.iter().flat_map(|p| p.as_any().downcast_ref::<Int64Array>().unwrap().iter()).collect();
        return Arc::new(Int64Array::from(v));
    }
    if parts[0].as_any().downcast_ref::<Float64Array>().is_some() {
        let v: Vec<Option<f64>> = parts.iter().flat_map(|p| p.as_any().downcast_ref::<Float64Array>().unwrap().iter()).collect();
        return Arc::new(Float64Array::from(v));
    }
    parts[0].slice(0, parts[0].len())
}

#[tokio::test]
async fn parquet_and_jsonl_tables_round_trip_with_their_types() {
    const MODEL: &str = "amazon.nova-pro-v1:0";
    let env = RunEnv::new("tblpq", MODEL).await;
    // What DataFrame.to_parquet writes: int64, double (with a null), string, snappy pages.
    let n = 150i64;
    let schema = Arc::new(arrow_schema::Schema::new(vec![
        arrow_schema::Field::new("row", arrow_schema::DataType::Int64, true),
        arrow_schema::Field::new("score", arrow_schema::DataType::Float64, true),
        arrow_schema::Field::new("text", arrow_schema::DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from((1..=n).collect::<Vec<_>>())),
            Arc::new(Float64Array::from((1..=n).map(|i| if i % 7 == 0 { None } else { Some(i as f64 / 4.0) }).collect::<Vec<_>>())),
            Arc::new(StringArray::from((1..=n).map(|i| Some(format!("text, \"{i}\"\nmore"))).collect::<Vec<_>>())),
        ],
    )
    .unwrap();
    let data = env.path("data.parquet");
    let props = parquet::file::properties::WriterProperties::builder().set_compression(parquet::basic::Compression::SNAPPY).build();
    let mut w = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(&data).unwrap(), schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let (code, v) =
        env.json(&["run", "start", &data, "--prompt-text", "Score {{score}} for row {{row}}: {{text}}", "--yes", "--poll-interval-ms", "10"]);
    assert_eq!(code, 0, "{v:#}");
    let run_id = v["run_id"].as_str().unwrap().to_string();
    let pq = env.path("out.parquet");
    let (code, c) = env.json(&["run", "collect", &run_id, "-o", &pq]);
    assert_eq!(code, 0, "{c:#}");
    let out = arrow_select_concat(&read_parquet(&pq));
    // The input columns keep their types and values, nulls included.
    for name in ["row", "score", "text"] {
        let a = out.column_by_name(name).unwrap();
        let b = batch.column_by_name(name).unwrap();
        assert_eq!(a.data_type(), b.data_type(), "{name}");
        assert_eq!(a.to_data(), b.to_data(), "{name}: equal cell for cell");
    }
    let status = out.column_by_name("status").unwrap().as_any().downcast_ref::<StringArray>().unwrap();
    assert!(status.iter().all(|s| s == Some("ok")));

    // A table of JSONL flat objects, collected to JSONL: every key and value back as read.
    let lines: Vec<String> = (1..=120)
        .map(|i| {
            json!({"n": i, "flag": i % 2 == 0, "q": format!("q{i}"), "maybe": if i % 3 == 0 { Value::Null } else { json!(i as f64 + 0.5) },
                "mixed": if i % 2 == 1 { json!(i) } else { json!(i as f64 + 0.25) }})
            .to_string()
        })
        .collect();
    let data = env.input("flat.jsonl", &lines);
    let (code, v) = env.json(&["run", "start", &data, "--prompt-text", "{{q}} {{n}}", "--yes", "--poll-interval-ms", "10"]);
    assert_eq!(code, 0, "{v:#}");
    let rid = v["run_id"].as_str().unwrap().to_string();
    let out = env.path("flat-out.jsonl");
    assert_eq!(env.json(&["run", "collect", &rid, "-o", &out]).0, 0);
    let back: Vec<Value> = std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(back.len(), 120);
    for (line, row) in lines.iter().zip(&back) {
        let orig: Value = serde_json::from_str(line).unwrap();
        for (k, val) in orig.as_object().unwrap() {
            assert_eq!(&row[k], val, "{k}");
        }
        assert_eq!(row["status"], "ok");
    }
    // To Parquet: a column of integers with decimals further down is a column of doubles (the
    // whole file's type, not its first row's).
    let pq = env.path("flat-out.parquet");
    let (code, c) = env.json(&["run", "collect", &rid, "-o", &pq]);
    assert_eq!(code, 0, "{c:#}");
    let out = arrow_select_concat(&read_parquet(&pq));
    let mixed = out.column_by_name("mixed").unwrap().as_any().downcast_ref::<Float64Array>().expect("a double column");
    assert_eq!((mixed.value(0), mixed.value(1)), (1.0, 2.25));
    assert!(out.column_by_name("n").unwrap().as_any().downcast_ref::<Int64Array>().is_some(), "integers stay integers");
}

#[test]
fn prepare_refuses_bad_tables_before_writing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t.csv");
    std::fs::write(&data, "id,Context\n1,a\n2,b\n1,c\n").unwrap();
    let out = dir.path().join("out.jsonl");
    let prepare = |extra: &[&str]| {
        let mut a = vec!["prepare", data.to_str().unwrap(), "-o", out.to_str().unwrap(), "--model-id", HAIKU, "--region", REGION, "--output", "json"];
        a.extend(extra);
        let o = run(bare_command(dir.path()), &a);
        (o.status.code().unwrap(), serde_json::from_slice::<Value>(&o.stdout).unwrap_or_else(|_| json!({"stderr": stderr(&o)})))
    };
    // A column the header lacks: named, with the header listed.
    let (code, e) = prepare(&["--prompt-text", "{{Context}} {{Missing Col}} {{[Other One]}}"]);
    assert_eq!(code, 2, "{e:#}");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.contains("\"Other One\"") && msg.contains("its columns are: \"id\", \"Context\""), "{msg}");
    assert!(!out.exists());
    // Duplicate ids: both rows named.
    let (code, e) = prepare(&["--prompt-text", "{{Context}}", "--id-column", "id"]);
    assert_eq!(code, 2, "{e:#}");
    let msg = e["error"]["message"].as_str().unwrap();
    assert!(msg.contains("\"1\"") && msg.contains("rows 1 and 3"), "{msg}");
    assert!(!out.exists(), "nothing is left behind");
    // A template syntax error: its line and column.
    let (code, e) = prepare(&["--prompt-text", "ok\n{{#if Context}} never closed"]);
    assert_eq!(code, 2, "{e:#}");
    assert!(e["error"]["message"].as_str().unwrap().contains("line 2"), "{e:#}");
    // A broken CSV row names its line.
    std::fs::write(&data, "id,Context\n1,a\n2,b,extra\n").unwrap();
    let (code, e) = prepare(&["--prompt-text", "{{Context}}"]);
    assert_eq!(code, 2, "{e:#}");
    assert!(e["error"]["message"].as_str().unwrap().contains("line 3"), "{e:#}");
    // Flags the family does not take are refused, not ignored.
    std::fs::write(&data, "id,Context\n1,a\n").unwrap();
    let o = run(
        bare_command(dir.path()),
        &[
            "prepare",
            data.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--model-id",
            "amazon.titan-embed-text-v2:0",
            "--region",
            REGION,
            "--prompt-text",
            "{{Context}}",
            "--temperature",
            "0.5",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--temperature") && stderr(&o).contains("embedding"), "{}", stderr(&o));
    // `prepare` of the table into `o` with the Claude prompt, and `extra` flags.
    let with_out = |o: &std::path::Path, extra: &[&str]| {
        let mut a = vec![
            "prepare",
            data.to_str().unwrap(),
            "-o",
            o.to_str().unwrap(),
            "--model-id",
            HAIKU,
            "--region",
            REGION,
            "--prompt-text",
            "{{Context}}",
        ];
        a.extend(extra);
        run(bare_command(dir.path()), &a)
    };
    // Sampling values JSON cannot hold, or no model takes, are refused at the command line
    // (NaN used to be written as null); a huge --max-tokens is no overflow.
    for (flag, value) in [("--temperature", "NaN"), ("--temperature", "-1"), ("--temperature", "inf"), ("--top-p", "1.5")] {
        let o = with_out(&out, &[&format!("{flag}={value}")]);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}", stderr(&o));
        assert!(stderr(&o).contains(flag), "{}", stderr(&o));
        assert!(!out.exists());
    }
    std::fs::write(&data, "id,Context\n1,a\n2,b\n").unwrap();
    let (code, v) = prepare(&["--prompt-text", "{{Context}}", "--max-tokens", "18446744073709551615"]);
    assert!(code == 0 || code == 1, "no panic: {v:#}");
    assert!(!v.to_string().contains("panicked"), "{v:#}");
    let _ = std::fs::remove_file(&out);
    // An existing OUT: replaced only with --force, each earlier file kept (OUT.bak, then
    // OUT.bak.1); an OUT that is a folder is refused, never moved aside.
    let kept = dir.path().join("kept.jsonl");
    std::fs::write(&kept, "first\n").unwrap();
    assert_eq!(with_out(&kept, &[]).status.code(), Some(2), "not without --force");
    assert_eq!(std::fs::read_to_string(&kept).unwrap(), "first\n");
    assert!(with_out(&kept, &["--force"]).status.code().unwrap() <= 1);
    std::fs::write(&kept, "second\n").unwrap();
    assert!(with_out(&kept, &["--force"]).status.code().unwrap() <= 1);
    assert_eq!(std::fs::read_to_string(dir.path().join("kept.jsonl.bak")).unwrap(), "first\n");
    assert_eq!(std::fs::read_to_string(dir.path().join("kept.jsonl.bak.1")).unwrap(), "second\n");
    let folder = dir.path().join("a-folder");
    std::fs::create_dir(&folder).unwrap();
    let o = with_out(&folder, &["--force"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("not a regular file") && folder.is_dir(), "{}", stderr(&o));
    // A good table: records that validate passes, empty cells counted, ids from the column.
    std::fs::write(&data, "id,Context\nA-1,hello\nA-2,\nA-3,\"x, \"\"y\"\"\"\n").unwrap();
    let (code, v) = prepare(&["--prompt-text", "Say: {{Context}}", "--id-column", "id", "--system-text", "Be brief."]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["empty_cells"]["Context"], 1);
    let recs: Vec<Value> = std::fs::read_to_string(&out).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(recs.iter().map(|r| r["recordId"].as_str().unwrap()).collect::<Vec<_>>(), ["A-1", "A-2", "A-3"]);
    assert_eq!(recs[2]["modelInput"]["messages"][0]["content"][0]["text"], "Say: x, \"y\"");
    assert_eq!(recs[0]["modelInput"]["system"], "Be brief.");
    assert_eq!(recs[0]["modelInput"]["max_tokens"], 1024, "the stated default");
    // The text output says the job minimum too (it used to be in the JSON only).
    let text_out = dir.path().join("text.jsonl");
    let o = with_out(&text_out, &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let said = String::from_utf8_lossy(&o.stdout).to_string() + &stderr(&o);
    assert!(said.contains("note: 3 records: a batch job needs at least"), "{said}");
    let o =
        run(bare_command(dir.path()), &["validate", out.to_str().unwrap(), "--model-id", HAIKU, "--region", REGION, "--offline", "--output", "json"]);
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(r["problems"].as_array().unwrap().iter().all(|p| p["code"] == "too-few-records"), "{r:#}");
}

/// Titan Text Embeddings V2 takes at most 50,000 characters (AWS, "Amazon Titan Text Embeddings
/// models"): a longer row is a record that breaks validate's rules (exit 1), 50,000 is not.
#[test]
fn titan_embeddings_input_is_bounded_at_50000_characters() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t.csv");
    let out = dir.path().join("out.jsonl");
    for (n, want) in [(50_000usize, 0), (50_001, 1)] {
        std::fs::write(&data, format!("id,text\n1,{}\n", "é".repeat(n))).unwrap();
        let _ = std::fs::remove_file(&out);
        let o = run(
            bare_command(dir.path()),
            &[
                "prepare",
                data.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
                "--model-id",
                "amazon.titan-embed-text-v2:0",
                "--region",
                REGION,
                "--prompt-text",
                "{{text}}",
                "--output",
                "json",
            ],
        );
        assert_eq!(o.status.code(), Some(want), "{n}: {} {}", String::from_utf8_lossy(&o.stdout), stderr(&o));
        if want == 1 {
            assert!(String::from_utf8_lossy(&o.stdout).contains("50,000"), "{}", String::from_utf8_lossy(&o.stdout));
        }
    }
}

/// An integer no 64-bit integer holds is refused in a JSONL table, naming its line and key (it
/// used to become the nearest double: digits lost, and two ids made one); written as a decimal,
/// it is a double as before.
#[test]
fn a_jsonl_integer_beyond_64_bits_is_refused_not_rounded() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("t.jsonl");
    let out = dir.path().join("out.jsonl");
    let prepare = || {
        run(
            bare_command(dir.path()),
            &["prepare", data.to_str().unwrap(), "-o", out.to_str().unwrap(), "--model-id", HAIKU, "--region", REGION, "--prompt-text", "n={{n}}"],
        )
    };
    std::fs::write(&data, "{\"id\":\"a\",\"n\":1}\n{\"id\":\"b\",\"n\":12345678901234567890123}\n").unwrap();
    let o = prepare();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("line 2") && stderr(&o).contains("\"n\"") && stderr(&o).contains("12345678901234567890123"), "{}", stderr(&o));
    assert!(!out.exists());
    std::fs::write(&data, "{\"id\":\"a\",\"n\":1.5}\n{\"id\":\"b\",\"n\":1.2e22}\n").unwrap();
    let o = prepare();
    assert!(o.status.code().unwrap() <= 1, "{}", stderr(&o));
    let recs = std::fs::read_to_string(&out).unwrap();
    assert!(recs.contains("n=1.2e+22"), "a double, as before: {recs}");
}

#[tokio::test]
async fn a_converse_run_on_a_model_without_a_documented_invoke_body_completes() {
    const MODEL: &str = "qwen.qwen3-32b-v1:0";
    let env = RunEnv::new("tblqwen", MODEL).await;
    let data = env.path("q.csv");
    write_csv(&data, 110);
    let (run_id, v) = start_table(&env, &data, &["--prompt-text", PROMPT, "--system-text", "Answer briefly."]);
    assert_eq!(v["invocation_type"], "Converse", "{v:#}");
    let out = env.path("q-out.csv");
    let (code, c) = env.json(&["run", "collect", &run_id, "-o", &out]);
    assert_eq!(code, 0, "{c:#}");
    let got = read_csv(&out);
    assert!(
        got.iter().skip(1).all(|r| r[4] == "ok" && r[5].starts_with("Emulated answer to ") && r[6] == "end_turn" && !r[7].is_empty()),
        "{:?}",
        &got[..3]
    );

    // validate: a Converse file passes; the InvokeModel shape names --invocation-type converse.
    let conv: Vec<String> = (0..100).map(|i| json!({"recordId": format!("c{i}"), "modelInput": {"messages": [{"role": "user", "content": [{"text": "hi"}]}], "inferenceConfig": {"maxTokens": 10}}}).to_string()).collect();
    let f = env.input("conv.jsonl", &conv);
    let (code, r) = env.json(&["validate", &f, "--offline"]);
    assert_eq!(code, 0, "{r:#}");
    let (code, e) = env.json(&["validate", &f, "--offline", "--invocation-type", "invoke-model"]);
    assert_eq!(code, 2, "{e:#}");
    assert!(e["error"]["message"].as_str().unwrap().contains("--invocation-type converse"), "{e:#}");
}

#[tokio::test]
async fn an_embeddings_run_yields_vectors_of_the_models_length() {
    const MODEL: &str = "amazon.titan-embed-text-v2:0";
    let env = RunEnv::new("tblemb", MODEL).await;
    let data = env.path("e.csv");
    write_csv(&data, 105);
    let (run_id, _) = start_table(&env, &data, &["--prompt-text", "{{Context}}: {{[The Question]}}"]);
    let pq = env.path("e.parquet");
    assert_eq!(env.json(&["run", "collect", &run_id, "-o", &pq]).0, 0);
    let b = arrow_select_concat(&read_parquet(&pq));
    let emb = b.column_by_name("embedding").unwrap().as_any().downcast_ref::<arrow_array::ListArray>().unwrap();
    assert_eq!(emb.len(), 105);
    for i in 0..105 {
        assert_eq!(emb.value(i).len(), 1024, "Titan Text Embeddings V2's default dimension");
    }
    let csvp = env.path("e.csv.out.csv");
    assert_eq!(env.json(&["run", "collect", &run_id, "-o", &csvp]).0, 0);
    let got = read_csv(&csvp);
    let last = got[0].len() - 1;
    assert_eq!(got[0][last], "embedding");
    let v: Vec<f64> = serde_json::from_str(&got[1][last]).unwrap();
    assert_eq!(v.len(), 1024);
}

#[tokio::test]
async fn record_errors_and_a_stopped_job_keep_every_row() {
    const MODEL: &str = "meta.llama3-1-8b-instruct-v1:0";
    let env = RunEnv::new("tblstop", MODEL).await;
    let tag = unique("stop").to_lowercase();
    let rows = 240;
    let mut text = String::from("key,q\n");
    for i in 1..=rows {
        text.push_str(&format!("{tag}-{i},question {i}\n"));
    }
    let data = env.path("s.csv");
    std::fs::write(&data, text).unwrap();
    let failing: Vec<String> = [3, 10, 77].iter().map(|i| format!("{tag}-{i}")).collect();
    control("record-errors", json!({"recordIds": failing, "errorCode": 400, "errorMessage": "emulated bad record", "times": 1}));
    let base = ["--prompt-text", "{{q}}", "--id-column", "key", "--records-per-job", "120", "--max-concurrent", "1", "--poll-interval-ms", "10"];
    let mut a = vec!["run", "start", data.as_str(), "--yes", "--detach"];
    a.extend(base);
    let (code, v) = env.json(&a);
    assert_eq!(code, 0, "{v:#}");
    let run_id = v["run_id"].as_str().unwrap().to_string();
    // The first job runs to its end (each read moves the emulator's job one status on).
    let mut s = Value::Null;
    for _ in 0..6 {
        s = env.json(&["run", "status", &run_id]).1;
    }
    assert_eq!(s["jobs"][0]["status"], "PartiallyCompleted", "{s:#}");
    // The second is submitted, reaches InProgress and is stopped there: half its records done.
    assert_eq!(env.json(&["run", "resume", &run_id, "--detach", "--poll-interval-ms", "10"]).0, 0);
    for _ in 0..3 {
        s = env.json(&["run", "status", &run_id]).1;
    }
    assert_eq!(s["jobs"][1]["status"], "InProgress", "{s:#}");
    assert!(s["jobs"][1]["job_arn"].is_string());
    assert_eq!(env.json(&["run", "cancel", &run_id, "--yes"]).0, 0);
    let (_, s) = env.json(&["run", "status", &run_id]);
    assert_eq!(s["jobs"][1]["status"], "Stopped", "{s:#}");

    let out = env.path("s-out.csv");
    let (code, c) = env.json(&["run", "collect", &run_id, "-o", &out]);
    assert_eq!(code, 1, "some rows have no answer: {c:#}");
    let got = read_csv(&out);
    assert_eq!(got.len(), rows + 1, "every row, none dropped");
    for (i, r) in got.iter().enumerate().skip(1) {
        assert_eq!(r[0], format!("{tag}-{i}"), "input order");
        assert_eq!(r[2], r[0], "record_id is the id column");
        let want = if failing.contains(&r[0]) {
            "record-error"
        } else if i <= 120 || i <= 180 {
            "ok"
        } else {
            "no-output"
        };
        assert_eq!(r[3], want, "row {i}: {r:?}");
        if want == "record-error" {
            assert_eq!((r[8].as_str(), r[9].as_str()), ("400", "emulated bad record"));
        }
    }
    assert_eq!(
        (c["records_ok"].as_u64(), c["records_error"].as_u64(), c["records_without_output"].as_u64()),
        (Some(177), Some(3), Some(60)),
        "{c:#}"
    );
    // The 63 rows without an answer, retried (the emulated errors happened once), and the retry
    // collected: every row of the table, now all answered, each id and cell in place.
    set_quota("Llama 3.1 8B Instruct", "Minimum number of records per batch inference job", 1.0).await;
    let (code, r) = env.json(&["run", "retry", &run_id, "--yes", "--poll-interval-ms", "10"]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["records"], 63, "{r:#}");
    let merged = env.path("s-merged.csv");
    let (code, m) = env.json(&["run", "collect", r["run_id"].as_str().unwrap(), "-o", &merged]);
    assert_eq!(code, 0, "{m:#}");
    assert_eq!((m["rows"].as_u64(), m["records_ok"].as_u64()), (Some(rows as u64), Some(rows as u64)), "{m:#}");
    let got = read_csv(&merged);
    for (i, r) in got.iter().enumerate().skip(1) {
        assert_eq!(
            (r[0].as_str(), r[1].as_str(), r[2].as_str(), r[3].as_str()),
            (format!("{tag}-{i}").as_str(), format!("question {i}").as_str(), r[0].as_str(), "ok")
        );
        assert!(!r[4].is_empty(), "row {i} has its answer: {r:?}");
    }
}

#[tokio::test]
async fn a_schema_splits_answers_into_columns_and_retry_resubmits_the_failing_rows() {
    const MODEL: &str = "amazon.nova-pro-v1:0";
    let env = RunEnv::new("tblschema", MODEL).await;
    // The retry holds 11 records: this model's minimum per job is lowered to let it run.
    set_quota("Nova Pro", "Minimum number of records per batch inference job", 1.0).await;
    // The emulator answers with the JSON after EMULATOR_ANSWER: (a test hook), in a ```json
    // fence as models often do. Every 10th answer breaks the schema (label "meh").
    let mut text = String::from("q,want\n");
    for i in 1..=110 {
        let label = if i % 10 == 0 {
            "meh"
        } else if i % 2 == 0 {
            "pos"
        } else {
            "neg"
        };
        let want = json!({"label": label, "score": i}).to_string();
        text.push_str(&format!("question {i},\"{}\"\n", want.replace('"', "\"\"")));
    }
    let data = env.path("sch.csv");
    std::fs::write(&data, text).unwrap();
    let schema = env.path("schema.json");
    std::fs::write(
        &schema,
        r#"{"type": "object", "properties": {"label": {"type": "string", "enum": ["pos", "neg"]}, "score": {"type": "integer"}}, "required": ["label", "score"]}"#,
    )
    .unwrap();
    let (code, v) =
        env.json(&["run", "start", &data, "--prompt-text", "Classify {{q}}.\nEMULATOR_ANSWER:{{want}}", "--yes", "--poll-interval-ms", "10"]);
    assert_eq!(code, 0, "{v:#}");
    let run_id = v["run_id"].as_str().unwrap().to_string();
    let pq = env.path("sch.parquet");
    let (code, c) = env.json(&["run", "collect", &run_id, "-o", &pq, "--json-schema", &schema]);
    assert_eq!(code, 1, "answers broke the schema: {c:#}");
    assert_eq!(c["schema_errors"], 11, "{c:#}");
    let b = arrow_select_concat(&read_parquet(&pq));
    let label = b.column_by_name("label").unwrap().as_any().downcast_ref::<StringArray>().unwrap();
    let score = b.column_by_name("score").unwrap().as_any().downcast_ref::<Int64Array>().unwrap();
    let err = b.column_by_name("schema_error").unwrap().as_any().downcast_ref::<StringArray>().unwrap();
    for i in 0..110 {
        let n = i as i64 + 1;
        if n % 10 == 0 {
            assert!(err.value(i).contains("/label"), "row {n}: {}", err.value(i));
            assert!(label.is_null(i) && score.is_null(i));
        } else {
            assert!(err.is_null(i), "row {n}: {}", err.value(i));
            assert_eq!(label.value(i), if n % 2 == 0 { "pos" } else { "neg" });
            assert_eq!(score.value(i), n);
        }
    }
    // retry --schema-errors submits exactly the rows whose answer broke the schema.
    let (code, r) = env.json(&["run", "retry", &run_id, "--schema-errors", "--json-schema", &schema, "--yes", "--poll-interval-ms", "10"]);
    assert_eq!(code, 0, "{r:#}");
    assert_eq!(r["records"], 11);
    // Its input is exactly those rows.
    let retry_id = r["run_id"].as_str().unwrap().to_string();
    let (_, st) = env.json(&["run", "status", &retry_id]);
    assert_eq!(st["records"], 11, "{st:#}");
    // Collected, the retry is the table again: all 110 rows in input order, their cells as read,
    // each with its newest answer; the tokens are both runs'.
    let out = env.path("retry.csv");
    let (code, c) = env.json(&["run", "collect", &retry_id, "-o", &out]);
    assert_eq!(code, 0, "{c:#}");
    assert_eq!(c["runs"], json!([run_id, retry_id]), "{c:#}");
    let rows = read_csv(&out);
    assert_eq!(rows.len(), 111);
    for (i, row) in rows.iter().enumerate().skip(1) {
        assert_eq!(row[0], format!("question {i}"));
        assert_eq!(row[2], format!("r{i:010}"), "record_id");
        assert_eq!(row[3], "ok", "row {i}: {row:?}");
    }
    let (_, root) = env.json(&["run", "status", &run_id]);
    assert_eq!(c["input_tokens"].as_u64().unwrap(), root["input_tokens"].as_u64().unwrap() + st["input_tokens"].as_u64().unwrap(), "{c:#}");
    assert!(st["input_tokens"].as_u64().unwrap() > 0);
}

/// A finished job whose `manifest.json.out` cannot be read leaves the run's tokens and cost
/// unknown, with the error: `collect` writes every answered row and says so (exit 4, tokens
/// null), never 0 tokens and $0.00.
#[tokio::test]
async fn unreadable_job_counts_leave_tokens_and_cost_unknown() {
    const MODEL: &str = "meta.llama3-1-8b-instruct-v1:0";
    let env = RunEnv::new("tblcounts", MODEL).await;
    let rows = 120;
    let mut text = String::from("q\n");
    for i in 1..=rows {
        text.push_str(&format!("question {i}\n"));
    }
    let data = env.path("c.csv");
    std::fs::write(&data, text).unwrap();
    let (code, v) = env.json(&["run", "start", data.as_str(), "--yes", "--detach", "--prompt-text", "{{q}}", "--poll-interval-ms", "10"]);
    assert_eq!(code, 0, "{v:#}");
    let run_id = v["run_id"].as_str().unwrap().to_string();
    // The job's manifest.json.out is refused when it is read, as the job ends (each status read
    // moves the emulator's job one status on; it is submitted, not yet ended, after the first).
    let mut s = env.json(&["run", "status", &run_id]).1;
    let job = s["jobs"][0]["job_arn"].as_str().and_then(|a| a.rsplit('/').next()).expect("submitted").to_string();
    assert_ne!(s["jobs"][0]["status"], "Completed", "{s:#}");
    control(
        "faults",
        json!({"service": "s3", "action": "GetObject", "target": format!("/{job}/manifest.json.out"), "count": 1, "status": 403, "code": "AccessDenied", "message": "emulated denial"}),
    );
    for _ in 0..6 {
        s = env.json(&["run", "status", &run_id]).1;
    }
    assert_eq!(s["jobs"][0]["status"], "Completed", "{s:#}");
    assert!(s["jobs"][0]["counts_error"].as_str().is_some_and(|e| e.contains("AccessDenied")), "{s:#}");
    let out = env.path("c-out.csv");
    let (code, c) = env.json(&["run", "collect", &run_id, "-o", &out]);
    assert_eq!(code, 4, "every row answered, the tokens unknown: {c:#}");
    assert_eq!(c["records_ok"], rows, "{c:#}");
    assert!(c["input_tokens"].is_null() && c["output_tokens"].is_null() && c["cost_usd"].is_null(), "{c:#}");
    assert!(c["tokens_unknown"][0].as_str().is_some_and(|e| e.contains("AccessDenied")), "{c:#}");
    assert_eq!(read_csv(&out).len(), rows + 1);
}

/// A table given as a pipe (`/dev/stdin`, or a shell's `<(…)`): read as it comes, never
/// reopened; a record with a quote inside an unquoted field (`5'10"`, text) on the way changes
/// nothing about the rows after it.
#[test]
fn a_piped_csv_with_an_odd_record_reads_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let mut text = String::from("id,h\n");
    for i in 0..3000 {
        text += &if i == 1500 { format!("{i},5'10\"\n") } else { format!("{i},\"row, {i}\"\n") };
    }
    let mut cmd = bare_command(dir.path());
    cmd.args([
        "prepare",
        "/dev/stdin",
        "--format",
        "csv",
        "-o",
        out.to_str().unwrap(),
        "--model-id",
        HAIKU,
        "--region",
        REGION,
        "--prompt-text",
        "h={{h}}",
    ]);
    // A real pipe, written while the command reads it.
    let mut child =
        cmd.stdin(std::process::Stdio::piped()).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let mut pipe = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut pipe, text.as_bytes()));
    let o = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(o.status.code().unwrap() <= 1, "{}", stderr(&o));
    let recs = std::fs::read_to_string(&out).unwrap();
    assert_eq!(recs.lines().count(), 3000);
    assert!(recs.contains("h=5'10\\\"") && recs.contains("h=row, 2999"), "{}", &recs[..200]);
}

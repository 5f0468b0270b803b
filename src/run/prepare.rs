//! From a table to batch records: each row fills the prompt template (handlebars, the engine
//! `render` uses), the model family's body is built around it ([`crate::families::build_body`]),
//! and the record gets its id: the `--id-column` value, else a stable id from the row number
//! ([`crate::run::shard::assigned_id`], the same one `run` gives a record without an id). The
//! row-to-id mapping is all `run collect` needs to join the answers back: it reads the table
//! again and computes the same ids.
//!
//! Strict by design: a column the template names that the header lacks is an error before any
//! record is written (naming it and listing the header); a template syntax error names its line
//! and column; a helper's failure on a row names the row. Empty cells are counted per column.

use std::collections::{BTreeMap, HashMap};

use handlebars::template::{Parameter, TemplateElement};
use handlebars::{Handlebars, Path as HbPath, PathSeg, Template};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::families::{build_body, BodyOptions, Family};
use crate::run::fastfill::{is_helper, Plain, Seg};
use crate::table::{Batch, Cell, TableReader, BATCH_ROWS};

/// What a run started from a table keeps in its manifest, so `collect` can rebuild the rows
/// (and their ids) on any machine.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableSpec {
    /// The table as given (a local path).
    pub source: String,
    pub format: crate::table::Format,
    /// Its size in bytes when the run started.
    pub bytes: u64,
    /// Its modification time then (nanoseconds since 1970): `collect` reads the local file only
    /// when both still match, else the run's copy in S3. A file edited in place (sorted, a
    /// cell changed) keeps its size but not its time; without this its rows would be joined to
    /// answers by row number. Absent from manifests written before it (size alone then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_ns: Option<u64>,
    /// The run's copy of the table in S3 (`<input prefix>source/<name>`), for collect elsewhere.
    pub s3_copy: Option<String>,
    pub prompt: String,
    pub system: Option<String>,
    pub id_column: Option<String>,
    pub family: Family,
    pub options: BodyOptions,
    pub rows: u64,
}

/// The prompt and system templates, compiled, and the columns they name.
pub struct Prompt {
    hbs: Handlebars<'static>,
    has_system: bool,
    /// The templates' segments when both are plain text and plain column references: filled
    /// without handlebars ([`crate::run::fastfill`]), with the same bytes.
    pub(crate) plain: Option<(Vec<Seg>, Option<Vec<Seg>>)>,
    /// The columns the templates name, in first-use order.
    pub columns: Vec<String>,
}

fn template_error(what: &str, e: handlebars::TemplateError) -> Error {
    let at = match e.pos() {
        Some((l, c)) => format!(" at line {l}, column {c}"),
        None => String::new(),
    };
    Error::Usage(format!("{what}: template syntax error{at}: {}", e.reason()))
}

/// The column a path names (its first segment), None for `this`, `@index` and parent paths.
fn path_column(p: &HbPath) -> Option<String> {
    match p {
        HbPath::Relative((segs, _)) => match segs.first() {
            Some(PathSeg::Named(n)) if n != "this" && !n.starts_with('@') => Some(n.clone()),
            _ => None,
        },
        HbPath::Local(_) => None,
    }
}

fn param_columns(p: &Parameter, out: &mut Vec<String>) {
    match p {
        Parameter::Path(path) => out.extend(path_column(path)),
        Parameter::Name(n) if !n.starts_with('@') && n != "this" && !is_helper(n) => {
            out.push(n.trim_start_matches('[').trim_end_matches(']').to_string())
        }
        Parameter::Subexpression(s) => {
            for q in s.params().into_iter().flatten() {
                param_columns(q, out);
            }
        }
        _ => {}
    }
}

/// The columns a template names at the row's level (inside `#each` and `#with` the context is
/// something else, so their bodies are not read).
fn columns_of(t: &Template, out: &mut Vec<String>) {
    for e in &t.elements {
        match e {
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                if h.params.is_empty() && h.hash.is_empty() {
                    param_columns(&h.name, out);
                } else {
                    h.params.iter().for_each(|p| param_columns(p, out));
                    h.hash.values().for_each(|p| param_columns(p, out));
                }
            }
            TemplateElement::HelperBlock(h) => {
                h.params.iter().for_each(|p| param_columns(p, out));
                h.hash.values().for_each(|p| param_columns(p, out));
                let scoped = matches!(h.name.as_name(), Some("each" | "with"));
                if !scoped {
                    if let Some(t) = &h.template {
                        columns_of(t, out);
                    }
                }
                if let Some(t) = &h.inverse {
                    columns_of(t, out);
                }
            }
            _ => {}
        }
    }
}

impl Prompt {
    /// Compiles the templates (`what`: how to name each in errors, e.g. "--prompt p.hbs").
    pub fn new(prompt: (&str, &str), system: Option<(&str, &str)>) -> Result<Prompt> {
        let mut hbs = Handlebars::new();
        // A prompt is text, not HTML: nothing is escaped; the JSON writer escapes the body.
        hbs.register_escape_fn(handlebars::no_escape);
        hbs.set_strict_mode(true);
        let mut columns = Vec::new();
        let mut plains = Vec::new();
        for (name, (what, text)) in [("prompt", Some(prompt)), ("system", system)].into_iter().filter_map(|(n, t)| t.map(|t| (n, t))) {
            let t = Template::compile(text).map_err(|e| template_error(what, e))?;
            columns_of(&t, &mut columns);
            plains.push(crate::run::fastfill::plain(&t));
            hbs.register_template(name, t);
        }
        let mut seen = std::collections::HashSet::new();
        columns.retain(|c| seen.insert(c.clone()));
        let plain = match (plains.first().cloned().flatten(), plains.get(1).cloned()) {
            (Some(p), None) => Some((p, None)),
            (Some(p), Some(Some(s))) => Some((p, Some(s))),
            _ => None,
        };
        Ok(Prompt { hbs, has_system: system.is_some(), plain, columns })
    }

    /// Always fills through handlebars (the reference the fast way is tested against).
    #[doc(hidden)]
    pub fn without_fast_fill(mut self) -> Prompt {
        self.plain = None;
        self
    }

    /// Refuses a template naming a column the header lacks, before any record is written.
    pub fn check_columns(&self, header: &[String], source: &str) -> Result<()> {
        let missing: Vec<&String> = self.columns.iter().filter(|c| !header.contains(c)).collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::Usage(format!(
            "the template names {} that {source} does not have: {}; its columns are: {}",
            if missing.len() == 1 { "a column" } else { "columns" },
            missing.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", "),
            header.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ")
        )))
    }

    fn render(&self, name: &str, ctx: &Value, place: &str) -> Result<String> {
        self.hbs.render(name, ctx).map_err(|e| Error::Usage(format!("{place}: the {name} template failed: {}", e.reason())))
    }
}

/// The settings of one prepare.
pub struct Settings {
    pub family: Family,
    pub options: BodyOptions,
    pub id_column: Option<String>,
}

/// What a pass over the table saw.
#[derive(Debug, Default, Serialize)]
pub struct Stats {
    pub rows: u64,
    /// Per column the template names: the rows where it was empty (null or no text).
    pub empty_cells: BTreeMap<String, u64>,
}

/// Reads every row of `table`, builds its record and hands it to `sink(row number, record)`.
/// Ids from `--id-column` must be non-empty and unique: a duplicate names both rows.
pub fn records(
    table: &mut dyn TableReader,
    source: &str,
    prompt: &Prompt,
    s: &Settings,
    sink: &mut dyn FnMut(u64, &[u8]) -> Result<()>,
) -> Result<Stats> {
    let header: Vec<String> = table.columns().to_vec();
    prompt.check_columns(&header, source)?;
    let id_index = match &s.id_column {
        Some(c) => Some(header.iter().position(|h| h == c).ok_or_else(|| {
            Error::Usage(format!(
                "--id-column {c:?}: {source} has no such column; its columns are: {}",
                header.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ")
            ))
        })?),
        None => None,
    };
    // Two halves, each on a thread of its own, a few batches apart: one reads and parses the
    // table and builds each row's record (the cells are still in its cache when they are
    // escaped into the record); this one hands the records to the sink, which checks each with
    // validate's rules and writes it. `perf` on the 1 GB benchmark: reading, parsing and
    // building ~55% of the work, checking and writing ~45%. (Building on a third thread of its
    // own balanced the three but cost more in all: each cell then crossed to another core.)
    std::thread::scope(|scope| {
        let (built_tx, built_rx) = std::sync::mpsc::sync_channel::<Built>(4);
        // Built batches come back to be filled again, their buffers kept.
        let (built_back, built_spares) = std::sync::mpsc::channel::<Built>();
        let builder = scope.spawn(move || {
            let mut b = Builder::new(&header, id_index, source, prompt, s);
            let mut spare: Option<Batch> = None;
            loop {
                let next = match spare.take() {
                    Some(batch) => table.next_batch_into(batch),
                    None => table.next_batch(),
                };
                let mut built = built_spares.try_recv().unwrap_or_else(|_| Built {
                    bytes: Vec::with_capacity(BATCH_ROWS * 2048),
                    records: Vec::with_capacity(BATCH_ROWS),
                    error: None,
                });
                let stop = match next {
                    Ok(Some(batch)) => {
                        b.batch(&batch, &mut built);
                        // The batch's buffers are filled again with the next rows.
                        spare = Some(batch);
                        built.error.is_some()
                    }
                    Ok(None) => break,
                    Err(e) => {
                        built.bytes.clear();
                        built.records.clear();
                        built.error = Some(e);
                        true
                    }
                };
                // The receiver gone (an error in the sink) ends the reading too.
                if built_tx.send(built).is_err() || stop {
                    break;
                }
            }
            b.stats
        });
        for mut built in built_rx {
            let mut start = 0;
            for (n, end) in &built.records {
                sink(*n, &built.bytes[start..*end])?;
                start = *end;
            }
            if let Some(e) = built.error.take() {
                return Err(e);
            }
            let _ = built_back.send(built);
        }
        let stats = builder.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        if stats.rows == 0 {
            return Err(Error::Usage(format!("{source}: the table has a header but no rows")));
        }
        Ok(stats)
    })
}

/// The records of one batch: their bytes end to end, each one's row number and end, and the
/// error that stopped the batch after them, if one did.
struct Built {
    bytes: Vec<u8>,
    records: Vec<(u64, usize)>,
    error: Option<Error>,
}

/// Builds the records of the batches in turn.
struct Builder<'a> {
    header: &'a [String],
    id_index: Option<usize>,
    source: &'a str,
    prompt: &'a Prompt,
    s: &'a Settings,
    used: Vec<(usize, String)>,
    stats: Stats,
    hasher: foldhash::fast::FixedState,
    /// recordId → the row it came from, as 64-bit hashes (16 bytes a row); a collision of two
    /// different ids (odds about 1 in 10^7 for a billion rows) would be reported as a duplicate.
    ids: HashMap<u64, u64, foldhash::fast::FixedState>,
    fast: Option<Plain>,
}

impl<'a> Builder<'a> {
    fn new(header: &'a [String], id_index: Option<usize>, source: &'a str, prompt: &'a Prompt, s: &'a Settings) -> Builder<'a> {
        let hasher = foldhash::fast::FixedState::default();
        Builder {
            header,
            id_index,
            source,
            prompt,
            s,
            used: prompt.columns.iter().filter_map(|c| header.iter().position(|h| h == c).map(|i| (i, c.clone()))).collect(),
            stats: Stats { empty_cells: prompt.columns.iter().map(|c| (c.clone(), 0)).collect(), ..Stats::default() },
            ids: HashMap::with_hasher(hasher.clone()),
            hasher,
            fast: prompt.plain.as_ref().and_then(|(p, sys)| Plain::bind(p, sys.as_deref(), header, s.family, &s.options)),
        }
    }

    /// The batch's records into `out` (emptied first), with the error that stopped them.
    fn batch(&mut self, batch: &Batch, out: &mut Built) {
        out.bytes.clear();
        out.records.clear();
        out.error = self.fill(batch, out).err();
    }

    fn fill(&mut self, batch: &Batch, out: &mut Built) -> Result<()> {
        let (source, s) = (self.source, self.s);
        let first_row = self.stats.rows + 1;
        for (k, row) in batch.rows.iter().enumerate() {
            self.stats.rows += 1;
            let n = self.stats.rows;
            let id = match self.id_index {
                Some(i) => {
                    let id = row[i].text().into_owned();
                    if id.is_empty() {
                        return Err(Error::Usage(format!(
                            "{source}: {}: the id column {:?} is empty",
                            batch.place(first_row, k),
                            s.id_column.as_deref().unwrap_or("")
                        )));
                    }
                    let h = std::hash::BuildHasher::hash_one(&self.hasher, &id);
                    if let Some(first) = self.ids.insert(h, n) {
                        return Err(Error::Usage(format!(
                            "{source}: the id {id:?} (column {:?}) is on data rows {first} and {n} ({}); record ids must be unique",
                            s.id_column.as_deref().unwrap_or(""),
                            batch.place(first_row, k)
                        )));
                    }
                    id
                }
                None => crate::run::shard::assigned_id(n),
            };
            for (i, c) in &self.used {
                if row[*i].is_empty() {
                    *self.stats.empty_cells.get_mut(c).expect("every used column is counted") += 1;
                }
            }
            if let Some(f) = self.fast.as_mut() {
                f.record(row, &id, &mut out.bytes);
            } else {
                let mut ctx = serde_json::Map::with_capacity(self.header.len());
                for (name, cell) in self.header.iter().zip(row) {
                    ctx.insert(name.clone(), cell.to_json());
                }
                let ctx = Value::Object(ctx);
                let place = format!("{source}: {}", batch.place(first_row, k));
                let text = self.prompt.render("prompt", &ctx, &place)?;
                let system = if self.prompt.has_system { Some(self.prompt.render("system", &ctx, &place)?) } else { None };
                let body = build_body(s.family, &text, system.as_deref(), &s.options).map_err(Error::Usage)?;
                serde_json::to_writer(&mut out.bytes, &serde_json::json!({"recordId": id, "modelInput": body})).expect("a JSON value serialises");
            }
            out.records.push((n, out.bytes.len()));
        }
        Ok(())
    }
}

/// The record id of every row, in order, for `collect`: the id column's text, or the stable id
/// of the row number.
pub fn row_id(row: &[Cell], n: u64, id_index: Option<usize>) -> String {
    match id_index {
        Some(i) => row[i].text().into_owned(),
        None => crate::run::shard::assigned_id(n),
    }
}

impl std::fmt::Debug for TableJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableJob").field("format", &self.format).field("invocation", &self.invocation).field("columns", &self.prompt.columns).finish()
    }
}

/// A table job decided from the flags: the compiled templates, the settings of each record and
/// what the manifest keeps.
pub struct TableJob {
    pub prompt: Prompt,
    pub settings: Settings,
    pub invocation: crate::families::Invocation,
    pub format: crate::table::Format,
    /// Said before the records are built (the defaults that were chosen).
    pub notes: Vec<String>,
    pub prompt_text: String,
    pub system_text: Option<String>,
}

fn read_template(path: &std::path::Path, flag: &str) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::Usage(format!("{flag} {}: {e}", path.display())))
}

impl TableJob {
    /// Decides everything before the table is read: the templates (read and compiled), the
    /// format, the invocation type, the family's body and its options. Flags that the model's
    /// family does not take are refused, never ignored.
    pub fn new(args: &crate::cli::TableArgs, data: &std::path::Path, profile: &crate::families::ModelProfile, model: &str) -> Result<TableJob> {
        use crate::families::{Invocation, DEFAULT_MAX_TOKENS};
        let format = crate::table::Format::decide(data, args.format, "the table")?;
        let (prompt_what, prompt_text) = match (&args.prompt, &args.prompt_text) {
            (Some(p), _) => (format!("--prompt {}", p.display()), read_template(p, "--prompt")?),
            (None, Some(t)) => ("--prompt-text".to_string(), t.clone()),
            (None, None) => return Err(Error::Usage("a table needs a prompt: --prompt FILE or --prompt-text TEXT".into())),
        };
        let system = match (&args.system, &args.system_text) {
            (Some(p), _) => Some((format!("--system {}", p.display()), read_template(p, "--system")?)),
            (None, Some(t)) => Some(("--system-text".to_string(), t.clone())),
            (None, None) => None,
        };
        let invocation = args.invocation_type.map_or_else(|| profile.default_invocation(), Invocation::from);
        let family = profile.record_family(invocation, model).map_err(Error::Usage)?;
        let mut notes = Vec::new();
        if args.invocation_type.is_none() && invocation == Invocation::Converse {
            notes.push(format!("{model} has no documented InvokeModel body: the records use the Converse format (modelInvocationType Converse)"));
        }
        if invocation == Invocation::Converse && profile.family.is_embedding() {
            return Err(Error::Usage(format!("{model} is an embedding model: Converse does not serve it; leave out --invocation-type converse")));
        }
        let embedding = family.is_embedding();
        if family == Family::Unknown {
            return Err(Error::Usage(format!(
                "{model}: its family is not known, so its request body cannot be built: use --invocation-type converse (the Converse format serves every model Converse serves)"
            )));
        }
        let max_tokens = if embedding {
            for (flag, given) in
                [("--max-tokens", args.max_tokens.is_some()), ("--temperature", args.temperature.is_some()), ("--top-p", args.top_p.is_some())]
            {
                if given {
                    return Err(Error::Usage(format!("{flag}: {model} is an embedding model, which generates no text")));
                }
            }
            if system.is_some() {
                return Err(Error::Usage(format!("--system: {model} is an embedding model; the filled prompt is the text to embed")));
            }
            0
        } else {
            match (args.max_tokens, profile.limits.max_output_tokens) {
                (Some(n), _) => n,
                (None, Some(ceiling)) if ceiling < DEFAULT_MAX_TOKENS => {
                    notes.push(format!(
                        "max tokens: {ceiling} (the model's ceiling, under the default of {DEFAULT_MAX_TOKENS}; --max-tokens sets it)"
                    ));
                    ceiling
                }
                (None, _) => {
                    notes.push(format!("max tokens: {DEFAULT_MAX_TOKENS} a record (the default; --max-tokens sets it)"));
                    DEFAULT_MAX_TOKENS
                }
            }
        };
        let system_text = system.as_ref().map(|(_, t)| t.clone());
        let prompt = Prompt::new((&prompt_what, &prompt_text), system.as_ref().map(|(w, t)| (w.as_str(), t.as_str())))?;
        Ok(TableJob {
            prompt,
            settings: Settings {
                family,
                options: BodyOptions { max_tokens, temperature: args.temperature, top_p: args.top_p },
                id_column: args.id_column.clone(),
            },
            invocation,
            format,
            notes,
            prompt_text,
            system_text,
        })
    }

    /// What the run manifest keeps of it.
    pub fn spec(&self, data: &std::path::Path, bytes: u64, rows: u64, s3_copy: Option<String>) -> TableSpec {
        TableSpec {
            source: data.display().to_string(),
            format: self.format,
            bytes,
            modified_ns: std::fs::metadata(data).ok().and_then(|m| modified_ns(&m)),
            s3_copy,
            prompt: self.prompt_text.clone(),
            system: self.system_text.clone(),
            id_column: self.settings.id_column.clone(),
            family: self.settings.family,
            options: self.settings.options,
            rows,
        }
    }
}

/// A file's modification time in nanoseconds since 1970, where the file system keeps one.
pub fn modified_ns(meta: &std::fs::Metadata) -> Option<u64> {
    meta.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok().and_then(|d| u64::try_from(d.as_nanos()).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_a_template_names_are_found_at_the_rows_level() {
        let p = Prompt::new(
            ("p", "Q: {{Question}} {{[Column With Spaces]}} {{#if Ctx}}{{Ctx}}{{else}}{{Other}}{{/if}} {{#each List}}{{name}}{{/each}}"),
            None,
        )
        .unwrap();
        assert_eq!(p.columns, vec!["Question", "Column With Spaces", "Ctx", "Other", "List"]);
        let e = p.check_columns(&["Question".into(), "Ctx".into()], "t.csv").unwrap_err().to_string();
        assert!(e.contains("\"Column With Spaces\"") && e.contains("\"Other\"") && e.contains("its columns are: \"Question\", \"Ctx\""), "{e}");
    }

    #[test]
    fn a_syntax_error_names_its_line_and_column() {
        let e = Prompt::new(("--prompt p.hbs", "line one\n{{#if x}} open"), None).err().unwrap().to_string();
        assert!(e.contains("--prompt p.hbs") && e.contains("line"), "{e}");
    }
}

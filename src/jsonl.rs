//! The validator's old path, kept so that `crate::jsonl::…` (and `bedbatch_doctor::jsonl::…`)
//! still names what it did: the validator now lives in `src/validate/` and each family's shape
//! and rules in `src/families/`. New code imports from `crate::validate`. (Re-exported from the
//! files that define them, not through `validate/mod.rs`, whose command helpers reach `run`.)

pub use crate::families::diags::Code;
pub use crate::families::limits::Limits;
pub use crate::families::Family;
pub use crate::prices::{estimate as price, PRICES};
pub use crate::validate::engine::{feed_buffer, validate_reader, Validator};
pub use crate::validate::report::{Example, FileCount, Level, Problem, Report};
pub use crate::validate::text::{text_content, MEDIA_KEYS, TEXT_KEYS};

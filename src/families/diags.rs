//! `validate`'s codes: problems in a JSONL input file, found before it is submitted. They live
//! in the same registry as `check`'s codes, so `explain CODE` knows them. They are here, beside
//! the families' rules that give most of them, so `src/validate/` (which re-exports them as
//! `validate::diags`) imports the families and not the other way round.
//!
//! Rules: AWS's "Format and upload your batch inference data" page (JSONL, one
//! `{"recordId", "modelInput"}` object per line, `.jsonl` files) and the per-model
//! "Batch inference" quotas in Service Quotas (records per file and per job, file and job size,
//! minimum records per job).

crate::family_codes! { "validate", "Input file";
    InvalidUtf8 = "invalid-utf8", Error, "A line is not UTF-8.";
    InvalidJson = "invalid-json", Error, "A line is not valid JSON.";
    NotAnObject = "not-an-object", Error, "A line is JSON but not an object.";
    BadRecordId = "bad-record-id", Error, "A recordId is not a string.";
    DuplicateRecordId = "duplicate-record-id", Error, "Two records share a recordId.";
    MissingModelInput = "missing-model-input", Error, "A record has no modelInput.";
    BadModelInput = "bad-model-input", Error, "A record's modelInput is not a JSON object.";
    WrongShape = "wrong-shape", Error, "A record's modelInput does not have the shape the model's family accepts.";
    MaxTokensOverLimit = "max-tokens-over-limit", Error, "A record asks for more output tokens than the model allows.";
    TemperatureAndTopP = "temperature-and-top-p", Error, "A record sets both temperature and top_p for a model that accepts only one.";
    AssistantPrefill = "assistant-prefill", Note, "A record's last message is the assistant's (a prefill).";
    NotJsonl = "not-jsonl", Error, "The input object's name does not end in .jsonl.";
    BadS3Uri = "bad-s3-uri", Error, "The input object's S3 URI has characters Bedrock's S3Uri pattern refuses.";
    TooFewRecords = "too-few-records", Error, "The input has fewer records than the model's minimum per job.";
    TooManyRecords = "too-many-records", Error, "The file has more records than the per-file quota.";
    TooManyRecordsPerJob = "too-many-records-per-job", Error, "The input has more records than the per-job quota.";
    FileTooLarge = "file-too-large", Error, "The file is larger than the input file size quota.";
    JobTooLarge = "job-too-large", Error, "The input is larger than the job size quota.";
    UnknownFamily = "unknown-family", Note, "The model's request family is not known; only the envelope was checked.";
}

//! Prices, in one place: the dated price table (`policies/prices.json`: on-demand USD per million
//! tokens; batch inference is billed at `batch_discount`, half, per AWS's Bedrock pricing page),
//! `--prices FILE` in its place, the estimate of a checked input, and the cost of actual tokens.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::validate::Report;

/// The embedded price table.
pub const PRICES: &str = include_str!("../policies/prices.json");

/// The price table: `--prices FILE` when given, else the embedded one.
pub fn load(path: Option<&Path>) -> Result<Value> {
    match path {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| Error::Usage(format!("--prices {}: {e}", p.display())))?;
            serde_json::from_str(&text).map_err(|e| Error::Usage(format!("--prices {}: not JSON: {e}", p.display())))
        }
        None => Ok(embedded()),
    }
}

/// The embedded price table, parsed.
pub fn embedded() -> Value {
    serde_json::from_str(PRICES).expect("the embedded price table parses (a unit test checks it)")
}

/// Estimated cost in USD of a report: (low, high) where low prices the input only and high
/// adds the output ceiling; batch price = on-demand × discount.
pub fn estimate(report: &Report, prices: &Value, model_id: &str) -> Option<(f64, f64, String)> {
    let p = prices.get("models")?.get(model_id)?;
    let discount = prices.get("batch_discount").and_then(Value::as_f64).unwrap_or(0.5);
    let input = p.get("input")?.as_f64()? * discount / 1e6;
    let output = p.get("output")?.as_f64()? * discount / 1e6;
    let low = report.input_tokens_estimate as f64 * input;
    let high = low + report.output_tokens_ceiling as f64 * output;
    Some((low, high, prices.get("as_of").and_then(Value::as_str).unwrap_or("?").to_string()))
}

/// The cost in USD of token counts at the price table's batch price.
pub fn token_cost(prices: &Value, fm: &str, input: u64, output: u64) -> Option<f64> {
    let p = prices.get("models")?.get(fm)?;
    let discount = prices.get("batch_discount").and_then(Value::as_f64).unwrap_or(0.5);
    Some((input as f64 * p.get("input")?.as_f64()? + output as f64 * p.get("output")?.as_f64()?) * discount / 1e6)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_table_parses_and_is_dated() {
        let v = super::embedded();
        assert_eq!(v["batch_discount"], 0.5);
        assert_eq!(v["as_of"].as_str().unwrap().len(), 10);
        assert_eq!(super::token_cost(&v, "anthropic.claude-3-haiku-20240307-v1:0", 1_000_000, 0), Some(0.125));
    }
}

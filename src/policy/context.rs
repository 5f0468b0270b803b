//! The request context: condition keys (case-insensitive) to one or more values.

use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Context {
    /// Lower-cased key to (key as given, values).
    keys: BTreeMap<String, (String, Vec<String>)>,
}

impl Context {
    pub fn set(&mut self, key: &str, value: &str) {
        self.keys.insert(key.to_ascii_lowercase(), (key.to_string(), vec![value.to_string()]));
    }

    pub fn set_many(&mut self, key: &str, values: Vec<String>) {
        self.keys.insert(key.to_ascii_lowercase(), (key.to_string(), values));
    }

    /// Adds a value to a key, making it multi-valued.
    pub fn add(&mut self, key: &str, value: &str) {
        self.keys
            .entry(key.to_ascii_lowercase())
            .or_insert_with(|| (key.to_string(), Vec::new()))
            .1
            .push(value.to_string());
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.keys.get(&key.to_ascii_lowercase()).map(|(_, v)| v.as_slice())
    }

    /// The value of a single-valued key (the first when there are several).
    pub fn single(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|v| v.first()).map(String::as_str)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.keys.contains_key(&key.to_ascii_lowercase())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.keys.values().map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}

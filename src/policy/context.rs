//! The request context: condition keys (case-insensitive) to one or more values.
//!
//! A request carries a handful of keys, so a vector with a case-insensitive scan beats a map
//! and needs no allocation per lookup.

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct Context {
    keys: Vec<(String, Vec<String>)>,
}

impl Context {
    fn position(&self, key: &str) -> Option<usize> {
        self.keys.iter().position(|(k, _)| k.eq_ignore_ascii_case(key))
    }

    pub fn set(&mut self, key: &str, value: &str) {
        self.set_many(key, vec![value.to_string()]);
    }

    pub fn set_many(&mut self, key: &str, values: Vec<String>) {
        match self.position(key) {
            Some(i) => self.keys[i].1 = values,
            None => self.keys.push((key.to_string(), values)),
        }
    }

    /// Adds a value to a key, making it multi-valued.
    pub fn add(&mut self, key: &str, value: &str) {
        match self.position(key) {
            Some(i) => self.keys[i].1.push(value.to_string()),
            None => self.keys.push((key.to_string(), vec![value.to_string()])),
        }
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.position(key).map(|i| self.keys[i].1.as_slice())
    }

    /// The value of a single-valued key (the first when there are several).
    pub fn single(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(|v| v.first()).map(String::as_str)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.position(key).is_some()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.keys.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }
}

//! Strict JSON object parsing for token segments.
//!
//! `serde_json::Value` silently keeps the *last* of two members with the same
//! name. Different JWT libraries disagree about first-wins versus last-wins,
//! which has been used for parser-differential attacks (two `alg` members, two
//! `sub` claims). The top level of the header and of the payload is therefore
//! parsed here with duplicate names rejected. Nested values use `serde_json`'s
//! defaults (including its recursion limit, so deep nesting is an error, not
//! a stack overflow).

use std::fmt;

use serde::Deserialize;
use serde::de::{self, MapAccess, Visitor};
use serde_json::{Map, Value};

/// A top-level JSON object whose member names are unique.
pub(crate) struct StrictObject(pub(crate) Map<String, Value>);

impl<'de> Deserialize<'de> for StrictObject {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(StrictObjectVisitor)
    }
}

struct StrictObjectVisitor;

impl<'de> Visitor<'de> for StrictObjectVisitor {
    type Value = StrictObject;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object with unique member names")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                // The message must not echo the member name (token data).
                return Err(de::Error::custom("duplicate member name"));
            }
            let value: Value = access.next_value()?;
            map.insert(key, value);
        }
        Ok(StrictObject(map))
    }
}

/// Parses `bytes` as a JSON object with unique top-level member names.
pub(crate) fn parse_object(bytes: &[u8]) -> Option<Map<String, Value>> {
    serde_json::from_slice::<StrictObject>(bytes)
        .ok()
        .map(|o| o.0)
}

#[cfg(test)]
mod tests {
    use super::parse_object;

    #[test]
    fn accepts_objects() {
        let m = parse_object(br#"{"a":1,"b":{"a":2}}"#).expect("object");
        assert_eq!(m.len(), 2);
    }

    #[test]
    fn rejects_duplicates_and_non_objects() {
        assert!(parse_object(br#"{"alg":"HS256","alg":"none"}"#).is_none());
        assert!(parse_object(b"[1,2]").is_none());
        assert!(parse_object(b"\"x\"").is_none());
        assert!(parse_object(b"{} trailing").is_none());
        assert!(parse_object(b"").is_none());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let mut s = String::from("{\"a\":");
        s.push_str(&"[".repeat(10_000));
        assert!(parse_object(s.as_bytes()).is_none());
    }
}

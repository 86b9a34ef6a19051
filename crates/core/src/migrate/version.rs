//! Migration versions: the digits of a version prefix, compared as numbers of any length.

use serde::{Serialize, Serializer};
use std::cmp::Ordering;
use std::fmt;

/// Digits only (dashes and underscores removed), as written. Equality and order are
/// numeric, so `007` equals `7` and 20-digit versions compare correctly without a
/// 64-bit limit.
#[derive(Debug, Clone)]
pub struct Version(String);

impl Version {
    /// Accepts digits with `-` and `_` separators (`2019-02-26-002946`).
    pub fn parse(s: &str) -> Option<Version> {
        let digits: String = s.chars().filter(|c| *c != '-' && *c != '_').collect();
        if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        Some(Version(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn significant(&self) -> &str {
        let t = self.0.trim_start_matches('0');
        if t.is_empty() {
            "0"
        } else {
            t
        }
    }

    pub fn is_zero(&self) -> bool {
        self.significant() == "0"
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.significant() == other.significant()
    }
}
impl Eq for Version {}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (self.significant(), other.significant());
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    }
}
impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_order_of_any_length() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("2") < v("10"));
        assert_eq!(v("007"), v("7"));
        assert!(v("99999999999999999999") < v("100000000000000000000"));
        assert_eq!(v("2019-02-26-002946").to_string(), "20190226002946");
        assert!(v("00000000000000").is_zero());
        assert!(Version::parse("12a").is_none());
    }

    proptest::proptest! {
        #[test]
        fn order_matches_u128(a in 0u128..u128::MAX / 2, b in 0u128..u128::MAX / 2, za in 0usize..3, zb in 0usize..3) {
            let va = Version::parse(&format!("{}{a}", "0".repeat(za))).unwrap();
            let vb = Version::parse(&format!("{}{b}", "0".repeat(zb))).unwrap();
            proptest::prop_assert_eq!(va.cmp(&vb), a.cmp(&b));
        }
    }
}

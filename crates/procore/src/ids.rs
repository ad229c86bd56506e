//! Typed Procore ids.
//!
//! Every id is a newtype over `i64` so a project id cannot be passed where a vendor id is
//! expected. Procore ids can exceed 32 bits, and v2.0 endpoints and v4.0 webhook payloads send
//! them as strings, so deserialisation accepts a JSON number or a decimal string; ids are
//! always written back as numbers.

use std::fmt;
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Declares an id newtype with number-or-string deserialisation.
macro_rules! id_type {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl $name {
            /// The raw numeric id.
            pub fn get(self) -> i64 {
                self.0
            }
        }

        impl From<i64> for $name {
            fn from(value: i64) -> Self {
                Self(value)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse::<i64>().map(Self)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_i64(self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_i64(deserializer).map(Self)
            }
        }
    )*};
}

id_type!(
    /// A Procore company id (also the value of the `Procore-Company-Id` header).
    CompanyId,
    /// A project id.
    ProjectId,
    /// A company user (login) id.
    UserId,
    /// A company person id (workforce member, not necessarily a login user).
    PersonId,
    /// A company vendor (Directory company) id.
    VendorId,
    /// A vendor's primary contact id.
    ContactId,
    /// A work order or purchase order contract id.
    CommitmentId,
    /// An insurance record id.
    InsuranceId,
    /// A Documents tool folder id.
    FolderId,
    /// A Documents tool file id.
    FileId,
    /// A file version id.
    FileVersionId,
    /// A webhook hook id.
    HookId,
    /// A webhook trigger id.
    TriggerId,
    /// The id of the resource a webhook event or trigger refers to; its type depends on the
    /// resource name.
    ResourceId,
    /// A project stage, template, office or similar lookup id.
    LookupId,
    /// A custom field definition id (the number in `custom_field_<id>`).
    CustomFieldDefinitionId,
);

/// Accepts a JSON integer (never via `f64`, so values above 2^53 stay exact) or a decimal
/// string.
pub(crate) fn deserialize_i64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<i64, D::Error> {
    struct V;
    impl de::Visitor<'_> for V {
        type Value = i64;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer id as a number or a string")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
            Ok(v)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
            i64::try_from(v).map_err(|_| E::custom(format!("id {v} does not fit in i64")))
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
            if v.fract() == 0.0 && v.abs() < 9.0e15 {
                Ok(v as i64)
            } else {
                Err(E::custom(format!("id {v} is not an integer")))
            }
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
            v.trim()
                .parse::<i64>()
                .map_err(|_| E::custom(format!("id {v:?} is not an integer")))
        }
    }
    deserializer.deserialize_any(V)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_numbers_and_strings_and_serialize_as_numbers() {
        let cases: &[(&str, i64)] = &[
            ("42", 42),
            ("\"42\"", 42),
            ("\" 7 \"", 7),
            ("5982324300946918154", 5_982_324_300_946_918_154),
            ("\"5982324300946918154\"", 5_982_324_300_946_918_154),
        ];
        for (json, want) in cases {
            let id: ProjectId =
                serde_json::from_str(json).unwrap_or_else(|e| panic!("{json}: {e}"));
            assert_eq!(id.get(), *want, "{json}");
            assert_eq!(serde_json::to_string(&id).unwrap(), want.to_string());
        }
    }

    #[test]
    fn ids_reject_non_integers() {
        for json in ["\"abc\"", "1.5", "true", "null", "\"\""] {
            assert!(serde_json::from_str::<VendorId>(json).is_err(), "{json}");
        }
    }
}

//! Helpers for the use cases' input types, which the API reads straight from JSON.

use serde::{Deserialize, Deserializer};

/// `Some(None)` when the field is `null`, `None` when it is absent: in a change, "clear
/// it" and "leave it" are different requests.
pub fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

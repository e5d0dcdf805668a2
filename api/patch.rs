//! PATCH bodies distinguish a member left out (unchanged) from one set to `null`
//! (cleared): such members are `Option<Option<T>>` deserialised with `double_option`.

use serde::{Deserialize, Deserializer};

pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "double_option")]
        value: Option<Option<i64>>,
    }

    #[test]
    fn absent_null_and_value_are_three_different_things() {
        let absent: Body = serde_json::from_str("{}").unwrap();
        let null: Body = serde_json::from_str(r#"{"value":null}"#).unwrap();
        let set: Body = serde_json::from_str(r#"{"value":5}"#).unwrap();
        assert_eq!(absent.value, None);
        assert_eq!(null.value, Some(None));
        assert_eq!(set.value, Some(Some(5)));
    }
}

//! Room names: the one place that says what a valid room name is.

use crate::prelude::*;
use crate::text::{concat, decimal};
use core::{fmt, str::FromStr};

/// A validated room name: 1 to [`RoomName::MAX_LEN`] bytes of ASCII letters, digits and
/// `_ - . :`.
///
/// The character set keeps names safe in URLs (`/api/rooms/{room}`), shell commands and log
/// lines without escaping; `:` and `.` allow namespaces such as `game:42` or `team.ops`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "json", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "json", serde(try_from = "String", into = "String"))]
pub struct RoomName(String);

/// Why a string is not a valid [`RoomName`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RoomNameError {
    /// The name is the empty string.
    Empty,
    /// The name is longer than [`RoomName::MAX_LEN`] bytes.
    TooLong {
        /// The length of the rejected name, in bytes.
        len: usize,
        /// The maximum length, [`RoomName::MAX_LEN`].
        max: usize,
    },
    /// The name holds a character outside `A-Z a-z 0-9 _ - . :`.
    InvalidChar {
        /// The first rejected character.
        ch: char,
        /// Its byte offset in the name.
        index: usize,
    },
}

impl RoomNameError {
    /// What is wrong, in words (also its `Display`): built without `core::fmt`, which the
    /// browser package leaves out (`text.rs`).
    pub fn message(&self) -> String {
        match self {
            RoomNameError::Empty => "room name is empty".into(),
            RoomNameError::TooLong { len, max } => concat(&[
                "room name is ",
                &decimal(*len as u64),
                " bytes long, the maximum is ",
                &decimal(*max as u64),
            ]),
            // '{ch}', not {ch:?}: the same text for the characters worth showing, without the
            // escaping code and Unicode tables.
            RoomNameError::InvalidChar { ch, index } => {
                let mut ch_text = [0; 4];
                concat(&[
                    "room name has the character '",
                    ch.encode_utf8(&mut ch_text),
                    "' at byte ",
                    &decimal(*index as u64),
                    "; allowed are A-Z a-z 0-9 _ - . :",
                ])
            }
        }
    }
}

impl fmt::Display for RoomNameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for RoomNameError {}

impl RoomName {
    /// The longest room name, in bytes.
    pub const MAX_LEN: usize = 64;

    /// Validates `name` as a room name.
    pub fn new(name: impl Into<String>) -> Result<Self, RoomNameError> {
        let name = name.into();
        Self::validate(&name)?;
        Ok(Self(name))
    }

    /// Checks `name` without allocating.
    pub fn validate(name: &str) -> Result<(), RoomNameError> {
        if name.is_empty() {
            return Err(RoomNameError::Empty);
        }
        if name.len() > Self::MAX_LEN {
            return Err(RoomNameError::TooLong { len: name.len(), max: Self::MAX_LEN });
        }
        match name
            .char_indices()
            .find(|&(_, ch)| !(ch.is_ascii_alphanumeric() || matches!(ch, '_' | '-' | '.' | ':')))
        {
            Some((index, ch)) => Err(RoomNameError::InvalidChar { ch, index }),
            None => Ok(()),
        }
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RoomName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for RoomName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl FromStr for RoomName {
    type Err = RoomNameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl TryFrom<String> for RoomName {
    type Error = RoomNameError;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<RoomName> for String {
    fn from(room: RoomName) -> Self {
        room.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn accepts_namespaced_names() {
        for name in ["lobby", "game:42", "team.ops", "a-b_c", &"x".repeat(RoomName::MAX_LEN)] {
            assert_eq!(RoomName::new(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn rejects_bad_names_with_the_reason() {
        assert_eq!(RoomName::new(""), Err(RoomNameError::Empty));
        assert_eq!(RoomName::new("x".repeat(65)), Err(RoomNameError::TooLong { len: 65, max: 64 }));
        assert_eq!(RoomName::new("a b"), Err(RoomNameError::InvalidChar { ch: ' ', index: 1 }));
        assert_eq!(RoomName::new("sala/ñ"), Err(RoomNameError::InvalidChar { ch: '/', index: 4 }));
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let text = |name: &str| RoomName::new(name).unwrap_err().to_string();
        assert_eq!(text(""), "room name is empty");
        assert_eq!(text(&"x".repeat(65)), "room name is 65 bytes long, the maximum is 64");
        assert_eq!(
            text("sala ñ"),
            "room name has the character ' ' at byte 4; allowed are A-Z a-z 0-9 _ - . :"
        );
    }

    #[cfg(feature = "json")]
    #[test]
    fn deserializing_validates() {
        assert!(serde_json::from_str::<RoomName>("\"ok\"").is_ok());
        assert!(serde_json::from_str::<RoomName>("\"not ok\"").is_err());
    }
}

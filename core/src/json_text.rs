//! Validated JSON text: what a JSON body holds.
//!
//! With the `json` feature (the server, the native client) the text is a serde_json
//! [`RawValue`](serde_json::value::RawValue), validated by serde_json and serialized into JSON
//! frames as is. Without it (the browser client, which speaks the binary encoding only and
//! leaves JSON values to the browser's `JSON.parse`/`JSON.stringify`), it is a `Box<str>`
//! validated by [`is_json`], a few hundred bytes of code instead of serde_json's tens of
//! kilobytes (docs/DECISIONS.md, "The browser package's size"). Both accept exactly RFC 8259's
//! grammar; a property test holds them to it.

use crate::prelude::*;

/// One JSON value as text, validated: no whitespace around it, nested at most
/// [`MAX_BODY_DEPTH`](crate::MAX_BODY_DEPTH) deep.
#[derive(Clone, Debug)]
pub struct JsonText(Inner);

#[cfg(feature = "json")]
type Inner = Box<serde_json::value::RawValue>;
#[cfg(not(feature = "json"))]
type Inner = Box<str>;

/// Text that is not one JSON value, or one nested deeper than
/// [`MAX_BODY_DEPTH`](crate::MAX_BODY_DEPTH).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidJson;

impl JsonText {
    /// Validates `text` as one JSON value; whitespace around it is dropped.
    pub fn new(text: impl Into<String>) -> Result<Self, InvalidJson> {
        let text = text.into();
        if crate::body::nests_deeper_than(text.as_bytes(), crate::MAX_BODY_DEPTH) {
            return Err(InvalidJson);
        }
        Self::validate(text)
    }

    #[cfg(feature = "json")]
    fn validate(text: String) -> Result<Self, InvalidJson> {
        serde_json::value::RawValue::from_string(text).map(JsonText).map_err(|_| InvalidJson)
    }

    #[cfg(not(feature = "json"))]
    fn validate(text: String) -> Result<Self, InvalidJson> {
        if !is_json(text.as_bytes()) {
            return Err(InvalidJson);
        }
        let trimmed = text.trim_matches(is_space);
        Ok(JsonText(if trimmed.len() == text.len() { text.into() } else { trimmed.into() }))
    }

    /// The JSON text.
    pub fn get(&self) -> &str {
        #[cfg(feature = "json")]
        return self.0.get();
        #[cfg(not(feature = "json"))]
        return &self.0;
    }

    /// The text as serde_json's raw value, to serialize into a JSON frame as is.
    #[cfg(feature = "json")]
    pub(crate) fn raw(&self) -> &serde_json::value::RawValue {
        &self.0
    }
}

#[cfg(feature = "json")]
impl From<Box<serde_json::value::RawValue>> for JsonText {
    /// serde_json's validated text (its depth is the caller's to check).
    fn from(raw: Box<serde_json::value::RawValue>) -> Self {
        JsonText(raw)
    }
}

/// Texts are equal when they are the same text.
impl PartialEq for JsonText {
    fn eq(&self, other: &Self) -> bool {
        self.get() == other.get()
    }
}

impl Eq for JsonText {}

impl core::fmt::Display for InvalidJson {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("not one JSON value nested at most 64 deep")
    }
}

impl core::error::Error for InvalidJson {}

/// JSON's whitespace (RFC 8259, `ws`).
#[cfg(not(feature = "json"))]
fn is_space(ch: char) -> bool {
    matches!(ch, ' ' | '\t' | '\n' | '\r')
}

/// Whether `text` is one JSON value (RFC 8259), whitespace around it allowed, nested at most
/// [`MAX_BODY_DEPTH`](crate::MAX_BODY_DEPTH) deep. `text` is UTF-8 already (it comes from a
/// `str`), so only the grammar is checked: `\u` escapes are four hex digits, paired surrogates
/// or not, as serde_json's raw values accept them.
#[cfg(any(test, not(feature = "json")))]
pub(crate) fn is_json(text: &[u8]) -> bool {
    let mut parser = Parser { text, at: 0 };
    parser.space();
    let valid = parser.value(0);
    parser.space();
    valid && parser.at == text.len()
}

/// A cursor over JSON text; each method consumes one production and says whether it was valid.
#[cfg(any(test, not(feature = "json")))]
struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

#[cfg(any(test, not(feature = "json")))]
impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    /// Consumes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        let next = self.peek() == Some(byte);
        self.at += usize::from(next);
        next
    }

    fn space(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// Consumes `word` (`true`, `false`, `null`).
    fn word(&mut self, word: &[u8]) -> bool {
        let next = self.text.get(self.at..self.at + word.len()) == Some(word);
        self.at += if next { word.len() } else { 0 };
        next
    }

    fn digits(&mut self) -> bool {
        let start = self.at;
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        self.at > start
    }

    fn value(&mut self, depth: usize) -> bool {
        match self.peek() {
            Some(b'{') => self.container(depth, b'}', true),
            Some(b'[') => self.container(depth, b']', false),
            Some(b'"') => self.string(),
            Some(b't') => self.word(b"true"),
            Some(b'f') => self.word(b"false"),
            Some(b'n') => self.word(b"null"),
            _ => self.number(),
        }
    }

    /// An object (`keyed`) or an array, its opening bracket next.
    fn container(&mut self, depth: usize, close: u8, keyed: bool) -> bool {
        if depth == crate::MAX_BODY_DEPTH {
            return false;
        }
        self.at += 1;
        self.space();
        if self.eat(close) {
            return true;
        }
        loop {
            if keyed {
                if !self.string() {
                    return false;
                }
                self.space();
                if !self.eat(b':') {
                    return false;
                }
                self.space();
            }
            if !self.value(depth + 1) {
                return false;
            }
            self.space();
            if self.eat(close) {
                return true;
            }
            if !self.eat(b',') {
                return false;
            }
            self.space();
        }
    }

    fn string(&mut self) -> bool {
        if !self.eat(b'"') {
            return false;
        }
        loop {
            match self.peek() {
                Some(b'"') => {
                    self.at += 1;
                    return true;
                }
                Some(b'\\') => {
                    self.at += 1;
                    let valid = match self.peek() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => {
                            self.at += 1;
                            true
                        }
                        Some(b'u') => {
                            let hex = self.text.get(self.at + 1..self.at + 5);
                            self.at += 5;
                            hex.is_some_and(|hex| hex.iter().all(u8::is_ascii_hexdigit))
                        }
                        _ => false,
                    };
                    if !valid {
                        return false;
                    }
                }
                Some(0x20..) => self.at += 1,
                // A control character, or the end inside the string.
                _ => return false,
            }
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    fn number(&mut self) -> bool {
        self.eat(b'-');
        let integer = self.eat(b'0') || matches!(self.peek(), Some(b'1'..=b'9')) && self.digits();
        if !integer {
            return false;
        }
        if self.eat(b'.') && !self.digits() {
            return false;
        }
        if self.eat(b'e') || self.eat(b'E') {
            let _ = self.eat(b'+') || self.eat(b'-');
            return self.digits();
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn accepts_json_and_refuses_the_rest() {
        for valid in [
            "0",
            "-0.5e+3",
            "1E9",
            "\"a\\u00e9\\n\"",
            "\"\\ud800\"",
            "[]",
            " [1, {\"a\": [true, false, null]}, \"x\"] ",
            "{\"a\":{},\"a\":[]}",
        ] {
            assert!(is_json(valid.as_bytes()), "{valid}");
        }
        for invalid in [
            "",
            " ",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "+1",
            "[1,]",
            "{\"a\"}",
            "{\"a\":1,}",
            "{1:2}",
            "[",
            "\"a",
            "\"\\x\"",
            "\"\\u12g4\"",
            "\"\\u12\"",
            "\"a\tb\"",
            "nul",
            "truex",
            "1 2",
            "[1]]",
            "NaN",
        ] {
            assert!(!is_json(invalid.as_bytes()), "{invalid}");
        }
        let deep = |d: usize| format!("{}{}", "[".repeat(d), "]".repeat(d));
        assert!(is_json(deep(crate::MAX_BODY_DEPTH).as_bytes()));
        assert!(!is_json(deep(crate::MAX_BODY_DEPTH + 1).as_bytes()));
    }

    #[test]
    fn new_trims_and_checks_depth() {
        assert_eq!(JsonText::new(" [1] \n").unwrap().get(), "[1]");
        assert_eq!(JsonText::new("{oops}"), Err(InvalidJson));
        let deep = format!("{}{}", "[".repeat(65), "]".repeat(65));
        assert_eq!(JsonText::new(deep), Err(InvalidJson));
    }
}

/// The browser build's validator and serde_json's accept the same texts.
#[cfg(all(test, feature = "json", not(target_arch = "wasm32")))]
mod agreement {
    use crate::prelude::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn is_json_agrees_with_serde_json(text in r#"[ \t\n\[\]{}:,"\\/a-fu0-9.eE+\-tnrl\x01é]{0,24}"#) {
            let serde = serde_json::from_str::<&serde_json::value::RawValue>(&text).is_ok();
            prop_assert_eq!(super::is_json(text.as_bytes()), serde, "{:?}", text);
        }

        #[test]
        fn is_json_accepts_what_serde_json_writes(value in any::<(u64, i32, bool, Option<String>, Vec<(String, f32)>)>()) {
            let text = serde_json::to_string(&value).unwrap();
            prop_assert!(super::is_json(text.as_bytes()), "{}", text);
        }
    }
}

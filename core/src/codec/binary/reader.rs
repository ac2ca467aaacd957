//! The primitives of the format, read from a borrowed buffer in one pass.
//!
//! Every length and count is checked against the bytes that are left before anything is
//! allocated, so a frame cannot make the decoder allocate more than its own size justifies.

use super::{BinaryError, VERSION};
use crate::body::has_line_break;
use crate::prelude::*;
use crate::{Body, JsonText};

/// A cursor over the bytes of one frame that are not read yet.
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Checks the version byte and reads the kind byte; the reader is left at the first field.
    pub(super) fn open(frame: &'a [u8]) -> Result<(u8, Self), BinaryError> {
        let mut reader = Reader { rest: frame };
        let version = reader.byte()?;
        if version != VERSION {
            return Err(BinaryError::UnsupportedVersion(version));
        }
        let kind = reader.byte()?;
        Ok((kind, reader))
    }

    /// Succeeds when every byte was read.
    pub(super) fn end(&self) -> Result<(), BinaryError> {
        match self.rest.len() {
            0 => Ok(()),
            n => Err(BinaryError::TrailingBytes(n)),
        }
    }

    pub(super) fn byte(&mut self) -> Result<u8, BinaryError> {
        let (&byte, rest) = self.rest.split_first().ok_or(BinaryError::Truncated)?;
        self.rest = rest;
        Ok(byte)
    }

    /// An unsigned LEB128 varint in its shortest form, at most 10 bytes.
    pub(super) fn varint(&mut self) -> Result<u64, BinaryError> {
        let mut value = 0u64;
        for (i, &byte) in self.rest.iter().enumerate().take(10) {
            // The 10th byte holds bit 63 only: anything more overflows (or continues).
            if i == 9 && byte > 1 {
                return Err(BinaryError::VarintOverflow);
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                if byte == 0 && i > 0 {
                    return Err(BinaryError::NonMinimalVarint);
                }
                self.rest = &self.rest[i + 1..];
                return Ok(value);
            }
        }
        // Fewer than 10 bytes, all with the continuation bit.
        Err(BinaryError::Truncated)
    }

    pub(super) fn u32(&mut self, field: &'static str) -> Result<u32, BinaryError> {
        let value = self.varint()?;
        u32::try_from(value).map_err(|_| BinaryError::OutOfRange { field, value })
    }

    pub(super) fn u16(&mut self, field: &'static str) -> Result<u16, BinaryError> {
        let value = self.varint()?;
        u16::try_from(value).map_err(|_| BinaryError::OutOfRange { field, value })
    }

    /// A byte that must be 0 (false) or 1 (true).
    pub(super) fn flag(&mut self, field: &'static str) -> Result<bool, BinaryError> {
        match self.byte()? {
            0 => Ok(false),
            1 => Ok(true),
            value => Err(BinaryError::InvalidTag { field, value: value.into() }),
        }
    }

    /// A byte length that must fit in the rest of the frame.
    fn len(&mut self) -> Result<usize, BinaryError> {
        let len = self.varint()?;
        match usize::try_from(len) {
            Ok(n) if n <= self.rest.len() => Ok(n),
            _ => Err(BinaryError::BadLength(len)),
        }
    }

    /// An item count, where each item takes at least `min_item` bytes: a count the rest of the
    /// frame cannot hold is refused before a vector of that capacity is allocated.
    pub(super) fn count(&mut self, min_item: usize) -> Result<usize, BinaryError> {
        let count = self.varint()?;
        match usize::try_from(count) {
            Ok(n) if n <= self.rest.len() / min_item => Ok(n),
            _ => Err(BinaryError::BadLength(count)),
        }
    }

    /// A varint length, then that many bytes.
    pub(super) fn bytes(&mut self) -> Result<&'a [u8], BinaryError> {
        let len = self.len()?;
        let (bytes, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(bytes)
    }

    /// A varint length, then that many bytes of UTF-8.
    pub(super) fn str(&mut self) -> Result<&'a str, BinaryError> {
        core::str::from_utf8(self.bytes()?).map_err(|_| BinaryError::InvalidUtf8)
    }

    pub(super) fn string(&mut self) -> Result<String, BinaryError> {
        self.str().map(str::to_owned)
    }

    /// A presence byte (0 absent, 1 present), then the value when present.
    pub(super) fn opt<T>(
        &mut self,
        field: &'static str,
        read: impl FnOnce(&mut Self) -> Result<T, BinaryError>,
    ) -> Result<Option<T>, BinaryError> {
        if self.flag(field)? { read(self).map(Some) } else { Ok(None) }
    }

    pub(super) fn opt_varint(&mut self, field: &'static str) -> Result<Option<u64>, BinaryError> {
        self.opt(field, Self::varint)
    }

    pub(super) fn opt_string(
        &mut self,
        field: &'static str,
    ) -> Result<Option<String>, BinaryError> {
        self.opt(field, Self::string)
    }

    /// A body kind byte (0 JSON text, 1 bytes), then a varint length and the bytes.
    ///
    /// JSON text is validated, and must hold no line break and no whitespace around the value:
    /// a body then has exactly one encoding, the one [`JsonText`] keeps (it trims surrounding
    /// whitespace), and forwarding it in a JSON frame cannot break newline-delimited framing.
    /// (Inside valid JSON a line break can only be insignificant whitespace.)
    pub(super) fn body(&mut self) -> Result<Body, BinaryError> {
        let json = match self.byte()? {
            0 => true,
            1 => false,
            value => {
                return Err(BinaryError::InvalidTag { field: "body kind", value: value.into() });
            }
        };
        let bytes = self.bytes()?;
        if !json {
            return Ok(Body::Bytes(bytes.to_vec()));
        }
        let text = core::str::from_utf8(bytes).map_err(|_| BinaryError::InvalidUtf8)?;
        let is_space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | b'\r');
        if bytes.first().is_none_or(is_space)
            || bytes.last().is_none_or(is_space)
            || has_line_break(bytes)
        {
            return Err(BinaryError::InvalidJsonBody);
        }
        // `to_owned` allocates exactly the text's length, so the text keeps the buffer.
        JsonText::new(text.to_owned()).map(Body::Json).map_err(|_| BinaryError::InvalidJsonBody)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn varint(bytes: &[u8]) -> Result<u64, BinaryError> {
        let mut r = Reader { rest: bytes };
        let value = r.varint()?;
        r.end().map(|()| value)
    }

    #[test]
    fn varints_take_the_shortest_form_only() {
        assert_eq!(varint(&[0x00]), Ok(0));
        assert_eq!(varint(&[0x7f]), Ok(127));
        assert_eq!(varint(&[0x80, 0x01]), Ok(128));
        assert_eq!(varint(&[0xac, 0x02]), Ok(300));
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(varint(&max), Ok(u64::MAX));
        assert_eq!(varint(&[0x80, 0x00]), Err(BinaryError::NonMinimalVarint));
        assert_eq!(varint(&[0xff, 0x00]), Err(BinaryError::NonMinimalVarint));
    }

    #[test]
    fn varints_that_overflow_or_stop_short_are_refused() {
        let mut too_big = [0xff; 10];
        too_big[9] = 0x02;
        assert_eq!(varint(&too_big), Err(BinaryError::VarintOverflow));
        assert_eq!(varint(&[0x80; 11]), Err(BinaryError::VarintOverflow));
        assert_eq!(varint(&[]), Err(BinaryError::Truncated));
        assert_eq!(varint(&[0x80, 0x80]), Err(BinaryError::Truncated));
    }

    #[test]
    fn lengths_and_counts_must_fit_in_what_is_left() {
        let mut r = Reader { rest: &[3, b'a', b'b'] };
        assert_eq!(r.bytes(), Err(BinaryError::BadLength(3)));
        // A count of 2 items of at least 3 bytes needs 6 bytes after it.
        let mut r = Reader { rest: &[2, 0, 0, 0, 0, 0] };
        assert_eq!(r.count(3), Err(BinaryError::BadLength(2)));
        let mut r = Reader { rest: &[2, 0, 0, 0, 0, 0, 0] };
        assert_eq!(r.count(3), Ok(2));
        let huge = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Reader { rest: &huge }.count(1), Err(BinaryError::BadLength(u64::MAX)));
    }

    #[test]
    fn integers_must_fit_their_field() {
        let mut r = Reader { rest: &[0x80, 0x80, 0x04] };
        assert_eq!(r.u16("code"), Err(BinaryError::OutOfRange { field: "code", value: 65536 }));
        let mut r = Reader { rest: &[0x80, 0x80, 0x80, 0x80, 0x10] };
        assert_eq!(r.u32("v"), Err(BinaryError::OutOfRange { field: "v", value: 1 << 32 }));
    }

    #[test]
    fn flags_and_tags_are_zero_or_one() {
        assert_eq!(
            Reader { rest: &[2] }.opt_varint("id"),
            Err(BinaryError::InvalidTag { field: "id", value: 2 })
        );
        assert_eq!(
            Reader { rest: &[7, 0] }.body(),
            Err(BinaryError::InvalidTag { field: "body kind", value: 7 })
        );
    }

    #[test]
    fn strings_are_utf8() {
        assert_eq!(Reader { rest: &[2, 0xc3, 0xb1] }.str(), Ok("ñ"));
        assert_eq!(Reader { rest: &[1, 0xc3] }.str(), Err(BinaryError::InvalidUtf8));
    }

    #[test]
    fn json_bodies_are_valid_json_without_surrounding_space() {
        let body = |bytes: &[u8]| {
            let mut frame = vec![0, bytes.len() as u8];
            frame.extend_from_slice(bytes);
            Reader { rest: &frame }.body()
        };
        assert_eq!(
            body(br#"{"a":[1, 2]}"#),
            Ok(Body::Json(JsonText::new(r#"{"a":[1, 2]}"#).unwrap()))
        );
        for bad in [&b""[..], b"{", b"nul", b" 1", b"1\n", b"1 2", b"[1,\n2]", b"{\r}"] {
            assert_eq!(body(bad), Err(BinaryError::InvalidJsonBody), "{bad:?}");
        }
        assert_eq!(body(&[b'"', 0xff, b'"']), Err(BinaryError::InvalidUtf8));
        assert_eq!(Reader { rest: &[1, 2, 0, 255] }.body(), Ok(Body::Bytes(vec![0, 255])));
    }
}

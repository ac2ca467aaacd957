//! Newline-delimited framing for JSON over TCP (so `nc` is a client).
//!
//! A frame is one line: the JSON object, then `\n` (a `\r` before it is tolerated, for telnet).
//! Empty lines are skipped. A line longer than the limit is invalid: the stream must close,
//! because the reader cannot know where the next frame starts without reading the whole line.

use super::FramingError;
use crate::prelude::*;

/// Finds the first complete line in `buf`.
///
/// Returns `Ok(Some((line, consumed)))` with the line's bytes (without `\r\n`, possibly empty)
/// and how many bytes of `buf` it used, `Ok(None)` when `buf` holds no full line yet (and is not
/// over the limit), or [`FramingError::TooLarge`] when the line exceeds `max_line` bytes.
pub fn split(buf: &[u8], max_line: usize) -> Result<Option<(&[u8], usize)>, FramingError> {
    let window = &buf[..buf.len().min(max_line.saturating_add(2))];
    match window.iter().position(|&b| b == b'\n') {
        Some(end) => {
            let line = &buf[..end];
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.len() > max_line {
                return Err(FramingError::TooLarge { len: line.len(), max: max_line });
            }
            Ok(Some((line, end + 1)))
        }
        None if buf.len() > max_line => {
            Err(FramingError::TooLarge { len: buf.len(), max: max_line })
        }
        None => Ok(None),
    }
}

/// Checks what is left when the stream ends: nothing (or only whitespace) is a clean end,
/// anything else is a frame cut short.
pub fn finish(rest: &[u8]) -> Result<(), FramingError> {
    if rest.iter().all(u8::is_ascii_whitespace) {
        Ok(())
    } else {
        Err(FramingError::UnexpectedEof(rest.len()))
    }
}

/// Appends the line terminator after an encoded frame.
pub fn terminate(out: &mut Vec<u8>) {
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn tells_incomplete_from_complete_from_too_long() {
        assert_eq!(split(b"{\"a\"", 10), Ok(None));
        assert_eq!(split(b"{}\n{", 10), Ok(Some((&b"{}"[..], 3))));
        assert_eq!(split(b"{}\r\n", 10), Ok(Some((&b"{}"[..], 4))));
        assert_eq!(split(b"\n", 10), Ok(Some((&b""[..], 1))));
        assert_eq!(split(b"0123456789", 10), Ok(None));
        assert_eq!(split(b"0123456789\n", 10), Ok(Some((&b"0123456789"[..], 11))));
        assert!(matches!(split(b"0123456789a", 10), Err(FramingError::TooLarge { .. })));
        assert!(matches!(split(b"0123456789ab\n", 10), Err(FramingError::TooLarge { .. })));
    }

    #[test]
    fn eof_inside_a_line_is_an_error() {
        assert_eq!(finish(b""), Ok(()));
        assert_eq!(finish(b"\r\n "), Ok(()));
        assert_eq!(finish(b"{\"ty"), Err(FramingError::UnexpectedEof(4)));
    }
}

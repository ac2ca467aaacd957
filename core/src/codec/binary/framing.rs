//! Length-prefixed framing for binary frames on a byte stream (binary TCP).
//!
//! Each frame is preceded by its length as a 4-byte big-endian unsigned integer. The length is
//! known before the frame, so an over-long frame is refused as soon as its prefix arrives,
//! without buffering it; and a frame that fails to decode does not break the stream, because
//! the next frame's start is known.

use crate::codec::{Frame, FramingError};
use crate::prelude::*;

/// The size of the length prefix, in bytes.
pub const PREFIX_LEN: usize = 4;

/// Finds the first complete length-prefixed frame in `buf`.
///
/// Returns `Ok(Some((frame, consumed)))` with the frame's bytes (without the prefix) and how
/// many bytes of `buf` it used, `Ok(None)` when `buf` does not hold a whole frame yet (read
/// more), or [`FramingError::TooLarge`] as soon as a prefix announces more than `max_frame`
/// bytes: the stream must then close. A zero length yields an empty frame, which the decoder
/// refuses like any malformed frame.
pub fn split(buf: &[u8], max_frame: usize) -> Result<Option<(&[u8], usize)>, FramingError> {
    let Some((prefix, rest)) = buf.split_first_chunk::<PREFIX_LEN>() else {
        return Ok(None);
    };
    let len = usize::try_from(u32::from_be_bytes(*prefix)).unwrap_or(usize::MAX);
    if len > max_frame {
        return Err(FramingError::TooLarge { len, max: max_frame });
    }
    Ok(rest.get(..len).map(|frame| (frame, PREFIX_LEN + len)))
}

/// Checks what is left when the stream ends: nothing is a clean end, anything else (a prefix
/// or part of a frame) is a frame cut short.
pub fn finish(rest: &[u8]) -> Result<(), FramingError> {
    match rest.len() {
        0 => Ok(()),
        n => Err(FramingError::UnexpectedEof(n)),
    }
}

/// Appends `frame`'s binary encoding to `out`, preceded by its length.
///
/// Fails only for a frame of 4 GiB or more, which the prefix cannot express; `out` is then
/// left as it was.
pub fn encode_prefixed(frame: &impl Frame, out: &mut Vec<u8>) -> Result<(), FramingError> {
    let start = out.len();
    out.extend_from_slice(&[0; PREFIX_LEN]);
    frame.encode_binary(out);
    let len = out.len() - start - PREFIX_LEN;
    match u32::try_from(len) {
        Ok(prefix) => {
            out[start..start + PREFIX_LEN].copy_from_slice(&prefix.to_be_bytes());
            Ok(())
        }
        Err(_) => {
            out.truncate(start);
            Err(FramingError::TooLarge { len, max: u32::MAX as usize })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ClientFrame, Ping};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn tells_incomplete_from_complete_from_too_large() {
        assert_eq!(split(b"", 10), Ok(None));
        assert_eq!(split(&[0, 0, 0], 10), Ok(None));
        assert_eq!(split(&[0, 0, 0, 3, 1, 2], 10), Ok(None));
        assert_eq!(split(&[0, 0, 0, 3, 1, 2, 3, 9], 10), Ok(Some((&[1, 2, 3][..], 7))));
        assert_eq!(split(&[0, 0, 0, 0, 9], 10), Ok(Some((&[][..], 4))));
        assert_eq!(split(&[0, 0, 0, 10], 10), Ok(None));
        // Refused on the prefix alone, before the frame's bytes arrive.
        assert_eq!(split(&[0, 0, 0, 11], 10), Err(FramingError::TooLarge { len: 11, max: 10 }));
        assert_eq!(
            split(&[0xff, 0xff, 0xff, 0xff], usize::MAX),
            Ok(None),
            "the largest prefix is merely incomplete when the limit allows it"
        );
    }

    #[test]
    fn eof_inside_a_frame_is_an_error() {
        assert_eq!(finish(b""), Ok(()));
        assert_eq!(finish(&[0, 0]), Err(FramingError::UnexpectedEof(2)));
    }

    #[test]
    fn the_prefix_is_the_frame_length_big_endian() {
        let mut out = vec![0xaa];
        encode_prefixed(&ClientFrame::Ping(Ping { id: Some(300) }), &mut out).unwrap();
        assert_eq!(out, [0xaa, 0, 0, 0, 5, 0x01, 0x06, 0x01, 0xac, 0x02]);
        assert_eq!(split(&out[1..], 5), Ok(Some((&out[5..], 9))));
    }
}

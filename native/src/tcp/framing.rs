//! The two framings of a TCP stream: JSON lines and length-prefixed binary frames.

use std::ops::Range;

use enchufe_core::codec::{FramingError, binary, line};

/// Which framing the stream uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// One JSON frame per line.
    Lines,
    /// A 4-byte big-endian length, then a binary frame of that length.
    Prefixed,
}

impl Framing {
    /// Finds the first complete frame in `buf`: its byte range and how many bytes it used.
    /// `Ok(None)`: read more. With [`Framing::Lines`] an empty range is a blank line (skip it).
    pub(crate) fn split(
        self,
        buf: &[u8],
        max: usize,
    ) -> Result<Option<(Range<usize>, usize)>, FramingError> {
        match self {
            Framing::Lines => Ok(line::split(buf, max)?.map(|(line, used)| (0..line.len(), used))),
            Framing::Prefixed => Ok(binary::split(buf, max)?.map(|(frame, used)| {
                // The frame is the end of what was used; the prefix is before it.
                (used - frame.len()..used, used)
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixed_frames_split_and_round_trip() {
        let out = [0, 0, 0, 3, b'a', b'b', b'c', 0, 0, 0, 0];
        assert_eq!(Framing::Prefixed.split(&out[..5], 10), Ok(None));
        assert_eq!(Framing::Prefixed.split(&out, 10), Ok(Some((4..7, 7))));
        assert_eq!(Framing::Prefixed.split(&out[7..], 10), Ok(Some((4..4, 4))));
        let huge = [0, 1, 0, 0];
        assert!(matches!(Framing::Prefixed.split(&huge, 10), Err(FramingError::TooLarge { .. })));
    }

    #[test]
    fn lines_split_with_the_core_codec() {
        assert_eq!(Framing::Lines.split(b"{}\r\nx", 10), Ok(Some((0..2, 4))));
        assert_eq!(Framing::Lines.split(b"{", 10), Ok(None));
    }
}

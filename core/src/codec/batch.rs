//! Batches: several server frames in one WebSocket message, for a client that asked for them
//! (`hello` with `batch: true`; docs/PROTOCOL.md, "Batches").
//!
//! A text message holds JSON frames one per line (each ends with `\n`; the last may not); a
//! binary message holds binary frames each with its 4-byte length prefix, as on binary TCP. A
//! client that did not ask gets one frame per message, without either. Every message of a
//! connection that asked is a batch, of one frame or many, so the layout never has to be
//! guessed. The splitting is the stream framings' ([`line`](super::line),
//! [`binary::split`](super::binary::split)) run over one message instead of a stream.

use super::{DecodeError, Frame, FramingError, binary, line};
use crate::Encoding;

/// Why one frame of a batch could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BatchError {
    /// The batch cannot be split further (a frame over the limit, or cut short): it ends here.
    #[error(transparent)]
    Framing(#[from] FramingError),
    /// This frame did not decode; the next one is read.
    #[error(transparent)]
    Decode(#[from] DecodeError),
}

/// The frames of one batched message, decoded as the message's kind says ([`frames`], then
/// [`Frame::decode`]).
pub fn decode<F: Frame>(
    message: &[u8],
    encoding: Encoding,
    max: usize,
) -> impl Iterator<Item = Result<F, BatchError>> + '_ {
    frames(message, encoding, max).map(move |frame| Ok(F::decode(frame?, encoding)?))
}

/// The frames of one batched WebSocket message, in order: each item is one frame's bytes, to
/// decode with [`Frame::decode_json`](super::Frame::decode_json) or
/// [`Frame::decode_binary`](super::Frame::decode_binary) as the message's kind says. A frame
/// longer than `max`, or one cut short by the end of the message, ends the iteration with an
/// error.
pub fn frames(message: &[u8], encoding: Encoding, max: usize) -> Frames<'_> {
    Frames { rest: message, encoding, max }
}

/// The iterator of [`frames`].
#[derive(Debug)]
pub struct Frames<'a> {
    rest: &'a [u8],
    encoding: Encoding,
    max: usize,
}

impl<'a> Iterator for Frames<'a> {
    type Item = Result<&'a [u8], FramingError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.rest.is_empty() {
                return None;
            }
            let split = match self.encoding {
                Encoding::Json => match line::split(self.rest, self.max) {
                    // The last line needs no newline: the message's end ends it.
                    Ok(None) => Ok(Some((self.rest, self.rest.len()))),
                    split => split,
                },
                Encoding::Binary => binary::split(self.rest, self.max).and_then(|split| {
                    split.ok_or(FramingError::UnexpectedEof(self.rest.len())).map(Some)
                }),
            };
            match split {
                Ok(Some((frame, used))) => {
                    self.rest = &self.rest[used..];
                    if frame.is_empty() && self.encoding == Encoding::Json {
                        continue; // a blank line
                    }
                    return Some(Ok(frame));
                }
                Ok(None) => return None,
                Err(error) => {
                    self.rest = &[];
                    return Some(Err(error));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prelude::*;
    use crate::{Pong, ServerFrame, codec::Frame};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn pong(id: u64) -> ServerFrame {
        ServerFrame::Pong(Pong { id: Some(id) })
    }

    #[cfg(feature = "json")]
    #[test]
    fn a_text_batch_is_one_frame_per_line_and_the_last_needs_no_newline() {
        let message = b"{\"type\":\"pong\",\"id\":1}\n{\"type\":\"pong\",\"id\":2}\n\n{\"type\":\"pong\",\"id\":3}";
        let frames: Vec<ServerFrame> = frames(message, Encoding::Json, 1024)
            .map(|f| ServerFrame::decode_json(f.unwrap()).unwrap())
            .collect();
        assert_eq!(frames, vec![pong(1), pong(2), pong(3)]);
    }

    #[test]
    fn a_binary_batch_is_length_prefixed_frames_and_a_cut_one_is_an_error() {
        let mut message = Vec::new();
        for id in [1, 2] {
            binary::encode_prefixed(&pong(id), &mut message).unwrap();
        }
        let frames: Vec<ServerFrame> = frames(&message, Encoding::Binary, 1024)
            .map(|f| ServerFrame::decode_binary(f.unwrap()).unwrap())
            .collect();
        assert_eq!(frames, vec![pong(1), pong(2)]);
        let cut = &message[..message.len() - 1];
        let last = super::frames(cut, Encoding::Binary, 1024).last().unwrap();
        assert!(matches!(last, Err(FramingError::UnexpectedEof(_))), "{last:?}");
        let over = super::frames(&message, Encoding::Binary, 2).next().unwrap();
        assert!(matches!(over, Err(FramingError::TooLarge { .. })), "{over:?}");
    }
}

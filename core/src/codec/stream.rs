//! The one decoder of a TCP byte stream, for the server, the native client and the load tool.
//!
//! A TCP stream starts as JSON lines ([`line`](super::line): `\r\n` tolerated, blank lines
//! skipped) and may switch to length-prefixed binary frames ([`binary::split`]): when the
//! client's **first** line is a `hello` asking for `"encoding":"binary"`, every byte after that
//! line's `\n` is prefixed, in both directions (docs/PROTOCOL.md, "TCP"). The server's decoder
//! therefore starts with [`Framing::Lines`] and is told each decoded client frame
//! ([`StreamDecoder::switch_on`]); a client that asked for binary reads the server's side
//! prefixed from its first byte, so its decoder starts with [`Framing::Prefixed`].
//!
//! The decoder is sans-IO and borrows the caller's buffer: each side keeps the buffer that suits
//! it (the server frees its own whenever it holds no partial frame), reads into it, and asks for
//! the next frame. Decoding the frame's bytes stays with the caller ([`Frame::decode`] with
//! [`StreamDecoder::encoding`]), because a frame that does not decode does not break the stream,
//! whereas broken framing ([`FramingError`]) does.
//!
//! [`Frame::decode`]: super::Frame::decode

use super::{FramingError, binary, line};
use crate::{ClientFrame, Encoding};

/// How a stream is cut into frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// One JSON frame per line; blank lines are skipped.
    Lines,
    /// A 4-byte big-endian length, then a binary frame of that length.
    Prefixed,
}

/// What [`StreamDecoder::split`] found at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Split<'a> {
    /// The next frame's bytes (without its terminator or prefix), or `None`: read more.
    pub frame: Option<&'a [u8]>,
    /// How many bytes at the start of the buffer are done with: the frame and the blank lines
    /// before it. Also counted when no frame is complete yet, so that blank lines never pile up
    /// in the buffer.
    pub used: usize,
}

/// Where a stream is with respect to the switch, which only its first line may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lines {
    /// No line yet (blank lines do not count).
    NoneYet,
    /// The last frame split was the stream's first line.
    First,
    /// Past the first line.
    Later,
}

/// Cuts one side of a TCP stream into frames: the framing, the limit, and the switch.
#[derive(Clone, Debug)]
pub struct StreamDecoder {
    framing: Framing,
    max_frame: usize,
    lines: Lines,
}

impl StreamDecoder {
    /// A decoder in `framing` that refuses frames over `max_frame` bytes.
    pub const fn new(framing: Framing, max_frame: usize) -> Self {
        StreamDecoder { framing, max_frame, lines: Lines::NoneYet }
    }

    /// The framing the next frame is cut with.
    pub const fn framing(&self) -> Framing {
        self.framing
    }

    /// The encoding of the frames the decoder yields now: JSON for lines, binary for prefixed.
    pub const fn encoding(&self) -> Encoding {
        match self.framing {
            Framing::Lines => Encoding::Json,
            Framing::Prefixed => Encoding::Binary,
        }
    }

    /// Finds the next frame at the start of `buf`, skipping blank lines.
    ///
    /// [`FramingError::TooLarge`] when a line passes the limit without ending, or a prefix
    /// announces more than it: the stream cannot go on, since where the next frame starts is
    /// unknown (a line) or would mean buffering what is refused (a prefix).
    pub fn split<'a>(&mut self, buf: &'a [u8]) -> Result<Split<'a>, FramingError> {
        match self.framing {
            Framing::Prefixed => Ok(match binary::split(buf, self.max_frame)? {
                Some((frame, used)) => Split { frame: Some(frame), used },
                None => Split { frame: None, used: 0 },
            }),
            Framing::Lines => {
                let mut used = 0;
                while let Some((line, n)) = line::split(&buf[used..], self.max_frame)? {
                    used += n;
                    if !line.is_empty() {
                        self.lines = match self.lines {
                            Lines::NoneYet => Lines::First,
                            Lines::First | Lines::Later => Lines::Later,
                        };
                        return Ok(Split { frame: Some(line), used });
                    }
                }
                Ok(Split { frame: None, used })
            }
        }
    }

    /// The switch, on the server's side: told the client frame the last split decoded to,
    /// switches the rest of the stream to prefixed frames if that frame was the stream's first
    /// line and is a `hello` asking for `"encoding":"binary"`. Returns whether it switched (the
    /// server then answers in binary too). A first line that did not decode is still the first
    /// line: the chance to switch is gone.
    pub fn switch_on(&mut self, frame: &ClientFrame) -> bool {
        let switch = self.framing == Framing::Lines
            && self.lines == Lines::First
            && matches!(frame, ClientFrame::Hello(hello) if hello.encoding == Encoding::Binary);
        if switch {
            self.framing = Framing::Prefixed;
        }
        switch
    }

    /// Checks what is left unread when the stream ends: nothing (or, between lines, only
    /// whitespace) is a clean end; anything else is [`FramingError::UnexpectedEof`].
    pub fn finish(&self, rest: &[u8]) -> Result<(), FramingError> {
        match self.framing {
            Framing::Lines => line::finish(rest),
            Framing::Prefixed => binary::finish(rest),
        }
    }
}

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::*;
    use crate::codec::{Frame, json};
    use crate::prelude::*;
    use crate::{Hello, Ping};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    /// Feeds `input` to `decoder` in pieces of `chunk` bytes, as reads would deliver it, and
    /// collects the frames; the caller's part is only the buffer.
    fn frames(
        decoder: &mut StreamDecoder,
        input: &[u8],
        chunk: usize,
    ) -> Result<Vec<Vec<u8>>, FramingError> {
        let mut buf = Vec::new();
        let mut out = Vec::new();
        for piece in input.chunks(chunk) {
            buf.extend_from_slice(piece);
            loop {
                let split = decoder.split(&buf)?;
                let frame = split.frame.map(<[u8]>::to_vec);
                buf.drain(..split.used);
                match frame {
                    Some(frame) => out.push(frame),
                    None => break,
                }
            }
        }
        decoder.finish(&buf)?;
        Ok(out)
    }

    fn hello(encoding: Encoding) -> ClientFrame {
        ClientFrame::Hello(Hello { v: 1, encoding, ..Hello::default() })
    }

    #[test]
    fn lines_skip_blank_lines_and_tolerate_crlf() {
        let mut decoder = StreamDecoder::new(Framing::Lines, 64);
        let out = frames(&mut decoder, b"\n\r\n{\"a\":1}\r\n\n{\"b\":2}\n\n", 64).unwrap();
        assert_eq!(out, [b"{\"a\":1}".to_vec(), b"{\"b\":2}".to_vec()]);
    }

    #[test]
    fn blank_lines_are_used_up_even_without_a_frame() {
        let mut decoder = StreamDecoder::new(Framing::Lines, 4);
        let split = decoder.split(b"\n\r\n\n{\"a\"").unwrap();
        assert_eq!(split, Split { frame: None, used: 4 });
        // So a stream of blank lines longer than the limit is not too large.
        let blank = [b'\n'; 100];
        assert_eq!(decoder.split(&blank).unwrap(), Split { frame: None, used: 100 });
    }

    #[test]
    fn frames_cut_across_feeds_come_out_whole() {
        let mut input = Vec::new();
        for id in 0..5 {
            json::encode(&ClientFrame::Ping(Ping { id: Some(id) }), &mut input);
            input.extend_from_slice(b"\r\n");
        }
        for chunk in [1, 2, 3, 7, input.len()] {
            let mut decoder = StreamDecoder::new(Framing::Lines, 64);
            let out = frames(&mut decoder, &input, chunk).unwrap();
            assert_eq!(out.len(), 5, "in pieces of {chunk}");
            assert_eq!(
                ClientFrame::decode(&out[4], decoder.encoding()).unwrap(),
                ClientFrame::Ping(Ping { id: Some(4) })
            );
        }
        let mut prefixed = Vec::new();
        for id in 0..5 {
            binary::encode_prefixed(&ClientFrame::Ping(Ping { id: Some(id) }), &mut prefixed)
                .unwrap();
        }
        for chunk in [1, 3, prefixed.len()] {
            let mut decoder = StreamDecoder::new(Framing::Prefixed, 64);
            let out = frames(&mut decoder, &prefixed, chunk).unwrap();
            assert_eq!(out.len(), 5, "in pieces of {chunk}");
            assert_eq!(
                ClientFrame::decode(&out[0], decoder.encoding()).unwrap(),
                ClientFrame::Ping(Ping { id: Some(0) })
            );
        }
    }

    #[test]
    fn a_first_line_hello_for_binary_switches_what_follows() {
        let mut input = Vec::new();
        json::encode(&hello(Encoding::Binary), &mut input);
        input.extend_from_slice(b"\r\n");
        binary::encode_prefixed(&ClientFrame::Ping(Ping { id: Some(3) }), &mut input).unwrap();
        // In one buffer: the prefixed frame right after the line is cut as one.
        let mut decoder = StreamDecoder::new(Framing::Lines, 64);
        let first = decoder.split(&input).unwrap();
        let frame = ClientFrame::decode(first.frame.unwrap(), decoder.encoding()).unwrap();
        assert!(decoder.switch_on(&frame));
        assert_eq!((decoder.framing(), decoder.encoding()), (Framing::Prefixed, Encoding::Binary));
        let rest = &input[first.used..];
        let second = decoder.split(rest).unwrap();
        assert_eq!(second.used, rest.len());
        assert_eq!(
            ClientFrame::decode(second.frame.unwrap(), decoder.encoding()).unwrap(),
            ClientFrame::Ping(Ping { id: Some(3) })
        );
        assert!(!decoder.switch_on(&frame), "switched once only");
    }

    #[test]
    fn only_the_first_line_can_switch() {
        let mut decoder = StreamDecoder::new(Framing::Lines, 64);
        // Blank lines do not count; a JSON hello does not switch; nor a binary one after it.
        let split = decoder.split(b"\n\n{}\n").unwrap();
        assert_eq!(split.frame, Some(&b"{}"[..]));
        assert!(!decoder.switch_on(&hello(Encoding::Json)));
        decoder.split(b"{}\n").unwrap();
        assert!(!decoder.switch_on(&hello(Encoding::Binary)));
        assert_eq!(decoder.framing(), Framing::Lines);
        // Nor a hello for binary before any line, nor on a prefixed stream.
        assert!(!StreamDecoder::new(Framing::Lines, 64).switch_on(&hello(Encoding::Binary)));
        let mut prefixed = StreamDecoder::new(Framing::Prefixed, 64);
        assert!(!prefixed.switch_on(&hello(Encoding::Binary)));
    }

    #[test]
    fn too_large_frames_break_the_stream() {
        let mut decoder = StreamDecoder::new(Framing::Lines, 4);
        assert_eq!(
            decoder.split(b"\n12345"),
            Err(FramingError::TooLarge { len: 5, max: 4 }),
            "a line over the limit, before its end arrives"
        );
        assert!(matches!(decoder.split(b"123456\n"), Err(FramingError::TooLarge { .. })));
        assert_eq!(decoder.split(b"1234\n").unwrap().frame, Some(&b"1234"[..]));
        let mut decoder = StreamDecoder::new(Framing::Prefixed, 4);
        assert_eq!(
            decoder.split(&[0, 0, 0, 5]),
            Err(FramingError::TooLarge { len: 5, max: 4 }),
            "a prefix over the limit, before the frame arrives"
        );
    }

    #[test]
    fn eof_inside_a_frame_is_not_a_clean_end() {
        let lines = StreamDecoder::new(Framing::Lines, 64);
        assert_eq!(lines.finish(b""), Ok(()));
        assert_eq!(lines.finish(b"\r\n"), Ok(()));
        assert_eq!(lines.finish(b"{\"ty"), Err(FramingError::UnexpectedEof(4)));
        let mut decoder = StreamDecoder::new(Framing::Prefixed, 64);
        assert_eq!(decoder.finish(b""), Ok(()));
        assert_eq!(decoder.finish(&[0, 0, 0]), Err(FramingError::UnexpectedEof(3)));
        assert_eq!(
            frames(&mut decoder, &[0, 0, 0, 2, 1, 6, 0, 0, 0, 9, 1], 2),
            Err(FramingError::UnexpectedEof(5))
        );
    }
}

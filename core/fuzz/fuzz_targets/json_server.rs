//! JSON server frames: any bytes decode or fail without panicking, and a frame that decodes
//! re-encodes on one line to text that decodes and re-encodes to itself.
#![no_main]

use enchufe_core::ServerFrame;
use enchufe_core::codec::{Frame, json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = json::decode_server(data) {
        let mut text = Vec::new();
        frame.encode_json(&mut text);
        assert!(!text.contains(&b'\n'), "a JSON frame is one line");
        let again = ServerFrame::decode_json(&text).expect("an encoded frame decodes");
        let mut text_again = Vec::new();
        again.encode_json(&mut text_again);
        assert_eq!(text_again, text, "encoding is a fixed point");
    }
});

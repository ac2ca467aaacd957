//! Binary server frames: any bytes decode or fail without panicking; a frame that decodes is
//! exactly its own encoding (every frame has one), and it survives the JSON encoding too.
#![no_main]

use enchufe_core::ServerFrame;
use enchufe_core::codec::{Frame, binary};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = binary::decode_server(data) {
        let mut bytes = Vec::new();
        frame.encode_binary(&mut bytes);
        assert_eq!(bytes, data, "{frame:?}");
        let mut text = Vec::new();
        frame.encode_json(&mut text);
        assert_eq!(ServerFrame::decode_json(&text).ok(), Some(frame));
    }
});

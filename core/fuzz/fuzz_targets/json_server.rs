//! JSON server frames: any bytes decode or fail without panicking, and a frame that decodes
//! survives another round trip.
#![no_main]

use enchufe_core::ServerFrame;
use enchufe_core::codec::{Frame, json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(frame) = json::decode_server(data) {
        let mut text = Vec::new();
        frame.encode_json(&mut text);
        assert_eq!(ServerFrame::decode_json(&text).ok(), Some(frame));
    }
});

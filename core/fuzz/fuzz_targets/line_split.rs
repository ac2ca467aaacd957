//! Newline framing: a stream of any bytes, with any limit, splits into lines within the limit
//! or stops with an error, never panics; each line's JSON decoding never panics either.
#![no_main]

use enchufe_core::codec::{json, line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&limit, mut rest)) = data.split_first() else { return };
    let max = usize::from(limit);
    while let Ok(Some((frame, used))) = line::split(rest, max) {
        assert!(frame.len() <= max && frame.len() < used && used <= rest.len());
        let _ = json::decode_client(frame);
        let _ = json::decode_server(frame);
        rest = &rest[used..];
    }
    let _ = line::finish(rest);
});

//! Length-prefixed framing: a stream of any bytes, with any limit, splits into frames within
//! the limit or stops with an error, never panics; each frame's decoding never panics either.
#![no_main]

use enchufe_core::codec::binary;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&limit, mut rest)) = data.split_first() else { return };
    let max = usize::from(limit);
    while let Ok(Some((frame, used))) = binary::split(rest, max) {
        assert!(
            frame.len() <= max && used == frame.len() + binary::PREFIX_LEN && used <= rest.len()
        );
        let _ = binary::decode_client(frame);
        let _ = binary::decode_server(frame);
        rest = &rest[used..];
    }
    let _ = binary::finish(rest);
});

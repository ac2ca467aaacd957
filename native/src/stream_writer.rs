//! Writing batches of shared frames to a byte stream (the TCP and WebSocket writers).

use std::{
    io::{self, IoSlice},
    sync::Arc,
};

use tokio::io::{AsyncWrite, AsyncWriteExt as _};

use crate::hub::{Form, Outgoing};

/// Slices per `writev` (Linux takes at most 1024).
const MAX_SLICES: usize = 512;

/// Writes every frame of `batch` in `form` with vectored writes: each frame's bytes are the
/// ones shared by all its subscribers, so a delivery costs a slice, not a copy, and no write
/// buffer outlives the batch (an idle connection holds none).
///
/// The streams given here (a TCP write half, an upgraded connection's) write vectors natively.
pub(crate) async fn write_batch(
    wr: &mut (impl AsyncWrite + Unpin),
    batch: &[Arc<Outgoing>],
    form: Form,
) -> io::Result<()> {
    let mut slices = Vec::with_capacity(batch.len().min(MAX_SLICES));
    for chunk in batch.chunks(MAX_SLICES) {
        slices.clear();
        slices.extend(chunk.iter().map(|frame| IoSlice::new(frame.form(form))));
        write_all(wr, &mut slices).await?;
    }
    Ok(())
}

async fn write_all(
    wr: &mut (impl AsyncWrite + Unpin),
    slices: &mut [IoSlice<'_>],
) -> io::Result<()> {
    let mut rest = slices;
    while !rest.is_empty() {
        let n = wr.write_vectored(rest).await?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        IoSlice::advance_slices(&mut rest, n);
    }
    Ok(())
}

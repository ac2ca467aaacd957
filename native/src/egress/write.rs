//! Writing batches of shared frames to a byte stream (the TCP and WebSocket writers).

use std::{
    io::{self, IoSlice},
    sync::Arc,
};

use async_tungstenite::tungstenite::protocol::frame::{
    FrameHeader,
    coding::{Data, OpCode},
};
use enchufe_core::Encoding;
use tokio::io::{AsyncWrite, AsyncWriteExt as _};

use super::{Form, Outgoing};

/// The most bytes of frames one batched WebSocket message holds; a frame larger than it goes in
/// a message of its own.
pub(crate) const BATCH_MESSAGE: usize = 64 * 1024;

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

/// Writes `batch` to a WebSocket whose client reads batches: the frames in as few messages as
/// [`BATCH_MESSAGE`] allows — JSON lines in a text message, length-prefixed binary frames in a
/// binary one (docs/PROTOCOL.md, "Batches"). Each frame is still its shared bytes (the JSON line
/// and the length-prefixed forms); only the messages' headers are made here.
pub(crate) async fn write_ws_batches(
    wr: &mut (impl AsyncWrite + Unpin),
    batch: &[Arc<Outgoing>],
    encoding: Encoding,
) -> io::Result<()> {
    let (form, opcode) = match encoding {
        Encoding::Json => (Form::JsonLine, OpCode::Data(Data::Text)),
        Encoding::Binary => (Form::PrefixedBinary, OpCode::Data(Data::Binary)),
    };
    // The messages: where each starts in `batch`, and its payload's length.
    let mut messages: Vec<(usize, usize)> = Vec::new();
    for (index, frame) in batch.iter().enumerate() {
        let len = frame.form(form).len();
        match messages.last_mut() {
            Some((_, size)) if *size + len <= BATCH_MESSAGE => *size += len,
            _ => messages.push((index, len)),
        }
    }
    let mut heads = Vec::with_capacity(messages.len() * 4);
    let mut ends = Vec::with_capacity(messages.len());
    for &(_, size) in &messages {
        // Writing into a Vec cannot fail.
        let _ = FrameHeader { opcode, ..FrameHeader::default() }.format(size as u64, &mut heads);
        ends.push(heads.len());
    }
    let mut slices = Vec::with_capacity(batch.len() + messages.len());
    let mut head_start = 0;
    for (message, &(first, _)) in messages.iter().enumerate() {
        let last = messages.get(message + 1).map_or(batch.len(), |&(next, _)| next);
        slices.push(IoSlice::new(&heads[head_start..ends[message]]));
        head_start = ends[message];
        slices.extend(batch[first..last].iter().map(|frame| IoSlice::new(frame.form(form))));
    }
    for chunk in slices.chunks_mut(MAX_SLICES) {
        write_all(wr, chunk).await?;
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

//! Many subscribed connections at once: how `fanout` and `idle` open theirs.

use std::{future::Future, sync::Arc};

use enchufe_core::RoomName;
use tokio::{sync::Semaphore, task::JoinSet};

use super::{
    BenchError, Target,
    wire::{self, Conn},
};

/// Connections being opened at the same time (so a server's accept backlog never overflows).
const CONNECT_AT_ONCE: usize = 32;

/// Opens `count` connections to `target`, subscribes connection `i` to `room(i)`, then runs
/// `serve(i, conn)` as its own task. Returns the tasks once every connection is subscribed, or
/// the first error.
pub(super) async fn open<T, F, Fut>(
    target: &Target,
    count: usize,
    room: impl Fn(usize) -> RoomName,
    serve: F,
) -> Result<JoinSet<Option<T>>, BenchError>
where
    T: Send + 'static,
    F: Fn(usize, Conn) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let mut tasks = JoinSet::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel(count.max(1));
    let connecting = Arc::new(Semaphore::new(CONNECT_AT_ONCE));
    for i in 0..count {
        let (target, room, serve) = (target.clone(), room(i), serve.clone());
        let (ready, connecting) = (ready_tx.clone(), connecting.clone());
        tasks.spawn(async move {
            let conn = async {
                let _permit = connecting.acquire().await;
                let mut conn = wire::connect(&target).await?;
                conn.subscribe(&room).await?;
                Ok::<_, BenchError>(conn)
            }
            .await;
            match conn {
                Ok(conn) => {
                    let _ = ready.send(Ok(())).await;
                    Some(serve(i, conn).await)
                }
                Err(error) => {
                    let _ = ready.send(Err(error)).await;
                    None
                }
            }
        });
    }
    drop(ready_tx);
    for _ in 0..count {
        match ready_rx.recv().await {
            Some(Ok(())) => {}
            Some(Err(error)) => return Err(error),
            None => return Err(BenchError::Closed),
        }
    }
    Ok(tasks)
}

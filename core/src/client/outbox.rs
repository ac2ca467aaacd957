//! Publishes waiting for their `ack`: bounded, in order, kept across reconnects.

use crate::prelude::*;
use alloc::collections::VecDeque;

use crate::{Body, ClientFrame, Publish, RoomName};

/// A publish the server has not acknowledged yet.
#[derive(Clone, Debug)]
pub(crate) struct PendingPublish {
    pub(crate) id: u64,
    pub(crate) room: RoomName,
    pub(crate) body: Body,
}

impl PendingPublish {
    /// The frame that sends (or re-sends, with the same id) this publish.
    pub(crate) fn frame(&self) -> ClientFrame {
        ClientFrame::Publish(Publish {
            room: self.room.clone(),
            body: self.body.clone(),
            id: Some(self.id),
        })
    }
}

/// The outbox: every publish from the moment [`publish`](super::Client::publish) accepts it
/// until its `ack` (or a refusal). Entries are not marked "sent": whatever is in the outbox
/// when a connection comes up is sent on it, in order, because either it was never sent or it
/// was sent on a connection that is gone, with its ack possibly lost. The server's
/// de-duplication by (client id, publish id) turns the second kind into a repeated `ack`.
#[derive(Clone, Debug)]
pub(crate) struct Outbox {
    entries: VecDeque<PendingPublish>,
    capacity: usize,
}

impl Outbox {
    pub(crate) fn new(capacity: usize) -> Self {
        Outbox { entries: VecDeque::new(), capacity }
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Queues `publish`, or hands it back when the outbox is full.
    pub(crate) fn push(&mut self, publish: PendingPublish) -> Result<(), PendingPublish> {
        if self.entries.len() >= self.capacity {
            return Err(publish);
        }
        self.entries.push_back(publish);
        Ok(())
    }

    /// The publish with `id`, if it still waits for its ack.
    pub(crate) fn get(&self, id: u64) -> Option<&PendingPublish> {
        self.iter().find(|p| p.id == id)
    }

    pub(crate) fn contains(&self, id: u64) -> bool {
        self.entries.iter().any(|p| p.id == id)
    }

    /// Removes the publish with this id (acknowledged or refused); `None` for an unknown id,
    /// such as a second `ack` of a retried publish.
    pub(crate) fn remove(&mut self, id: u64) -> Option<PendingPublish> {
        let index = self.entries.iter().position(|p| p.id == id)?;
        self.entries.remove(index)
    }

    /// Removes the publishes `refuse` says no to, in order, and returns them.
    pub(crate) fn remove_where(
        &mut self,
        mut refuse: impl FnMut(&PendingPublish) -> bool,
    ) -> Vec<PendingPublish> {
        let mut refused = Vec::new();
        self.entries.retain(|p| {
            let no = refuse(p);
            if no {
                refused.push(p.clone());
            }
            !no
        });
        refused
    }

    /// The pending publishes, oldest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &PendingPublish> {
        self.entries.iter()
    }

    /// Empties the outbox, oldest first. (The queue taken whole: `VecDeque::drain`, made for
    /// any range, is half a KB more in the browser package.)
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = PendingPublish> + use<> {
        core::mem::take(&mut self.entries).into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn publish(id: u64) -> PendingPublish {
        PendingPublish {
            id,
            room: RoomName::new("r").unwrap(),
            body: Body::Json(crate::JsonText::new(id.to_string()).unwrap()),
        }
    }

    #[test]
    fn is_bounded_and_hands_back_what_does_not_fit() {
        let mut outbox = Outbox::new(2);
        assert!(outbox.push(publish(1)).is_ok());
        assert!(outbox.push(publish(2)).is_ok());
        let refused = outbox.push(publish(3)).unwrap_err();
        assert_eq!(refused.id, 3);
        assert_eq!(outbox.len(), 2);
        // Room again once an ack removes one.
        assert_eq!(outbox.remove(1).map(|p| p.id), Some(1));
        assert!(outbox.push(publish(4)).is_ok());
        assert_eq!(outbox.iter().map(|p| p.id).collect::<Vec<_>>(), [2, 4]);
    }

    #[test]
    fn removes_by_id_once_and_keeps_order() {
        let mut outbox = Outbox::new(8);
        for id in 1..=4 {
            outbox.push(publish(id)).unwrap();
        }
        assert!(outbox.remove(3).is_some());
        assert!(outbox.remove(3).is_none(), "a repeated ack finds nothing");
        assert!(outbox.remove(99).is_none());
        let refused = outbox.remove_where(|p| p.id == 2);
        assert_eq!(refused.len(), 1);
        assert_eq!(outbox.iter().map(|p| p.id).collect::<Vec<_>>(), [1, 4]);
        let frame = outbox.iter().next().unwrap().frame();
        assert_eq!(frame.id(), Some(1));
        assert_eq!(outbox.drain().count(), 2);
        assert_eq!(outbox.len(), 0);
    }

    #[test]
    fn zero_capacity_refuses_everything() {
        let mut outbox = Outbox::new(0);
        assert!(outbox.push(publish(1)).is_err());
        assert_eq!(outbox.capacity(), 0);
    }
}

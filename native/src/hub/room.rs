//! One room: its sequence, history, members, and the ordered fan-out.

use std::sync::{Arc, Mutex, MutexGuard};

use super::{
    HubConfig, Now, Outgoing, Push, SendQueue,
    history::{DedupeKey, History},
    history_budget::HistoryBudget,
    send_queue::{Pulled, Replay},
};
use enchufe_core::{
    Body, Join, Joined, Member, Message, Presence, PresenceAction, RoomName, ServerFrame,
};

/// A room. All state sits behind one lock, held while a publish takes its seq and is pushed to
/// every subscriber's queue: that is what makes every subscriber see one order. Nothing awaits
/// under it; pushes never block (a full queue overflows instead).
#[derive(Debug)]
pub(crate) struct Room {
    name: RoomName,
    /// This numbering of the room (`joined.epoch`): a room created again after the hub forgot it,
    /// or by a restarted server, starts from seq 1 under a new epoch.
    epoch: Arc<str>,
    state: Mutex<State>,
    /// The hub's budget for every room's history, which this room's history counts against.
    budget: Arc<HistoryBudget>,
    /// Its namespace's rules, fixed when it is created.
    rules: RoomRules,
}

/// A room's own rules: the server's limits, or its namespace's (auth policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoomRules {
    /// Messages kept (0: none; history is off).
    pub history_len: usize,
    /// How long messages are kept, in seconds.
    pub history_age_secs: u64,
    /// Whether members are announced and listed at all.
    pub presence: bool,
}

/// Who joins: the member others see, the queue it is sent to, and what it may see.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Joiner<'a> {
    pub(crate) member: &'a Member,
    pub(crate) queue: &'a SendQueue,
    pub(crate) sees: Sees,
    /// The room's members on every node (a shared engine's answer); `None`: this node's.
    pub(crate) listed: Option<&'a [Member]>,
}

/// What a joining member may see besides the messages (its rights in this room).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sees {
    /// Other members (`joined.members`, `presence`).
    pub presence: bool,
    /// Stored messages: a `join` with `since` is replayed; without this right it is answered
    /// with `recovered: false` and nothing replayed.
    pub history: bool,
}

#[derive(Debug, Default)]
struct State {
    seq: u64,
    history: History,
    members: Vec<Subscriber>,
    /// Set when the hub forgot the room (idle, empty); whoever still holds it must look it up again.
    removed: bool,
}

#[derive(Debug)]
struct Subscriber {
    member: Member,
    queue: SendQueue,
    /// Whether publishes are pushed to it; false while its writer catches up on a replay.
    live: bool,
    /// Whether it is sent `presence` (its rights allow it).
    presence: bool,
}

/// The result of a publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// The message's seq (the original one for a repeated publish id).
    pub seq: u64,
    /// True when the publish id was seen before: nothing was delivered this time.
    pub duplicate: bool,
    /// True when that id was seen before with a different body: not a retry but a reused key;
    /// nothing was stored or delivered, and the caller refuses the publish (4008, HTTP 422).
    pub reused: bool,
    /// The epoch `seq` counts in (the room's numbering, as in `joined.epoch`).
    pub epoch: Arc<str>,
    /// How many subscribers on this node it was pushed to (0 for a duplicate, and on a shared
    /// engine, whose messages reach this node's subscribers from the engine instead).
    pub delivered: usize,
}

/// A page of stored messages for a reader that saw `since` in some epoch (REST).
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// The room's epoch; `None` when the room does not exist (no numbering yet).
    pub epoch: Option<Arc<str>>,
    /// True when `since` counted in another numbering of the room (another epoch, or without
    /// one a seq above the room's): the page starts at the room's start instead.
    pub reset: bool,
    /// The messages, the oldest first.
    pub messages: Vec<Message>,
}

/// Sessions whose queue overflowed during an operation, with how many frames each dropped; the
/// hub disconnects them once the room's lock is released.
pub(crate) type Overflowed = Vec<(Arc<str>, usize)>;

/// Why a room operation did not happen.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Gone {
    /// The hub removed this room; look it up again.
    Removed,
    /// The session's queue is closed; it is disconnecting.
    Closed,
    /// The room does not exist and the hub holds as many as it may.
    Full,
}

impl Room {
    /// A room numbered from 1 under `epoch`, which must differ from every earlier room's of
    /// that name (on this server and any earlier run of it).
    pub(crate) fn new(
        name: RoomName,
        epoch: String,
        budget: Arc<HistoryBudget>,
        rules: RoomRules,
    ) -> Self {
        Room { name, epoch: epoch.into(), state: Mutex::default(), budget, rules }
    }

    /// The oldest a stored message may be at `now` (ms), by this room's age limit.
    fn cutoff(&self, now: Now) -> Option<u64> {
        now.ms.checked_sub(self.rules.history_age_secs.saturating_mul(1000))
    }

    /// Evicts the stored messages with seq ≤ `seq` (the history budget's oldest first).
    pub(crate) fn evict_through(&self, seq: u64) {
        self.lock().history.evict_through(seq, &self.budget);
    }

    /// Whether the message `seq` is still stored.
    pub(crate) fn holds(&self, seq: u64) -> bool {
        self.lock().history.holds(seq)
    }

    /// Whether a reader's `since` counts in another numbering of this room (whose seq is `seq`):
    /// another epoch, or (a reader that sent none) a seq this numbering never reached — the hub
    /// forgot the room or the server restarted. Such a `since` means nothing here, so everything
    /// stored is new to the reader.
    pub(crate) fn counts_elsewhere(
        &self,
        seq: u64,
        since: Option<u64>,
        epoch: Option<&str>,
    ) -> bool {
        epoch.is_some_and(|e| *e != *self.epoch) || since.is_some_and(|since| since > seq)
    }

    pub(crate) fn name(&self) -> &RoomName {
        &self.name
    }

    /// Stores and fans out a message, unless `key` was published before. Gives the body back if
    /// the hub forgot this room meanwhile (look it up again).
    #[cfg(test)]
    pub(crate) fn publish(
        &self,
        from: &str,
        body: Body,
        key: Option<DedupeKey>,
        now: Now,
        overflowed: &mut Overflowed,
    ) -> Result<Published, Body> {
        let mut run = vec![(body, key)];
        match self.publish_run(from, &mut run, now, overflowed) {
            Some(mut published) => Ok(published.remove(0)),
            None => Err(run.remove(0).0),
        }
    }

    /// Stores and fans out a run of one sender's messages, in order, as [`Room::publish`] does
    /// each: under one lock of the room, and pushed to each subscriber's queue at once (one lock
    /// of each queue for the run, not one per message). A message whose key was published
    /// before — earlier in the run too — is not stored again. Takes the run, or leaves it as it
    /// was and returns `None` if the hub forgot this room meanwhile (look it up again).
    pub(crate) fn publish_run(
        &self,
        from: &str,
        run: &mut Vec<(Body, Option<DedupeKey>)>,
        now: Now,
        overflowed: &mut Overflowed,
    ) -> Option<Vec<Published>> {
        let mut state = self.lock();
        if state.removed {
            return None;
        }
        state.history.expire(self.cutoff(now), &self.budget);
        let mut published = Vec::with_capacity(run.len());
        let mut fresh = Vec::with_capacity(run.len());
        for (body, key) in run.drain(..) {
            let epoch = self.epoch.clone();
            if let Some(seq) = key.as_ref().and_then(|k| state.history.seq_of(k)) {
                // The same key with another body is not a retry: refuse it rather than
                // acknowledge a message that was never stored.
                let reused = state.history.body(seq).is_some_and(|stored| *stored != body);
                published.push(Published { seq, duplicate: true, reused, epoch, delivered: 0 });
                continue;
            }
            state.seq += 1;
            let seq = state.seq;
            let message = Outgoing::new(ServerFrame::Message(Message {
                room: self.name.clone(),
                seq,
                from: from.to_owned(),
                ts: now.unix_ms,
                body,
            }));
            if self.rules.history_len > 0 {
                let len = self.rules.history_len;
                state.history.push(seq, message.clone(), now.ms, key, len, &self.budget);
            }
            fresh.push(message);
            published.push(Published { seq, duplicate: false, reused: false, epoch, delivered: 0 });
        }
        if !fresh.is_empty() {
            let mut live = 0;
            for sub in state.members.iter().filter(|s| s.live) {
                live += 1;
                if let Push::Overflow { dropped } = sub.queue.push_all(&fresh) {
                    overflowed.push((sub.member.session.as_str().into(), dropped));
                }
            }
            // Each new message went to every live subscriber (counted in the one pass over them).
            for p in published.iter_mut().filter(|p| !p.duplicate) {
                p.delivered = live;
            }
        }
        Some(published)
    }

    /// Adds a subscriber (or re-answers a repeated join of this room): queues `joined`, then a
    /// [`Replay`] of the stored messages with seq > `join.since`, and tells the other members
    /// (in rooms of up to [`HubConfig::presence_limit`] members). A new member with a replay to
    /// catch up on is not pushed live messages until its writer has pulled the replay up to
    /// the room's latest seq (then it goes live, under this lock: no gap, no duplicate).
    /// Returns whether the member is new.
    pub(crate) fn join(
        self: &Arc<Self>,
        joiner: Joiner<'_>,
        join: &Join,
        config: &HubConfig,
        now: Now,
        overflowed: &mut Overflowed,
    ) -> Result<bool, Gone> {
        let Joiner { member, queue, sees, listed } = joiner;
        let mut state = self.lock();
        if state.removed {
            return Err(Gone::Removed);
        }
        // Checked under the room lock: a disconnect closes the queue first, then takes the
        // session's rooms, so either it sees this room or this join sees the closed queue.
        if queue.is_closed() {
            return Err(Gone::Closed);
        }
        state.history.expire(self.cutoff(now), &self.budget);
        let other_numbering = self.counts_elsewhere(state.seq, join.since, join.epoch.as_deref());
        let (since, recovered) = match join.since {
            // Without the history right nothing stored is sent: a `since` is not recovered.
            Some(_) if !sees.history => (None, false),
            _ if other_numbering => (Some(0), false),
            None => (None, true),
            Some(since) => (
                Some(since),
                since == state.seq || state.history.first_seq().is_some_and(|f| since + 1 >= f),
            ),
        };
        // The first message to replay: after `since`, and no earlier than what is stored.
        let replay_from = since.map(|since| {
            let first = state.history.first_seq().unwrap_or(state.seq + 1);
            (since + 1).max(first)
        });
        let replays = replay_from.is_some_and(|next| next <= state.seq);
        let is_new = !state.members.iter().any(|s| s.member.session == member.session);
        if is_new {
            if self.rules.presence && state.members.len() < config.presence_limit {
                let presence = presence(&self.name, PresenceAction::Join, member);
                for sub in state.members.iter().filter(|s| s.presence) {
                    deliver(sub, &presence, overflowed);
                }
            }
            state.members.push(Subscriber {
                member: member.clone(),
                queue: queue.clone(),
                live: !replays,
                presence: sees.presence && self.rules.presence,
            });
        }
        let members = if sees.presence && self.rules.presence {
            match listed {
                Some(everyone) => listed_elsewhere(everyone, member, config.presence_limit),
                None => listed_members(&state.members, member, config.presence_limit),
            }
        } else {
            Vec::new()
        };
        let joined = Outgoing::new(ServerFrame::Joined(Joined {
            room: self.name.clone(),
            seq: state.seq,
            members,
            recovered,
            id: join.id,
            epoch: self.epoch.to_string(),
        }));
        let mut push = queue.push(&joined);
        if let (Push::Queued, Some(next), true) = (push, replay_from, replays) {
            // A new member catches up and then goes live; a member already live gets the stored
            // messages up to now again (live ones keep coming behind them).
            let until = if is_new { None } else { Some(state.seq) };
            push = queue.push_replay(Replay::new(Arc::clone(self), next, until));
        }
        if let Push::Overflow { dropped } = push {
            overflowed.push((member.session.as_str().into(), dropped));
        }
        Ok(is_new)
    }

    /// Pulls a replay's next stretch for `queue`'s writer: stored messages from seq `*next` up
    /// to `until` (`None`: the room's latest), about `budget` bytes of them, into `into`, moving
    /// `*next` on. When a replay without `until` reaches the latest seq, the subscriber goes
    /// live: from now on publishes push to it.
    pub(crate) fn replay(
        &self,
        queue: &SendQueue,
        next: &mut u64,
        until: Option<u64>,
        budget: usize,
        into: &mut Vec<Arc<Outgoing>>,
    ) -> Pulled {
        let mut state = self.lock();
        let Some(member) = state.members.iter().position(|s| s.queue.same(queue)) else {
            return Pulled::Done; // it left the room meanwhile: nothing more is owed
        };
        let last = until.map_or(state.seq, |until| until.min(state.seq));
        if *next <= last {
            if state.history.first_seq().is_none_or(|first| first > *next) {
                return Pulled::Gap;
            }
            let encoding = queue.encoding();
            let mut bytes = 0;
            for (seq, message) in state.history.since(*next - 1) {
                if seq > last || bytes >= budget {
                    break;
                }
                bytes += message.encoded(encoding).len();
                into.push(Arc::clone(message));
                *next = seq + 1;
            }
            if *next <= last {
                return Pulled::More;
            }
        }
        if until.is_none() {
            state.members[member].live = true;
        }
        Pulled::Done
    }

    /// Removes a member and tells the others (in rooms of up to `presence_limit` members).
    /// Returns false if it was not a member.
    pub(crate) fn leave(
        &self,
        session: &str,
        presence_limit: usize,
        overflowed: &mut Overflowed,
    ) -> bool {
        let mut state = self.lock();
        let Some(index) = state.members.iter().position(|s| s.member.session == session) else {
            return false;
        };
        let gone = state.members.remove(index);
        if self.rules.presence && state.members.len() < presence_limit {
            let presence = presence(&self.name, PresenceAction::Leave, &gone.member);
            for sub in state.members.iter().filter(|s| s.presence) {
                deliver(sub, &presence, overflowed);
            }
        }
        true
    }

    /// Up to `limit` stored messages with seq > `since` (the oldest stored when `since` is None),
    /// and bodies of at most half an outbound queue.
    pub(crate) fn messages(
        &self,
        since: Option<u64>,
        limit: usize,
        config: &HubConfig,
        now: Now,
    ) -> Vec<Message> {
        let mut state = self.lock();
        state.history.expire(self.cutoff(now), &self.budget);
        // Half the high-water mark: an answer never pauses its connection on its own.
        state.history.messages(since.unwrap_or(0), limit, config.page_bytes())
    }

    /// Up to `limit` stored messages after `since`, unless `since` counts in another numbering
    /// ([`Room::counts_elsewhere`]): then from the room's start, with `reset` set.
    pub(crate) fn page(
        &self,
        since: Option<u64>,
        epoch: Option<&str>,
        limit: usize,
        config: &HubConfig,
        now: Now,
    ) -> Page {
        let mut state = self.lock();
        state.history.expire(self.cutoff(now), &self.budget);
        let reset = self.counts_elsewhere(state.seq, since, epoch);
        let since = if reset { 0 } else { since.unwrap_or(0) };
        let messages = state.history.messages(since, limit, config.page_bytes());
        Page { epoch: Some(self.epoch.clone()), reset, messages }
    }

    /// The room's name, seq, epoch and member count.
    pub(crate) fn info(&self) -> super::RoomInfo {
        let state = self.lock();
        super::RoomInfo {
            room: self.name.clone(),
            seq: state.seq,
            epoch: self.epoch.to_string(),
            members: state.members.len(),
        }
    }

    /// Expires old history; if the room is then empty and has no members, marks it removed and
    /// returns true (the caller, holding the rooms map, forgets it).
    /// A shared engine's mirror is never forgotten here (`forget: false`): the engine's driver
    /// releases it ([`super::Hub::release_rooms`]).
    pub(crate) fn sweep(&self, now: Now, forget: bool) -> bool {
        let mut state = self.lock();
        state.history.expire(self.cutoff(now), &self.budget);
        if forget && state.members.is_empty() && state.history.is_empty() {
            state.removed = true;
        }
        state.removed
    }

    /// This numbering of the room (`joined.epoch`).
    pub(crate) fn epoch(&self) -> &str {
        &self.epoch
    }

    /// The latest seq.
    pub(crate) fn seq(&self) -> u64 {
        self.lock().seq
    }

    /// The members this node has.
    pub(crate) fn members(&self) -> Vec<Member> {
        self.lock().members.iter().map(|s| s.member.clone()).collect()
    }

    /// A shared engine's mirror: starts at `seq` with the stored messages `history` (the
    /// oldest first; those older than the room's age limit are left out).
    pub(crate) fn load(&self, seq: u64, history: &[Message], now: Now) {
        let mut state = self.lock();
        state.seq = seq;
        if self.rules.history_len == 0 {
            return;
        }
        let oldest = now.unix_ms.saturating_sub(self.rules.history_age_secs.saturating_mul(1000));
        for message in history.iter().filter(|m| m.ts >= oldest && m.seq <= seq) {
            // Stored as if at the time it was published, so it ages out when it would have.
            let at = now.ms.saturating_sub(now.unix_ms.saturating_sub(message.ts));
            let (seq, len) = (message.seq, self.rules.history_len);
            let message = Outgoing::new(ServerFrame::Message(message.clone()));
            state.history.push(seq, message, at, None, len, &self.budget);
        }
    }

    /// A message a shared engine numbered: fanned out and stored if it is the next one.
    pub(crate) fn apply(
        &self,
        message: Message,
        now: Now,
        overflowed: &mut Overflowed,
    ) -> super::engine::Applied {
        use super::engine::Applied;
        let mut state = self.lock();
        if state.removed {
            return Applied::NotHeld(message);
        }
        let seq = message.seq;
        if seq <= state.seq {
            return Applied::Stale;
        }
        if seq > state.seq + 1 {
            return Applied::Gap { after: state.seq, message };
        }
        state.seq = seq;
        state.history.expire(self.cutoff(now), &self.budget);
        let at = now.ms.saturating_sub(now.unix_ms.saturating_sub(message.ts));
        let message = Outgoing::new(ServerFrame::Message(message));
        for sub in state.members.iter().filter(|s| s.live) {
            deliver(sub, &message, overflowed);
        }
        if self.rules.history_len > 0 {
            let len = self.rules.history_len;
            state.history.push(seq, message, at, None, len, &self.budget);
        }
        Applied::Delivered
    }

    /// Tells this node's members who may see presence another node's `presence` frame (in
    /// rooms of up to the presence limit).
    pub(crate) fn tell(
        &self,
        frame: &Arc<Outgoing>,
        config: &HubConfig,
        overflowed: &mut Overflowed,
    ) {
        let state = self.lock();
        if !self.rules.presence || state.members.len() >= config.presence_limit {
            return;
        }
        for sub in state.members.iter().filter(|s| s.presence) {
            deliver(sub, frame, overflowed);
        }
    }

    /// Marks a shared engine's mirror removed if it has no member here; returns whether it did
    /// (the caller, holding the rooms map, forgets it). Its history stays in the store.
    pub(crate) fn release(&self) -> bool {
        let mut state = self.lock();
        if state.members.is_empty() {
            state.removed = true;
            state.history.clear(&self.budget);
        }
        state.removed
    }

    /// Marks a shared engine's mirror removed whoever is still in it, and drops its history.
    pub(crate) fn forget(&self) {
        let mut state = self.lock();
        state.removed = true;
        state.history.clear(&self.budget);
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing under this lock panics on input; a poisoned lock still holds consistent state.
        crate::sync::lock(&self.state)
    }
}

/// Queues `frame` for `sub`, noting an overflow.
fn deliver(sub: &Subscriber, frame: &Arc<Outgoing>, overflowed: &mut Overflowed) {
    if let Push::Overflow { dropped } = sub.queue.push(frame) {
        overflowed.push((sub.member.session.as_str().into(), dropped));
    }
}

/// `joined.members` from a shared engine's list of every node's members: the joining member
/// first, then up to `limit - 1` others.
fn listed_elsewhere(everyone: &[Member], joining: &Member, limit: usize) -> Vec<Member> {
    let others = everyone.iter().filter(|m| m.session != joining.session);
    std::iter::once(joining.clone()).chain(others.take(limit.saturating_sub(1)).cloned()).collect()
}

/// `joined.members`: everyone in a room of up to `limit` members; in a larger room the joining
/// member and the first `limit - 1` others (the room's size is in `GET /api/rooms`).
fn listed_members(members: &[Subscriber], joining: &Member, limit: usize) -> Vec<Member> {
    if members.len() <= limit {
        return members.iter().map(|s| s.member.clone()).collect();
    }
    let others = members.iter().filter(|s| s.member.session != joining.session);
    std::iter::once(joining.clone())
        .chain(others.take(limit.saturating_sub(1)).map(|s| s.member.clone()))
        .collect()
}

fn presence(room: &RoomName, action: PresenceAction, member: &Member) -> Arc<Outgoing> {
    Outgoing::new(ServerFrame::Presence(Presence {
        room: room.clone(),
        action,
        member: member.clone(),
    }))
}

//! [`Client`]: the application's handle on a connection driven in the background.

use enchufe_core::{Body, Message, RoomName, client::ConnState};
use tokio::sync::{Mutex, mpsc, oneshot, watch};

use super::{
    Endpoint, Error, Event, JoinInfo, Options,
    driver::{Channels, Command, Driver, Reply},
    seed,
    transport::Dial,
};

/// A connection to an enchufe server that survives transport failures: it reconnects with
/// backoff, re-joins its rooms with `since` (so no message is missed or repeated), and re-sends
/// unacknowledged publishes with their ids (so none is delivered twice).
///
/// Calls take `&self`, so one client can publish from one task while another reads events
/// (share it in an `Arc`). Each call is a request to the background task that owns the
/// connection; it resolves with the server's answer, whenever the client is next online.
///
/// ```no_run
/// # async fn demo() -> Result<(), enchufe::client::Error> {
/// use enchufe::client::{Event, Options, connect};
/// let client = connect("tcp://127.0.0.1:8481", Options::default().name("ana")).await?;
/// client.join("lobby", None).await?;
/// let seq = client.publish_json("lobby", &serde_json::json!({"text": "hi"})).await?;
/// while let Some(event) = client.next_event().await {
///     if let Event::Message(message) = event {
///         println!("[{}] {}: {:?}", message.seq, message.from, message.body);
///         if message.seq == seq {
///             break;
///         }
///     }
/// }
/// client.close().await;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Client {
    endpoint: Endpoint,
    commands: mpsc::Sender<Command>,
    state: watch::Receiver<ConnState>,
    events: Mutex<mpsc::Receiver<Event>>,
}

/// Connects to `url` (`ws://…`, `tcp://…` or `udp://…`) and waits until the client is online.
///
/// Fails if the URL is invalid or the first connection attempt fails (the server is not
/// there, refused the `hello`, or did not answer within [`Options::connect_timeout`]). Once
/// online, later failures are not errors: the client reconnects by itself.
pub async fn connect(url: &str, options: Options) -> Result<Client, Error> {
    Client::connect(url, options).await
}

impl Client {
    /// See [`connect`].
    pub async fn connect(url: &str, options: Options) -> Result<Client, Error> {
        let (client, first) = Client::spawn(url, options)?;
        match first.await {
            Ok(Ok(())) => Ok(client),
            Ok(Err(error)) => {
                client.close().await;
                Err(error)
            }
            Err(_) => Err(Error::Closed),
        }
    }

    /// Starts a client for `url` without waiting for it to come online: calls made meanwhile
    /// are carried out once it is. For applications that may start before their server.
    /// Must be called within a tokio runtime.
    pub fn start(url: &str, options: Options) -> Result<Client, Error> {
        Client::spawn(url, options).map(|(client, _)| client)
    }

    fn spawn(
        url: &str,
        options: Options,
    ) -> Result<(Client, oneshot::Receiver<Result<(), Error>>), Error> {
        let endpoint: Endpoint = url.parse()?;
        let mut config = options.client_config(seed::client_id());
        // The WebSocket reader splits batches (transport/ws.rs), so it asks for them.
        config.batch = matches!(endpoint, Endpoint::Ws { .. });
        let machine = enchufe_core::client::Client::new(config, seed::random_u64());
        let (commands_tx, commands) = mpsc::channel(64);
        let (events, events_rx) = mpsc::channel(options.event_buffer.max(1));
        let (state, state_rx) = watch::channel(ConnState::Idle);
        let (first, first_rx) = oneshot::channel();
        let tls = if endpoint.tls() {
            Some(super::tls::connector(options.ca_file.as_deref())?)
        } else {
            None
        };
        let driver = Driver::new(
            machine,
            endpoint.clone(),
            Dial { encoding: options.encoding, tls },
            Channels { commands, events, state, first },
        );
        tokio::spawn(driver.run());
        let client = Client {
            endpoint,
            commands: commands_tx,
            state: state_rx,
            events: Mutex::new(events_rx),
        };
        Ok((client, first_rx))
    }

    /// The server this client connects to.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The connection state now.
    pub fn state(&self) -> ConnState {
        self.state.borrow().clone()
    }

    /// The session id while online.
    pub fn session(&self) -> Option<String> {
        match &*self.state.borrow() {
            ConnState::Online { session } => Some(session.clone()),
            _ => None,
        }
    }

    /// Waits until the client is online and returns the session id; [`Error::Closed`] if it
    /// is closed first.
    pub async fn wait_online(&self) -> Result<String, Error> {
        let mut state = self.state.clone();
        let state = state
            .wait_for(|s| matches!(s, ConnState::Online { .. } | ConnState::Closed))
            .await
            .map_err(|_| Error::Closed)?;
        match &*state {
            ConnState::Online { session } => Ok(session.clone()),
            _ => Err(Error::Closed),
        }
    }

    /// Joins `room`; with `since`, every stored message after that seq is replayed first (as
    /// [`Event::Message`]s right after this resolves). The client re-joins by itself after
    /// every reconnect, from the last seq it delivered.
    pub async fn join(&self, room: impl AsRef<str>, since: Option<u64>) -> Result<JoinInfo, Error> {
        let room = RoomName::new(room.as_ref())?;
        self.request(|reply| Command::Join { room, since, reply }).await
    }

    /// Leaves `room`: its messages stop, and it is not re-joined.
    pub async fn leave(&self, room: impl AsRef<str>) -> Result<(), Error> {
        let room = RoomName::new(room.as_ref())?;
        self.request(|reply| Command::Leave { room, reply }).await
    }

    /// Publishes `body` into `room` (joining is not needed) and resolves with its seq once the
    /// server acknowledges it — after any reconnects it takes; the message is stored once.
    pub async fn publish(&self, room: impl AsRef<str>, body: Body) -> Result<u64, Error> {
        let room = RoomName::new(room.as_ref())?;
        self.request(|reply| Command::Publish { room, body, reply }).await
    }

    /// Publishes any serializable value as a JSON body; see [`publish`](Client::publish).
    pub async fn publish_json(
        &self,
        room: impl AsRef<str>,
        value: &impl serde::Serialize,
    ) -> Result<u64, Error> {
        let body = Body::json(value).map_err(Error::InvalidBody)?;
        self.publish(room, body).await
    }

    /// Up to `limit` stored messages of `room` with seq > `since` (the oldest stored when
    /// `None`), the oldest first. The server caps `limit`.
    pub async fn history(
        &self,
        room: impl AsRef<str>,
        since: Option<u64>,
        limit: Option<u32>,
    ) -> Result<Vec<Message>, Error> {
        let room = RoomName::new(room.as_ref())?;
        self.request(|reply| Command::History { room, since, limit, reply }).await
    }

    /// The last seq the client is caught up to in `room` (what a re-join asks to resume from);
    /// `None` for a room not joined.
    pub async fn last_seq(&self, room: impl AsRef<str>) -> Result<Option<u64>, Error> {
        let room = RoomName::new(room.as_ref())?;
        let (reply, answer) = oneshot::channel();
        self.commands.send(Command::LastSeq { room, reply }).await.map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)
    }

    /// The next event: messages, gaps, presence, re-joins, state changes, server errors.
    /// `None` once the client is closed and every event was read.
    ///
    /// Read events while rooms are joined: unread events pile up to [`Options::event_buffer`],
    /// then the client stops reading its transport (it never drops a message on its own).
    pub async fn next_event(&self) -> Option<Event> {
        self.events.lock().await.recv().await
    }

    /// Closes the connection gracefully and stops reconnecting. Pending calls fail with code
    /// 4018 `closed` (a publish may or may not have been delivered). Returns once the transport
    /// is closed; calling it again does nothing.
    pub async fn close(&self) {
        let (reply, done) = oneshot::channel();
        if self.commands.send(Command::Close { reply }).await.is_ok() {
            let _ = done.await;
        }
    }

    /// Replaces the token: reconnects use it, and an online connection sends it now in a
    /// `refresh` — [`Event::Refreshed`] when the server took it; a token it refuses closes the
    /// connection (4009). Refresh before the token expires, or when an [`Event::Error`] with
    /// code 4022 `token_expired` arrives.
    pub async fn refresh(&self, token: impl Into<String>) -> Result<(), Error> {
        let token = token.into();
        self.commands.send(Command::Refresh { token }).await.map_err(|_| Error::Closed)
    }

    async fn request<T>(&self, command: impl FnOnce(Reply<T>) -> Command) -> Result<T, Error> {
        let (reply, answer) = oneshot::channel();
        self.commands.send(command(reply)).await.map_err(|_| Error::Closed)?;
        answer.await.map_err(|_| Error::Closed)?
    }
}

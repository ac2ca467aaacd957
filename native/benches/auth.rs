//! What verifying a token adds to opening a session: the hub's side of a connection, from
//! [`Hub::open`] through `hello` to `welcome`, without a token and with an HS256 or an ES256
//! token (issue 11's "connections per second with and without auth"). The socket's own cost —
//! accept, handshake, the first read — is the same in every case and not measured here.
//!
//! - `session/anonymous`: open, `hello` without a token, take the `welcome`, drop.
//! - `session/hs256`: the same with an HS256 token never seen before (a shared secret).
//! - `session/es256`: the same with an ES256 token never seen before (a public key; what JWKS
//!   deployments use): the signature is checked.
//! - `session/es256_seen_before`: the same token every time (reconnects): the cache of verified
//!   tokens answers, and only `exp` is checked.
//!
//! Run with `cargo bench -p enchufe --bench auth` (the key pair under benches/keys/ is a test
//! fixture, used nowhere else).

use std::{hint::black_box, sync::Arc};

use criterion::{BatchSize, Criterion, Throughput};
use enchufe::{
    auth::{Auth, AuthConfig},
    clock,
    hub::{Hub, HubConfig, Transport},
    mac::Key,
    metrics::Metrics,
};
use enchufe_core::{ClientFrame, Hello, PROTOCOL_VERSION};
use futures_util::FutureExt as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};

const SECRET: &str = "a-bench-secret-of-reasonable-length";
const EC_PRIVATE: &[u8] = include_bytes!("keys/es256-private.pem");
const EC_PUBLIC_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/keys/es256-public.pem");

fn hub(auth: Auth) -> Hub {
    let mut config = HubConfig::default();
    config.rate_per_sec = 0;
    Hub::with_auth(config, Arc::new(Metrics::default()), Key::random(), Arc::new(auth))
}

fn claims() -> serde_json::Value {
    let exp = clock::now().unix_ms / 1000 + 3600;
    serde_json::json!({"sub": "alice", "exp": exp, "rooms": ["chat:*"]})
}

/// Opens a session, says `hello` with `token`, takes its `welcome`, and drops it.
fn session(hub: &Hub, token: Option<&str>) {
    let now = clock::now();
    let mut session = hub.open(Transport::Tcp, now);
    let hello = Hello { v: PROTOCOL_VERSION, token: token.map(str::to_owned), ..Hello::default() };
    session.handle(now, ClientFrame::Hello(hello));
    let mut batch = Vec::new();
    let _ = session.queue().next_batch(&mut batch).now_or_never();
    assert!(!session.is_closed(), "the hello was refused");
    black_box(batch);
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("session");
    group.throughput(Throughput::Elements(1));

    let open = hub(Auth::open());
    group.bench_function("anonymous", |b| b.iter(|| session(&open, None)));

    let hs = hub(Auth::load(AuthConfig { secret: Some(SECRET.into()), ..AuthConfig::default() })
        .expect("an HS256 secret"));
    // A token minted (outside the timing) for each session: never in the cache.
    let mut m = 0u64;
    group.bench_function("hs256", |b| {
        b.iter_batched(
            || {
                m += 1;
                let mut claims = claims();
                claims["n"] = m.into();
                enchufe::auth::mint(SECRET, &claims)
            },
            |token| session(&hs, Some(&token)),
            BatchSize::SmallInput,
        );
    });

    let es = hub(Auth::load(AuthConfig {
        public_key_file: Some(EC_PUBLIC_FILE.into()),
        ..AuthConfig::default()
    })
    .expect("the fixture's public key"));
    let es_key = EncodingKey::from_ec_pem(EC_PRIVATE).expect("the fixture's private key");
    let es_token = |n: u64| {
        let mut claims = claims();
        claims["n"] = n.into(); // a distinct token each time: no cache hit
        jsonwebtoken::encode(&Header::new(Algorithm::ES256), &claims, &es_key)
            .expect("an ES256 token")
    };
    // A token made (and signed, outside the timing) for each session: never in the cache.
    let mut n = 0;
    group.bench_function("es256", |b| {
        b.iter_batched(
            || {
                n += 1;
                es_token(n)
            },
            |token| session(&es, Some(&token)),
            BatchSize::SmallInput,
        );
    });
    // The same token again (a reconnect): the verified-token cache answers.
    let again = es_token(u64::MAX);
    group.bench_function("es256_seen_before", |b| b.iter(|| session(&es, Some(&again))));
    group.finish();
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    bench(&mut criterion);
    criterion.final_summary();
}

//! Accounts' Instagram clients kept between their actions (issue 20), as the app keeps its
//! own: the session already parsed, the `X-Meta-Usdid` signature already made for the hour,
//! the pigeon session and the header dictionary as they stand, and the connections to
//! Instagram through the proxy while they are open.
//!
//! A kept client is handed out again only while the database still holds the session it
//! was last written with (the Fernet token, which changes on every write: another worker
//! process, a login by a person, a session import or a key rotation all write a new one)
//! and the account's proxy is the same, credentials included. Otherwise it is dropped and
//! the client is built from the database, as before. The cache is bounded (the least
//! recently used client goes first) and a client unused for the idle time is dropped, with
//! its connections.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use hashlink::LinkedHashMap;
use icf_core::ids::AccountId;
use icf_instagram::{ClientConfig, InstagramClient, ProxyEndpoint};
use sha2::{Digest as _, Sha256};

/// How many clients a process keeps, and for how long unused.
#[derive(Debug, Clone, Copy)]
pub struct ClientCacheSettings {
    /// 0 keeps none: every action builds its client.
    pub capacity: usize,
    pub idle: Duration,
}

impl Default for ClientCacheSettings {
    fn default() -> Self {
        Self {
            capacity: 1000,
            idle: Duration::from_secs(600),
        }
    }
}

/// One account's client as it was left, with what the database held then.
pub(crate) struct Kept {
    pub client: InstagramClient,
    pub cfg: ClientConfig,
    pub proxy: ProxyEndpoint,
    /// The stored session's token when the client was kept.
    pub token: Option<Digest>,
    /// The session's text that token holds.
    pub saved: Option<Digest>,
}

/// The SHA-256 of a session's text or of its Fernet token: enough to tell whether either
/// changed, without keeping a copy of both (5–6 KB for every kept client).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Digest([u8; 32]);

impl Digest {
    pub(crate) fn of(text: &str) -> Digest {
        Digest(Sha256::digest(text.as_bytes()).into())
    }
}

struct Entry {
    kept: Kept,
    used: Instant,
}

#[derive(Default)]
struct Inner {
    /// In the order they were kept, the least recently used first: `take` removes an
    /// entry and `keep` puts it back at the end, so eviction and the idle sweep take from
    /// the front without scanning (a fleet of 10,000 accounts keeps 10,000 clients).
    entries: LinkedHashMap<AccountId, Entry>,
    sweeper: bool,
}

/// The process's kept clients. Cheap to clone; one per engine.
#[derive(Clone)]
pub struct ClientCache {
    inner: Arc<Mutex<Inner>>,
    settings: ClientCacheSettings,
}

impl ClientCache {
    pub fn new(settings: ClientCacheSettings) -> ClientCache {
        ClientCache {
            inner: Arc::default(),
            settings,
        }
    }

    /// How many clients are kept now.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves a map that is still whole.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The account's kept client, taken out (one action of an account at a time), when the
    /// database still holds its session (`token`) and the account's proxy is `proxy`. A
    /// client kept for another session or proxy is dropped.
    pub(crate) fn take(
        &self,
        id: AccountId,
        token: Option<&str>,
        proxy: &ProxyEndpoint,
    ) -> Option<Kept> {
        let entry = self.lock().entries.remove(&id)?;
        let fresh = entry.used.elapsed() < self.settings.idle;
        (fresh && entry.kept.token == token.map(Digest::of) && &entry.kept.proxy == proxy)
            .then_some(entry.kept)
    }

    /// Keeps the account's client for its next action, making room by dropping the least
    /// recently used one.
    pub(crate) fn keep(&self, id: AccountId, kept: Kept) {
        if self.settings.capacity == 0 {
            return;
        }
        let mut inner = self.lock();
        // Kept again: to the back, as the most recently used.
        inner.entries.remove(&id);
        if inner.entries.len() >= self.settings.capacity {
            inner.entries.pop_front();
        }
        inner.entries.insert(
            id,
            Entry {
                kept,
                used: Instant::now(),
            },
        );
        if !inner.sweeper {
            inner.sweeper = self.start_sweeper();
        }
    }

    /// Drops the clients unused for the idle time; how many.
    pub fn sweep(&self) -> usize {
        sweep(&self.inner, self.settings.idle)
    }

    /// A task that drops idle clients while the cache lives, so an idle process lets its
    /// clients and their connections go. `false` outside a Tokio runtime (tried again at
    /// the next keep).
    fn start_sweeper(&self) -> bool {
        let Ok(rt) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        let weak: Weak<Mutex<Inner>> = Arc::downgrade(&self.inner);
        let idle = self.settings.idle;
        let every = (idle / 4).max(Duration::from_secs(1));
        rt.spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                let Some(inner) = weak.upgrade() else { return };
                sweep(&inner, idle);
            }
        });
        true
    }
}

fn sweep(inner: &Mutex<Inner>, idle: Duration) -> usize {
    let mut inner = inner.lock().unwrap_or_else(|p| p.into_inner());
    let mut dropped = 0;
    // Oldest first: the first one still fresh ends the sweep.
    while inner
        .entries
        .front()
        .is_some_and(|(_, e)| e.used.elapsed() >= idle)
    {
        inner.entries.pop_front();
        dropped += 1;
    }
    dropped
}

#[cfg(test)]
mod tests {
    use icf_instagram::{ProxyScheme, Session};

    use super::*;

    fn proxy(port: u16) -> ProxyEndpoint {
        ProxyEndpoint::new(ProxyScheme::Socks5, "127.0.0.1", port, None)
    }

    fn kept(token: &str, port: u16) -> Kept {
        let session = Session::import("{}").expect("an empty instagrapi session");
        let cfg = ClientConfig::default();
        Kept {
            client: InstagramClient::new(session, &proxy(port), cfg.clone()).expect("client"),
            cfg,
            proxy: proxy(port),
            token: Some(Digest::of(token)),
            saved: None,
        }
    }

    #[tokio::test]
    async fn a_client_comes_back_only_for_its_session_and_proxy() {
        let cache = ClientCache::new(ClientCacheSettings::default());
        let a = AccountId::new();
        cache.keep(a, kept("t1", 1080));
        assert!(cache.take(a, Some("t1"), &proxy(1080)).is_some());
        // Taken out: one action of an account at a time.
        assert!(cache.take(a, Some("t1"), &proxy(1080)).is_none());

        for (token, port) in [(Some("t2"), 1080), (None, 1080), (Some("t1"), 1081)] {
            cache.keep(a, kept("t1", 1080));
            assert!(cache.take(a, token, &proxy(port)).is_none());
            // A stale client is dropped, not kept for later.
            assert!(cache.is_empty());
        }
    }

    #[tokio::test]
    async fn the_cache_is_bounded_and_forgets_idle_clients() {
        let cache = ClientCache::new(ClientCacheSettings {
            capacity: 2,
            // Far above the few milliseconds between a keep and a take here, so a busy
            // machine cannot make a fresh client look idle.
            idle: Duration::from_millis(800),
        });
        let ids: Vec<AccountId> = (0..3).map(|_| AccountId::new()).collect();
        for id in &ids {
            cache.keep(*id, kept("t", 1080));
            std::thread::sleep(Duration::from_millis(2));
        }
        assert_eq!(cache.len(), 2);
        // The least recently used went first.
        assert!(cache.take(ids[0], Some("t"), &proxy(1080)).is_none());
        assert!(cache.take(ids[2], Some("t"), &proxy(1080)).is_some());

        std::thread::sleep(Duration::from_millis(850));
        assert!(
            cache.take(ids[1], Some("t"), &proxy(1080)).is_none(),
            "idle"
        );
        cache.keep(ids[1], kept("t", 1080));
        std::thread::sleep(Duration::from_millis(850));
        assert_eq!(cache.sweep(), 1);
        assert!(cache.is_empty());

        let none = ClientCache::new(ClientCacheSettings {
            capacity: 0,
            idle: Duration::from_secs(60),
        });
        none.keep(ids[0], kept("t", 1080));
        assert!(none.is_empty());
    }
}

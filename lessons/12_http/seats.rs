//! The seat table: who is connected, what each connection is doing, and whose seat a newcomer
//! with a whole request takes when every seat is taken; the door is a table of the same kind.
//! Also [`Places`], a plain count with a limit, for the threads that say goodbye.

use std::collections::BTreeMap;
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Every connection being served, each in a seat, at most `max` of them.
pub struct Seats {
    /// How many seats there are.
    pub max: usize,
    /// The seats taken. Locked only for a moment.
    table: Mutex<Table>,
}

/// The seats taken, by a number given to each connection.
#[derive(Default)]
struct Table {
    /// The number the next connection gets.
    next: u64,
    /// Each seated connection, by its number.
    open: BTreeMap<u64, Client>,
}

/// One seated connection.
struct Client {
    /// Where it comes from.
    peer: SocketAddr,
    /// When it took its seat.
    since: Instant,
    /// How many requests it has made so far.
    requests: u64,
    /// Since when it has been waiting for its next request's head; `None` while the server is
    /// answering one. Only a waiting connection can lose its seat.
    waiting_since: Option<Instant>,
    /// The same connection, to close it from here if its seat goes to a newcomer. `None` if
    /// the system could not copy the handle: then the seat is never given away.
    stream: Option<TcpStream>,
}

/// A row of the live page.
pub struct Row {
    pub number: u64,
    pub peer: SocketAddr,
    pub connected_for: Duration,
    pub requests: u64,
}

impl Seats {
    pub fn new(max: usize) -> Arc<Seats> {
        Arc::new(Seats {
            max,
            table: Mutex::new(Table::default()),
        })
    }

    /// A free seat for a new connection, waiting for its first request; `None` if all are taken.
    pub fn take(self: &Arc<Self>, peer: SocketAddr, stream: &TcpStream) -> Option<Seat> {
        let mut table = self.lock();
        if table.open.len() >= self.max {
            return None;
        }
        Some(self.seat(&mut table, peer, stream, Some(Instant::now())))
    }

    // ANCHOR: give_up_a_seat
    /// A seat for a newcomer (already `answering` its request, or waiting at the door): a free
    /// seat if there is one, or else the seat of the connection that has waited longest for a
    /// request, if it has waited at least `idle_at_least`; that connection is closed. Returns
    /// who lost their seat, too. When no seat can be had: `Err(Some(time))` if one will be
    /// idle long enough after `time`, `Err(None)` if every seat is answering a request.
    pub fn take_from_the_slowest(
        self: &Arc<Self>,
        peer: SocketAddr,
        stream: &TcpStream,
        answering: bool,
        idle_at_least: Duration,
    ) -> Result<(Seat, Option<SocketAddr>), Option<Duration>> {
        let mut table = self.lock();
        let mut given_up = None;
        if table.open.len() >= self.max {
            let (number, waiting_since) = table
                .open
                .iter()
                .filter(|(_, client)| client.stream.is_some())
                .filter_map(|(number, client)| Some((*number, client.waiting_since?)))
                .min_by_key(|(_, waiting_since)| *waiting_since)
                .ok_or(None)?;
            if let Some(too_soon) = idle_at_least.checked_sub(waiting_since.elapsed()) {
                return Err(Some(too_soon));
            }
            let slowest = table.open.remove(&number).ok_or(None)?;
            // Its thread's read ends at once; the client sees its connection closed, which
            // HTTP lets a server do at any time (RFC 9112 §9.5).
            if let Some(stream) = slowest.stream {
                let _ = stream.shutdown(Shutdown::Both);
            }
            given_up = Some(slowest.peer);
        }
        let waiting_since = (!answering).then(Instant::now);
        Ok((self.seat(&mut table, peer, stream, waiting_since), given_up))
    }
    // ANCHOR_END: give_up_a_seat

    fn seat(
        self: &Arc<Self>,
        table: &mut Table,
        peer: SocketAddr,
        stream: &TcpStream,
        waiting_since: Option<Instant>,
    ) -> Seat {
        let number = table.next;
        table.next += 1;
        table.open.insert(
            number,
            Client {
                peer,
                since: Instant::now(),
                requests: u64::from(waiting_since.is_none()),
                waiting_since,
                stream: stream.try_clone().ok(),
            },
        );
        Seat {
            seats: Arc::clone(self),
            number,
        }
    }

    /// Every seated connection, for the live page.
    pub fn rows(&self) -> Vec<Row> {
        self.lock()
            .open
            .iter()
            .map(|(number, client)| Row {
                number: *number,
                peer: client.peer,
                connected_for: client.since.elapsed(),
                requests: client.requests,
            })
            .collect()
    }

    /// Locks the table. A thread that panicked while holding the lock left it as it was between
    /// two whole statements (every change is one `insert`, `remove` or assignment), so it is
    /// still usable.
    fn lock(&self) -> MutexGuard<'_, Table> {
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A connection's seat, held by its thread. Dropping it frees the seat, however the thread
/// ends, a panic included: otherwise every panic would keep a seat taken for ever.
pub struct Seat {
    /// Whose table the seat is in.
    seats: Arc<Seats>,
    /// The connection's number in that table.
    pub number: u64,
}

impl Seat {
    /// The connection now waits for its next request, and may lose its seat while it does.
    pub fn waiting(&self) {
        if let Some(client) = self.seats.lock().open.get_mut(&self.number) {
            client.waiting_since = Some(Instant::now());
        }
    }

    /// A request has arrived: the seat can no longer be given away. `false` if it already was.
    pub fn answering(&self) -> bool {
        match self.seats.lock().open.get_mut(&self.number) {
            Some(client) => {
                client.waiting_since = None;
                client.requests += 1;
                true
            }
            None => false,
        }
    }

    /// Whether the seat went to a newcomer.
    pub fn given_away(&self) -> bool {
        !self.seats.lock().open.contains_key(&self.number)
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        self.seats.lock().open.remove(&self.number);
    }
}

/// A count of threads doing one short thing, with a limit.
pub struct Places {
    /// How many places are taken.
    taken: AtomicUsize,
    /// How many there are.
    max: usize,
}

impl Places {
    pub fn new(max: usize) -> Arc<Places> {
        Arc::new(Places {
            taken: AtomicUsize::new(0),
            max,
        })
    }

    /// A place, or `None` if all are taken.
    pub fn take(self: &Arc<Self>) -> Option<Place> {
        self.taken
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |taken| {
                (taken < self.max).then_some(taken + 1)
            })
            .ok()?;
        Some(Place {
            places: Arc::clone(self),
        })
    }
}

/// A place taken; dropping it gives it back.
pub struct Place {
    places: Arc<Places>,
}

impl Drop for Place {
    fn drop(&mut self) {
        self.places.taken.fetch_sub(1, Ordering::AcqRel);
    }
}

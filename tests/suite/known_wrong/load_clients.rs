//! Known answers to exercise 11, wrong and right: each a whole `measure`, built from a few
//! shared pieces so that each differs from the solution in its one mistake.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

/// What `measure` returns, as the check takes it: the good round trips' times, and the errors.
pub type Counts = (Vec<Duration>, usize);

fn message(client: usize, sequence: usize) -> Vec<u8> {
    format!("client {client} message {sequence}\n").into_bytes()
}

fn connect(server: SocketAddr, timeout: Option<Duration>) -> std::io::Result<TcpStream> {
    let stream = match timeout {
        Some(timeout) => TcpStream::connect_timeout(&server, timeout)?,
        None => TcpStream::connect(server)?,
    };
    stream.set_read_timeout(timeout)?;
    stream.set_write_timeout(timeout)?;
    Ok(stream)
}

/// Runs `client` for each client at once, and adds up what they saw.
fn at_once(
    clients: usize,
    client: impl Fn(usize) -> Counts + Send + Sync + Copy + 'static,
) -> Counts {
    let running: Vec<_> = (0..clients)
        .map(|number| thread::spawn(move || client(number)))
        .collect();
    let mut all = (Vec::new(), 0);
    for seen in running
        .into_iter()
        .filter_map(|running| running.join().ok())
    {
        all.0.extend(seen.0);
        all.1 += seen.1;
    }
    all
}

/// One client as it should be, but for `timed` (how a round trip is timed and checked) and
/// whether an error ends it.
fn client(
    server: SocketAddr,
    number: usize,
    messages: usize,
    timeout: Option<Duration>,
    stop_at_an_error: bool,
    round_trip: fn(&mut TcpStream, &[u8], Instant) -> Option<Duration>,
) -> Counts {
    let refused = messages;
    client_after_a_refusal(
        server,
        number,
        messages,
        timeout,
        stop_at_an_error,
        round_trip,
        refused,
    )
}

/// [`client`], with the errors a connection that fails counts: `refused`.
fn client_after_a_refusal(
    server: SocketAddr,
    number: usize,
    messages: usize,
    timeout: Option<Duration>,
    stop_at_an_error: bool,
    round_trip: fn(&mut TcpStream, &[u8], Instant) -> Option<Duration>,
    refused: usize,
) -> Counts {
    let Ok(mut stream) = connect(server, timeout) else {
        return (Vec::new(), refused);
    };
    let (mut good, mut errors) = (Vec::new(), 0);
    let begun = Instant::now();
    for sequence in 0..messages {
        match round_trip(&mut stream, &message(number, sequence), begun) {
            Some(took) => good.push(took),
            None if stop_at_an_error => return (good, errors + messages - sequence),
            None => errors += 1,
        }
    }
    (good, errors)
}

fn right_round_trip(stream: &mut TcpStream, message: &[u8], _: Instant) -> Option<Duration> {
    let started = Instant::now();
    stream.write_all(message).ok()?;
    let mut echo = vec![0; message.len()];
    stream.read_exact(&mut echo).ok()?;
    (echo == message).then(|| started.elapsed())
}

/// Wrong: the exercise as shipped: one client after another, one read, nothing checked.
pub fn one_after_another(
    server: SocketAddr,
    clients: usize,
    messages: usize,
    _: Duration,
) -> Counts {
    let mut all = (Vec::new(), 0);
    for number in 0..clients {
        let seen = client(
            server,
            number,
            messages,
            None,
            true,
            |stream, message, _| {
                let started = Instant::now();
                stream.write_all(message).ok()?;
                let _ = stream.read(&mut vec![0; message.len()]);
                Some(started.elapsed())
            },
        );
        all.0.extend(seen.0);
        all.1 += seen.1;
    }
    all
}

/// Wrong: at once, and checked, but one read taken for the whole echo.
pub fn one_read(server: SocketAddr, clients: usize, messages: usize, t: Duration) -> Counts {
    at_once(clients, move |number| {
        client(
            server,
            number,
            messages,
            Some(t),
            true,
            |stream, message, _| {
                let started = Instant::now();
                stream.write_all(message).ok()?;
                let mut echo = vec![0; message.len()];
                let count = stream.read(&mut echo).ok()?;
                (echo[..count] == *message).then(|| started.elapsed())
            },
        )
    })
}

/// Wrong: the whole echo read, but never compared with the message.
pub fn never_compares(server: SocketAddr, clients: usize, messages: usize, t: Duration) -> Counts {
    at_once(clients, move |number| {
        client(
            server,
            number,
            messages,
            Some(t),
            true,
            |stream, message, _| {
                let started = Instant::now();
                stream.write_all(message).ok()?;
                stream.read_exact(&mut vec![0; message.len()]).ok()?;
                Some(started.elapsed())
            },
        )
    })
}

/// Wrong: an error does not end its client, which goes on over the same connection.
pub fn goes_on_after_an_error(
    server: SocketAddr,
    clients: usize,
    messages: usize,
    t: Duration,
) -> Counts {
    at_once(clients, move |number| {
        client(server, number, messages, Some(t), false, right_round_trip)
    })
}

/// Wrong: an error ends its client, but the messages it never sent are not counted.
pub fn forgets_the_unsent(
    server: SocketAddr,
    clients: usize,
    messages: usize,
    t: Duration,
) -> Counts {
    at_once(clients, move |number| {
        let (good, errors) = client(server, number, messages, Some(t), true, right_round_trip);
        (good, errors.min(1))
    })
}

/// Wrong: a connection that fails counts as one error, not as one per message never sent.
pub fn refusal_is_one_error(
    server: SocketAddr,
    clients: usize,
    messages: usize,
    t: Duration,
) -> Counts {
    at_once(clients, move |number| {
        client_after_a_refusal(server, number, messages, Some(t), true, right_round_trip, 1)
    })
}

/// Wrong: no limit on any wait, so a client whose echo never comes waits for ever.
pub fn no_timeout(server: SocketAddr, clients: usize, messages: usize, _: Duration) -> Counts {
    at_once(clients, move |number| {
        client(server, number, messages, None, true, right_round_trip)
    })
}

/// Wrong: every read and write has the limit it was given, but the connect itself has none, so a
/// client whose connection is never made waits a minute or two.
pub fn connect_has_no_limit(
    server: SocketAddr,
    clients: usize,
    messages: usize,
    t: Duration,
) -> Counts {
    at_once(clients, move |number| {
        // The mistake: a plain connect, with no limit of its own.
        let Ok(mut stream) = TcpStream::connect(server) else {
            return (Vec::new(), messages);
        };
        if stream.set_read_timeout(Some(t)).is_err() || stream.set_write_timeout(Some(t)).is_err() {
            return (Vec::new(), messages);
        }
        let mut good = Vec::new();
        for sequence in 0..messages {
            match right_round_trip(&mut stream, &message(number, sequence), Instant::now()) {
                Some(took) => good.push(took),
                None => return (good, messages - sequence),
            }
        }
        (good, 0)
    })
}

/// Wrong: a limit on every wait, but its own (5 s), not the `timeout` it was given, so a client
/// whose echo never comes waits ten times as long as it was asked to.
pub fn own_timeout(server: SocketAddr, clients: usize, messages: usize, _: Duration) -> Counts {
    at_once(clients, move |number| {
        let own = Duration::from_secs(5);
        client(server, number, messages, Some(own), true, right_round_trip)
    })
}

/// Wrong: the clock stopped once the message is written, before its echo comes.
pub fn times_the_write(server: SocketAddr, clients: usize, messages: usize, t: Duration) -> Counts {
    at_once(clients, move |number| {
        client(
            server,
            number,
            messages,
            Some(t),
            true,
            |stream, message, _| {
                let started = Instant::now();
                stream.write_all(message).ok()?;
                let took = started.elapsed();
                let mut echo = vec![0; message.len()];
                stream.read_exact(&mut echo).ok()?;
                (echo == message).then_some(took)
            },
        )
    })
}

/// Wrong: every round trip timed from the client's start, so each counts the ones before it.
pub fn times_from_the_start(
    server: SocketAddr,
    clients: usize,
    messages: usize,
    t: Duration,
) -> Counts {
    at_once(clients, move |number| {
        client(
            server,
            number,
            messages,
            Some(t),
            true,
            |stream, message, begun| {
                stream.write_all(message).ok()?;
                let mut echo = vec![0; message.len()];
                stream.read_exact(&mut echo).ok()?;
                (echo == message).then(|| begun.elapsed())
            },
        )
    })
}

/// Right, of another design: echoes read as lines with a `BufReader`, errors counted as the
/// solution counts them.
pub fn by_lines(server: SocketAddr, clients: usize, messages: usize, t: Duration) -> Counts {
    at_once(clients, move |number| {
        let Ok(stream) = connect(server, Some(t)) else {
            return (Vec::new(), messages);
        };
        let Ok(mut writer) = stream.try_clone() else {
            return (Vec::new(), messages);
        };
        let mut reader = BufReader::new(stream);
        let mut good = Vec::new();
        for sequence in 0..messages {
            let message = message(number, sequence);
            let started = Instant::now();
            let mut echo = Vec::new();
            let answered = writer.write_all(&message).is_ok()
                && reader.read_until(b'\n', &mut echo).is_ok()
                && echo == message;
            if !answered {
                return (good, messages - sequence);
            }
            good.push(started.elapsed());
        }
        (good, 0)
    })
}

/// What whole reads bring until at least `length` bytes are in: the echo, and whatever came with
/// it. `None` when the connection fails or closes first.
fn what_came(stream: &mut TcpStream, length: usize) -> Option<Vec<u8>> {
    let mut came = Vec::new();
    let mut piece = [0; 1024];
    while came.len() < length {
        let count = stream.read(&mut piece).ok().filter(|&count| count > 0)?;
        came.extend_from_slice(&piece[..count]);
    }
    Some(came)
}

/// Wrong: reads until the echo's length is in, compares those first bytes only, and throws away
/// whatever else the same reads brought: an echo with more after it passes for the message.
pub fn compares_a_prefix(
    server: SocketAddr,
    clients: usize,
    messages: usize,
    t: Duration,
) -> Counts {
    at_once(clients, move |number| {
        client(
            server,
            number,
            messages,
            Some(t),
            true,
            |stream, message, _| {
                let started = Instant::now();
                stream.write_all(message).ok()?;
                let echo = what_came(stream, message.len())?;
                (echo[..message.len()] == *message).then(|| started.elapsed())
            },
        )
    })
}

/// Right, of another design: reads what comes until the echo's length is in, and takes the echo
/// as right only if what came is exactly the message, nothing more. A byte more after an echo,
/// in the same read, is its error, one message before the solution would see it.
pub fn takes_what_came(server: SocketAddr, clients: usize, messages: usize, t: Duration) -> Counts {
    at_once(clients, move |number| {
        client(
            server,
            number,
            messages,
            Some(t),
            true,
            |stream, message, _| {
                let started = Instant::now();
                stream.write_all(message).ok()?;
                let echo = what_came(stream, message.len())?;
                (echo == message).then(|| started.elapsed())
            },
        )
    })
}

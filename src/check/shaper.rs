//! What a real network does to writes, done on purpose: the harness's writes to the learner's
//! program go out cut into pieces (of one to three bytes at their start), or run together with
//! the next write.
//!
//! On loopback each write usually arrives whole, in one read, so a program that treats one read
//! as one message seems to work. Between two machines it does not: a message can arrive in
//! pieces, or two messages in one read. Every check plays its scripted peers through this
//! shaper, so that mistake shows up here, on the learner's own machine.
//!
//! The harness shapes its own writes rather than relaying through a second socket: then the
//! learner's program still sees the scripted client's own address, its resets and its
//! half-closes exactly as the client made them.
//!
//! The cuts come from a seeded generator. Each run picks a seed, and a failure prints it:
//! `CHECK_SEED=N cargo test -p exercises 03` makes the same cuts again (the threads' timing is
//! another matter). The transcript never shows the cuts, so it reads the same whatever the seed.
//! A few steps write as they are, on purpose: `SendInPieces` makes its own pieces, and `Vanish`
//! needs its bytes to arrive.

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The environment variable that fixes the seed.
pub const SEED_VARIABLE: &str = "CHECK_SEED";

/// Only the start of a write is cut into tiny pieces; the rest goes in larger ones, so that a
/// 64 KiB write does not take thousands of pauses.
const TINY_PIECES_FOR: usize = 48;
/// The pause after each tiny piece, so that the other side surely reads it on its own.
const PAUSE_BETWEEN_PIECES: Duration = Duration::from_micros(500);

/// A small, fast, seeded generator (xorshift64*). Good enough to choose cuts; not for secrets.
#[derive(Debug, Clone)]
pub struct Shaper {
    state: u64,
    /// Whether it has cut a write or held one back yet: a verdict names the seed only then.
    used: bool,
}

impl Shaper {
    /// The seed from `CHECK_SEED` if set, else a new one for every run. A `CHECK_SEED` that is
    /// not a seed stops the check with a sentence (and no panic's noise): taking a new seed
    /// instead would let a learner believe the same cuts were made again. (`check` and the
    /// progress list look first, with [`seed_problem`], and stop before anything starts.)
    pub fn seed_for_this_run() -> u64 {
        match seed_given(std::env::var(SEED_VARIABLE).ok().as_deref()) {
            Ok(Some(seed)) => return seed,
            Ok(None) => {}
            Err(sentence) => {
                let _ = writeln!(std::io::stderr(), "\n{sentence}\n");
                std::panic::resume_unwind(Box::new(super::VerdictGiven));
            }
        }
        // Checks may run at the same moment: the counter keeps their seeds apart.
        static RUNS: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.subsec_nanos() as u64 ^ since.as_secs());
        (nanos
            ^ RUNS
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_mul(0x9e37_79b9))
            % 1_000_000
    }

    pub fn new(seed: u64) -> Shaper {
        // Zero is the one state xorshift never leaves; any other start is fine.
        Shaper {
            state: seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1,
            used: false,
        }
    }

    /// A number in `0..below`.
    pub fn below(&mut self, below: usize) -> usize {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let number = self.state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32;
        (number % below.max(1) as u64) as usize
    }

    /// Whether to hold a write back, to send it together with the next one.
    pub fn hold_back(&mut self) -> bool {
        let hold = self.below(3) == 0;
        self.used |= hold;
        hold
    }

    /// Whether it has cut or held back anything so far.
    pub fn was_used(&self) -> bool {
        self.used
    }

    /// Writes all of `bytes`: whole, or with its start cut into pieces of one to three bytes.
    pub fn write(&mut self, stream: &TcpStream, bytes: &[u8]) -> io::Result<()> {
        let mut stream = stream;
        if bytes.is_empty() {
            return Ok(());
        }
        if self.below(3) == 0 {
            return stream.write_all(bytes);
        }
        self.write_in_pieces(stream, bytes)
    }

    /// Writes all of `bytes` with its start cut into pieces of one to three bytes, always: for a
    /// step whose point is the cut, so that no seed lets it go whole.
    pub fn write_in_pieces(&mut self, stream: &TcpStream, bytes: &[u8]) -> io::Result<()> {
        let mut stream = stream;
        if bytes.is_empty() {
            return Ok(());
        }
        self.used = true;
        // Without Nagle's algorithm each small write leaves in a packet of its own at once.
        let _ = stream.set_nodelay(true);
        let mut rest = bytes;
        while !rest.is_empty() {
            let sent = bytes.len() - rest.len();
            let piece = if sent < TINY_PIECES_FOR {
                1 + self.below(3)
            } else {
                1 + self.below(8 * 1024)
            };
            let (now, later) = rest.split_at(piece.min(rest.len()));
            stream.write_all(now)?;
            rest = later;
            if sent < TINY_PIECES_FOR && !rest.is_empty() {
                thread::sleep(PAUSE_BETWEEN_PIECES);
            }
        }
        Ok(())
    }
}

/// Why `CHECK_SEED` is not a seed, if it is set to something else.
pub fn seed_problem() -> Option<String> {
    seed_given(std::env::var(SEED_VARIABLE).ok().as_deref()).err()
}

/// The seed `CHECK_SEED` gives, if it is set and not empty, or why it is not a seed.
fn seed_given(text: Option<&str>) -> Result<Option<u64>, String> {
    let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
        return Ok(None);
    };
    text.parse().map(Some).map_err(|_| {
        format!(
            "{SEED_VARIABLE}={text:?} is not a seed: give the number a failed check printed (a \
             whole number, as in {SEED_VARIABLE}=123456), or leave it out for new cuts"
        )
    })
}

#[cfg(test)]
mod tests {
    /// A seed given is used; an empty one is none; anything else is refused in words, never
    /// swapped silently for a new seed (which would not make the same cuts again).
    #[test]
    fn a_seed_that_is_not_a_number_is_refused() {
        use super::seed_given;
        assert_eq!(seed_given(Some(" 123456 ")), Ok(Some(123456)));
        assert_eq!(seed_given(Some("18446744073709551615")), Ok(Some(u64::MAX)));
        assert_eq!(seed_given(None), Ok(None));
        assert_eq!(seed_given(Some(" ")), Ok(None));
        for wrong in ["abc", "-1", "1e3", "18446744073709551616"] {
            let sentence = seed_given(Some(wrong)).unwrap_err();
            assert!(sentence.starts_with(&format!("CHECK_SEED={wrong:?} is not a seed")));
        }
    }

    use super::Shaper;

    #[test]
    fn the_same_seed_makes_the_same_choices() {
        let choices = |seed| {
            let mut shaper = Shaper::new(seed);
            (0..50).map(|_| shaper.below(3)).collect::<Vec<_>>()
        };
        assert_eq!(choices(7), choices(7));
        assert_ne!(choices(7), choices(8));
        assert!(choices(7).iter().all(|&n| n < 3));
        assert!(
            (0..3).all(|n| choices(7).contains(&n)),
            "every choice is made"
        );
    }
}

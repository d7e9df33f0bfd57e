//! Property tests of [`LineReader`]: for any bytes, cut into reads at any points, it finds the
//! lines, refusals and end that the rules say, and its line in progress holds at most one line's worth of bytes.
//!
//! TCP decides where one read ends and the next begins, so a reader that is right only when a
//! line arrives in one piece is wrong. Examples cannot try every cut; a property test tries a
//! few hundred random inputs, cut at random points, with random short limits so that lines run
//! into them often, and shrinks any failure to a small example.
//!
//! The properties are checked against two deliberately wrong copies of the reader as well, and
//! must catch each: that is what shows they can fail.

use std::collections::VecDeque;
use std::io::{self, ErrorKind, Read};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};

use super::{LineReader, Received};

/// What one call to `next_line` gave: its answer, or the kind of error.
type Outcome = Result<Received, ErrorKind>;

/// One test case: a byte stream, where to cut it into reads, and the line limit.
#[derive(Debug, Clone)]
struct Case {
    bytes: Vec<u8>,
    /// Each cut is a position in `bytes`, and whether a signal interrupts the read there.
    cuts: Vec<(usize, bool)>,
    max_line_bytes: usize,
}

/// Inputs made mostly of the bytes that matter: text, `\r`, `\n`, and half a UTF-8 character.
fn cases() -> impl Strategy<Value = Case> {
    let byte = prop_oneof![4 => Just(b'a'), 2 => Just(b'\r'), 2 => Just(b'\n'), 1 => Just(0xC3)];
    (prop::collection::vec(byte, 0..40), 0..6usize)
        .prop_flat_map(|(bytes, max_line_bytes)| {
            let cuts = prop::collection::vec((0..=bytes.len(), any::<bool>()), 0..12);
            (Just(bytes), cuts, Just(max_line_bytes))
        })
        .prop_map(|(bytes, cuts, max_line_bytes)| Case {
            bytes,
            cuts,
            max_line_bytes,
        })
}

/// A reader that gives its bytes out in the pieces it was given: one piece per `read`, or an
/// `Interrupted` error where a signal was planned.
struct Pieces(VecDeque<Option<Vec<u8>>>);

impl Pieces {
    fn whole(bytes: &[u8]) -> Pieces {
        Pieces(VecDeque::from([Some(bytes.to_vec())]))
    }

    fn cut(case: &Case) -> Pieces {
        let mut cuts = case.cuts.clone();
        cuts.sort();
        let mut pieces = VecDeque::new();
        let mut start = 0;
        for (at, interrupted) in cuts {
            // An empty read means the end of the stream: a cut never makes one.
            if at > start {
                pieces.push_back(Some(case.bytes[start..at].to_vec()));
                start = at;
            }
            if interrupted {
                pieces.push_back(None);
            }
        }
        pieces.push_back(Some(case.bytes[start..].to_vec()));
        Pieces(pieces)
    }
}

impl Read for Pieces {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        match self.0.pop_front() {
            None => Ok(0),
            Some(None) => Err(ErrorKind::Interrupted.into()),
            Some(Some(piece)) if piece.is_empty() => self.read(buffer),
            Some(Some(mut piece)) => {
                let count = piece.len().min(buffer.len());
                buffer[..count].copy_from_slice(&piece[..count]);
                if count < piece.len() {
                    self.0.push_front(Some(piece.split_off(count)));
                }
                Ok(count)
            }
        }
    }
}

/// Makes a reader under test from its input and line limit.
type NewReader<'a, T> = &'a dyn Fn(Pieces, usize) -> T;

/// A property: `Ok` if the reader that the first argument makes gets the case right.
type Property<T> = fn(NewReader<T>, &Case) -> Result<(), TestCaseError>;

/// A line reader under test: the real one, or a wrong copy.
trait SplitsLines {
    fn next_line(&mut self) -> io::Result<Received>;
    /// The most bytes of an unfinished line it can hold without allocating more room.
    fn room(&self) -> usize;
}

impl<R: Read> SplitsLines for LineReader<R> {
    fn next_line(&mut self) -> io::Result<Received> {
        LineReader::next_line(self)
    }
    fn room(&self) -> usize {
        self.partial.capacity()
    }
}

/// Everything `reader` gives, up to and including the end, checking after every call that it
/// never made room for more than one line (the limit, and a `\r`).
fn read_all(mut reader: impl SplitsLines, case: &Case) -> Result<Vec<Outcome>, TestCaseError> {
    let mut outcomes = Vec::new();
    // Every call but the last consumes at least one byte, so this many calls must reach the end.
    for _ in 0..=case.bytes.len() + 1 {
        let outcome = reader.next_line().map_err(|error| error.kind());
        prop_assert!(
            reader.room() <= case.max_line_bytes + 1,
            "the reader made room for {} bytes of a line, with a limit of {}",
            reader.room(),
            case.max_line_bytes
        );
        let end = matches!(outcome, Ok(Received::End { .. }) | Err(_));
        outcomes.push(outcome);
        if end {
            return Ok(outcomes);
        }
    }
    Err(TestCaseError::fail(format!("no end after {outcomes:?}")))
}

/// What the rules say `bytes` hold: every line up to a `\n`, without it and one `\r` before it,
/// refused when longer than the limit; then the end, after a refusal if what is left of an
/// unfinished line is too long already, even for a line that would end in `\r\n`.
fn by_the_rules(bytes: &[u8], max_line_bytes: usize) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let mut rest = bytes;
    while let Some(at) = rest.iter().position(|&byte| byte == b'\n') {
        let line = rest[..at].strip_suffix(b"\r").unwrap_or(&rest[..at]);
        outcomes.push(Ok(if line.len() > max_line_bytes {
            Received::TooLong
        } else {
            Received::Line(line.to_vec())
        }));
        rest = &rest[at + 1..];
    }
    if rest.len() > max_line_bytes + 1 {
        outcomes.push(Ok(Received::TooLong));
    }
    outcomes.push(Ok(Received::End {
        mid_line: !rest.is_empty(),
    }));
    outcomes
}

/// Property 1: cutting the stream into reads, anywhere, with signals between them, changes
/// nothing: the outcomes are those of the stream delivered whole.
fn cuts_change_nothing<T: SplitsLines>(
    new: NewReader<T>,
    case: &Case,
) -> Result<(), TestCaseError> {
    let whole = read_all(new(Pieces::whole(&case.bytes), case.max_line_bytes), case)?;
    let cut = read_all(new(Pieces::cut(case), case.max_line_bytes), case)?;
    prop_assert_eq!(cut, whole, "cut into reads, the stream gave other outcomes");
    Ok(())
}

/// Property 2: delivered whole, the stream gives what the rules say.
fn follows_the_rules<T: SplitsLines>(new: NewReader<T>, case: &Case) -> Result<(), TestCaseError> {
    let outcomes = read_all(new(Pieces::whole(&case.bytes), case.max_line_bytes), case)?;
    let expected = by_the_rules(&case.bytes, case.max_line_bytes);
    prop_assert_eq!(outcomes, expected);
    Ok(())
}

fn config() -> Config {
    Config {
        cases: 512,
        // A failure here is printed, shrunk, by the test; no file of past failures is kept in
        // the source tree (the wrong copies below fail on purpose).
        failure_persistence: None,
        ..Config::default()
    }
}

/// Runs `property` on many cases with `new` as the reader; `Err` describes the smallest failure.
fn check<T: SplitsLines>(
    property: Property<T>,
    new: impl Fn(Pieces, usize) -> T,
    mut runner: TestRunner,
) -> Result<(), TestError<Case>> {
    runner.run(&cases(), |case| property(&new, &case))
}

#[test]
fn cut_anywhere_the_reader_finds_the_same_lines() {
    let result = check(
        cuts_change_nothing,
        LineReader::new,
        TestRunner::new(config()),
    );
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

#[test]
fn the_reader_follows_the_rules() {
    let result = check(
        follows_the_rules,
        LineReader::new,
        TestRunner::new(config()),
    );
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// The mistakes the wrong copy of the reader can make, one at a time.
#[derive(Clone, Copy)]
enum Mistake {
    /// Counts the `\r` of `\r\n` against the limit: a line of exactly the limit, sent by telnet,
    /// is refused, however it is cut. So only the rules catch it.
    CountsTheCarriageReturn,
    /// Allows for the `\r` only when the `\n` came in the same read: a line of exactly the limit
    /// is refused when a read ends between its `\r` and its `\n`.
    AllowsTheCarriageReturnOnlyInOneRead,
}

/// A copy of [`LineReader`] with one deliberate mistake.
struct WrongReader {
    real: LineReader<Pieces>,
    mistake: Mistake,
}

impl WrongReader {
    fn new(mistake: Mistake) -> impl Fn(Pieces, usize) -> WrongReader {
        move |input, max_line_bytes| WrongReader {
            real: LineReader::new(input, max_line_bytes),
            mistake,
        }
    }
}

impl SplitsLines for WrongReader {
    fn room(&self) -> usize {
        self.real.partial.capacity()
    }

    // The real `next_line`, but for the one comparison that `mistake` gets wrong.
    fn next_line(&mut self) -> io::Result<Received> {
        use std::io::BufRead;
        let reader = &mut self.real;
        loop {
            let available = match reader.input.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if available.is_empty() {
                let mid_line = reader.skipping || !reader.partial.is_empty();
                return Ok(Received::End { mid_line });
            }
            let newline = available.iter().position(|&byte| byte == b'\n');
            let piece = &available[..newline.unwrap_or(available.len())];
            let allowance = match self.mistake {
                Mistake::CountsTheCarriageReturn => 0,
                Mistake::AllowsTheCarriageReturnOnlyInOneRead => usize::from(newline.is_some()),
            };
            let fits = reader.partial.len() + piece.len() <= reader.max_line_bytes + allowance;
            if !reader.skipping && fits {
                reader.partial.extend_from_slice(piece);
            }
            let used = piece.len() + usize::from(newline.is_some());
            reader.input.consume(used);
            if reader.skipping {
                reader.skipping = newline.is_none();
                continue;
            }
            if !fits {
                reader.partial.clear();
                reader.skipping = newline.is_none();
                return Ok(Received::TooLong);
            }
            if newline.is_some() {
                let text = reader
                    .partial
                    .strip_suffix(b"\r")
                    .unwrap_or(&reader.partial);
                let received = if text.len() > reader.max_line_bytes {
                    Received::TooLong
                } else {
                    Received::Line(text.to_vec())
                };
                reader.partial.clear();
                return Ok(received);
            }
        }
    }
}

/// The same cases every run, so that the wrong copies are caught every run.
fn deterministic_runner() -> TestRunner {
    TestRunner::new_with_rng(config(), TestRng::deterministic_rng(RngAlgorithm::ChaCha))
}

#[test]
fn the_properties_catch_a_reader_that_counts_the_carriage_return() {
    let new = WrongReader::new(Mistake::CountsTheCarriageReturn);
    let result = check(follows_the_rules, new, deterministic_runner());
    assert!(
        matches!(result, Err(TestError::Fail(..))),
        "the rules did not catch the reader that counts the `\\r`: {result:?}"
    );
}

#[test]
fn the_properties_catch_a_reader_that_allows_the_carriage_return_only_in_one_read() {
    let new = WrongReader::new(Mistake::AllowsTheCarriageReturnOnlyInOneRead);
    let result = check(cuts_change_nothing, new, deterministic_runner());
    let Err(TestError::Fail(why, case)) = result else {
        panic!("cutting did not catch the reader that allows the `\\r` in one read: {result:?}");
    };
    // Only a cut can show the difference, so the smallest failing case has one.
    assert!(!case.cuts.is_empty(), "{why}: {case:?}");
}

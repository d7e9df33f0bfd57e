//! Responses: what one is made of, how it goes out in one write, and the `Date` it carries.

use std::fs::File;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{SystemTime, UNIX_EPOCH};

/// A file up to this size goes out in the same write as the head. A bigger one follows the
/// head in pieces, each as big as the system takes.
const ONE_WRITE_BYTES: u64 = 64 * 1024;

/// A response on its way out.
pub struct Response {
    /// The status code: 200, 404, ...
    pub status: u16,
    /// Headers besides `Date`, `Content-Length` and `Connection`, which `send` writes itself.
    pub headers: Vec<(&'static str, String)>,
    /// What follows the head, unless the request was HEAD.
    pub body: Body,
}

/// What follows the head: text made here, or a file and its length.
pub enum Body {
    /// A page or a message, made whole in memory.
    Text(String),
    /// An open file, and its length when it was opened: copied, not read into memory whole.
    File(File, u64),
}

/// How a response is written: the lesson's way, or the two slower ways chapter 12 measures
/// against it. Set by the environment (`HTTP_WRITES=split`, `HTTP_NODELAY=1`) so that the
/// benchmark can run all three with one binary.
#[derive(Clone, Copy, Debug, Default)]
pub struct Writing {
    /// Write the head and the body with two writes, as this server once did.
    pub split: bool,
    /// Turn off Nagle's algorithm on each connection (`TCP_NODELAY`).
    pub nodelay: bool,
}

impl Writing {
    /// `HTTP_WRITES` unset, `one` (the lesson's way) or `split`; `HTTP_NODELAY` unset, `0` or `1`.
    /// Any other value is refused, so that a benchmark never measures the lesson's way believing
    /// it measures another.
    pub fn from_environment() -> anyhow::Result<Writing> {
        let set = |name: &str, off: &str, on: &str| match std::env::var(name) {
            Err(std::env::VarError::NotPresent) => Ok(false),
            Ok(given) if given == off => Ok(false),
            Ok(given) if given == on => Ok(true),
            _ => anyhow::bail!("{name} may be unset, {off} or {on}, nothing else"),
        };
        Ok(Writing {
            split: set("HTTP_WRITES", "one", "split")?,
            nodelay: set("HTTP_NODELAY", "0", "1")?,
        })
    }
}

impl Response {
    pub fn text(status: u16, text: &str) -> Response {
        let mut text = text.to_string();
        if !text.ends_with('\n') {
            text.push('\n');
        }
        Response {
            status,
            headers: vec![("Content-Type", "text/plain; charset=utf-8".to_string())],
            body: Body::Text(text),
        }
    }

    /// A status with its reason phrase as the body: `404 Not Found`.
    pub fn status(status: u16) -> Response {
        Response::text(status, &format!("{status} {}", reason(status)))
    }

    pub fn html(page: String) -> Response {
        Response {
            status: 200,
            headers: vec![("Content-Type", "text/html; charset=utf-8".to_string())],
            body: Body::Text(page),
        }
    }

    pub fn with_header(mut self, name: &'static str, value: &str) -> Response {
        self.headers.push((name, value.to_string()));
        self
    }

    // ANCHOR: send
    /// Writes the status line, the headers, a blank line, and the body (none for HEAD), in one
    /// write when it all fits in [`ONE_WRITE_BYTES`]. Two small writes per response meet
    /// Nagle's algorithm: the second waits for the client to acknowledge the first, and a
    /// client with nothing to send delays its acknowledgement, by at least 40 ms on Linux
    /// (chapter 12).
    pub fn send(
        self,
        stream: &mut TcpStream,
        head_only: bool,
        keep_alive: bool,
        writing: Writing,
    ) -> io::Result<()> {
        let length = match &self.body {
            Body::Text(text) => text.len() as u64,
            Body::File(_, length) => *length,
        };
        let mut out = format!(
            "HTTP/1.1 {} {}\r\nDate: {}\r\n",
            self.status,
            reason(self.status),
            http_date(SystemTime::now())
        );
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        let connection = if keep_alive { "keep-alive" } else { "close" };
        out.push_str(&format!(
            "Content-Length: {length}\r\nConnection: {connection}\r\n\r\n"
        ));
        let mut out = out.into_bytes();
        if head_only {
            return stream.write_all(&out);
        }
        if writing.split {
            stream.write_all(&out)?;
            out.clear();
        }
        match self.body {
            Body::Text(text) => {
                out.extend_from_slice(text.as_bytes());
                stream.write_all(&out)
            }
            Body::File(file, length) => {
                let mut file = file.take(length);
                let first = length.min(ONE_WRITE_BYTES) as usize;
                let head_length = out.len();
                out.resize(head_length + first, 0);
                file.read_exact(&mut out[head_length..]).map_err(shrank)?;
                stream.write_all(&out)?;
                let sent = first as u64 + io::copy(&mut file, stream)?;
                if sent < length {
                    return Err(shrank(io::ErrorKind::UnexpectedEof.into()));
                }
                Ok(())
            }
        }
    }
    // ANCHOR_END: send
}

/// The file grew shorter since it was measured: the client would wait for bytes that never
/// come, so the connection fails instead.
fn shrank(error: io::Error) -> io::Error {
    io::Error::new(error.kind(), "the file shrank while it was being sent")
}

/// The 503 for a newcomer when the door has no place it can give up, on the accept loop's
/// thread, so it must not wait: a new connection's empty send buffer takes the answer at once,
/// and whatever the client has sent so far is read before closing. A request still on its way
/// then meets a closed socket, and a reset that may destroy the answer.
pub fn turn_away_at_once(mut stream: TcpStream) {
    let _ = stream.set_nonblocking(true);
    let _ = stream.write_all(
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\
          Retry-After: 1\r\n\r\n",
    );
    let _ = stream.shutdown(Shutdown::Write);
    let mut sink = [0; 4096];
    while matches!(stream.read(&mut sink), Ok(count) if count > 0) {}
}

/// The words that go with a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        414 => "URI Too Long",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Error",
    }
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`: the one date format a server sends (RFC 9110 §5.6.7).
pub fn http_date(time: SystemTime) -> String {
    let seconds = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    let (days, in_day) = (seconds / 86_400, seconds % 86_400);
    let (year, month, day) = civil_from_days(days);
    // 1 January 1970 was a Thursday.
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(days % 7) as usize];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{weekday}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        months[month as usize - 1],
        in_day / 3600,
        in_day % 3600 / 60,
        in_day % 60
    )
}

/// The year, month (1–12) and day (1–31) of a day counted from 1970-01-01, in the Gregorian
/// calendar: Howard Hinnant's `civil_from_days`, for days on or after 1970.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153; // March is 0
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

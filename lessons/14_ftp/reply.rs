//! Replies: the numbered lines the server sends back on the control connection, and the
//! connection's writing half that sends them.
//!
//! Every reply starts with three digits, and the first digit is the part a client acts on:
//! `1` the action has started, expect another reply when it ends (`150` before a transfer);
//! `2` done (`226` after it); `3` send the next command of a pair (`331` after USER: now PASS);
//! `4` failed, but trying again later may work (`421` too many clients, `425` no data connection);
//! `5` failed, and the same command will fail again (`550` no such file, `502` not offered).
//! The words after the code are for people: clients show them, and do not parse them, except
//! where a reply carries an answer, which this server must spell exactly as clients expect: the
//! quoted folder of `257`, the number of `213`, the address of `227` and `229`.

use std::io::{self, Write};
use std::net::{SocketAddr, TcpStream};

// ANCHOR: reply
/// One reply: a code and the words that say what it means here.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    /// Three digits; the first one says what kind of answer it is (see the module's top).
    pub code: u16,
    /// One line, or several for a multi-line reply such as FEAT's. No line ends in `\r\n` here:
    /// [`Reply::send`] adds them.
    pub text: String,
}

impl Reply {
    pub fn new(code: u16, text: impl Into<String>) -> Reply {
        Reply {
            code,
            text: text.into(),
        }
    }

    /// The bytes on the wire. One line is `226 Transfer complete.\r\n`. Several lines are
    /// `211-first\r\n`, the middle lines as they are, and `211 last\r\n`: the dash after the
    /// code says "more lines follow", and the code again with a space says "this is the last".
    /// A middle line must not itself start with three digits and a space, or a client would
    /// take it for the end: RFC 959 section 4.2 asks for a leading space, and we add one.
    pub fn to_wire(&self) -> String {
        let lines: Vec<&str> = self.text.lines().collect();
        match lines.as_slice() {
            [] => format!("{} \r\n", self.code),
            [only] => format!("{} {only}\r\n", self.code),
            [first, middle @ .., last] => {
                let mut wire = format!("{}-{first}\r\n", self.code);
                for line in middle {
                    wire.push_str(&format!(" {}\r\n", line.trim_start()));
                }
                wire.push_str(&format!("{} {last}\r\n", self.code));
                wire
            }
        }
    }

    /// Writes the reply to the control connection, whole (`write_all`): one thread writes to a
    /// control connection, so nothing else comes between its lines.
    pub fn send(&self, control: &mut impl Write) -> io::Result<()> {
        control.write_all(self.to_wire().as_bytes())?;
        control.flush()
    }
}
// ANCHOR_END: reply

/// The control connection's writing half: sends replies, and logs each line it sends.
pub struct Control {
    /// The connection, for writing; the command loop reads from a clone of it.
    pub stream: TcpStream,
    /// The client's address, for the log, and the only address a data connection may come from.
    pub peer: SocketAddr,
}

impl Control {
    /// Sends `code` and `text`, logged.
    pub fn reply(&mut self, code: u16, text: impl Into<String>) -> io::Result<()> {
        self.send(Reply::new(code, text))
    }

    /// Sends a reply, logged: the server's log is the whole conversation, minus the password.
    pub fn send(&mut self, reply: Reply) -> io::Result<()> {
        for line in reply.to_wire().lines() {
            println!("{} < {line}", self.peer);
        }
        reply.send(&mut self.stream)
    }
}

/// A path in a 257 reply, between double quotes, any quote in it doubled (RFC 959 appendix II).
pub fn quoted(path: &str) -> String {
    format!("\"{}\"", path.replace('"', "\"\""))
}

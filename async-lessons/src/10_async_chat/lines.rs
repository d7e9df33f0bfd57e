//! Lesson 10's line reader: lesson 04's, with `.await`, and with telnet's commands taken out
//! first (`TelnetReader`, below; the course library's `course::chat::telnet` explains them).

use std::io::{self, ErrorKind};
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use course::chat::MAX_LINE_BYTES;
use course::chat::telnet::TelnetFilter;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader, ReadBuf};

// ANCHOR: line_reader
/// What reading a client's next line produced.
pub enum Received {
    /// One whole line, without its `\n` or `\r\n`.
    Line(Vec<u8>),
    /// A line grew longer than [`MAX_LINE_BYTES`]. The rest of it is skipped.
    TooLong,
    /// The client closed its side; `mid_line` says whether it left half a line behind.
    End { mid_line: bool },
}

/// Lesson 04's `LineReader`, with `.await`: it cuts a client's bytes into lines, and keeps no
/// more than one line's worth of them (besides what waits in its `BufReader`'s buffer).
pub struct LineReader<R> {
    input: BufReader<R>,
    /// The start of a line whose end has not arrived yet. It lives here, not in a local variable
    /// of `next_line`, so that it survives when a call to `next_line` is cancelled.
    partial: Vec<u8>,
    /// Whether we are throwing away the rest of a line that was too long.
    skipping: bool,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    pub fn new(input: R) -> LineReader<R> {
        LineReader {
            input: BufReader::new(input),
            partial: Vec::new(),
            skipping: false,
        }
    }

    /// The next line. Cancel-safe: if the future is dropped at its `.await`, no byte is lost,
    /// because `fill_buf` takes none until `consume`, and everything taken is in `self`.
    pub async fn next_line(&mut self) -> io::Result<Received> {
        loop {
            let available = match self.input.fill_buf().await {
                Ok(available) => available,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if available.is_empty() {
                let mid_line = self.skipping || !self.partial.is_empty();
                return Ok(Received::End { mid_line });
            }
            let newline = available.iter().position(|&byte| byte == b'\n');
            let piece = &available[..newline.unwrap_or(available.len())];
            // The line so far may be one byte longer than the limit: that byte may be the `\r`
            // of a `\r\n` ending, which does not count. Whether it is, only the next byte tells.
            let fits = self.partial.len() + piece.len() <= MAX_LINE_BYTES + 1;
            if !self.skipping && fits {
                self.partial.extend_from_slice(piece);
            }
            let used = piece.len() + usize::from(newline.is_some());
            self.input.consume(used);

            if self.skipping {
                self.skipping = newline.is_none();
                continue;
            }
            if !fits {
                // Too long, whatever comes next: report it once, and skip the rest of it.
                self.partial.clear();
                self.skipping = newline.is_none();
                return Ok(Received::TooLong);
            }
            if newline.is_some() {
                // telnet ends lines with `\r\n`; the `\r` is part of the ending, not the text.
                let text = self.partial.strip_suffix(b"\r").unwrap_or(&self.partial);
                let received = if text.len() > MAX_LINE_BYTES {
                    Received::TooLong
                } else {
                    Received::Line(text.to_vec())
                };
                self.partial.clear();
                return Ok(received);
            }
        }
    }
}
// ANCHOR_END: line_reader

/// What `input` sends, with telnet's commands taken out: the async twin of
/// `course::chat::telnet::TelnetReader`, around the same `TelnetFilter`.
pub struct TelnetReader<R> {
    input: R,
    filter: TelnetFilter,
}

impl<R> TelnetReader<R> {
    pub fn new(input: R) -> TelnetReader<R> {
        TelnetReader {
            input,
            filter: TelnetFilter::new(),
        }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for TelnetReader<R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buffer.filled().len();
        loop {
            ready!(Pin::new(&mut this.input).poll_read(context, buffer))?;
            let received = &mut buffer.filled_mut()[before..];
            if received.is_empty() {
                return Poll::Ready(Ok(())); // the end of the stream
            }
            let text = this.filter.filter_in_place(received);
            buffer.set_filled(before + text);
            // A read that held only commands gave no text; returning it empty would say the
            // stream had ended, so read again.
            if text > 0 {
                return Poll::Ready(Ok(()));
            }
        }
    }
}

//! Exercise 14: the path sandbox: no path a client names leads out of the served folder.
//!
//! Every FTP command that touches the disk (`RETR ../docs/notes.txt`) names a path, and lesson
//! 14's server turns each into a place on the disk with one function, `resolve`. If it lets one
//! path out, the server hands out `/etc/passwd`, or overwrites it. As shipped, `resolve` joins the
//! names and checks the words. Finish it: work out `.` and `..` by name (above the root is the
//! root), then ask the system where the path really leads (`canonicalize`) and check that
//! answer; and allow a new name in a folder inside (for STOR and MKD), unless it is a link to
//! nowhere.
//!
//! Check it:       cargo test -p exercises 14
//! Try it by hand: cargo run -p exercises --bin ex14_ftp -- lessons/14_ftp_site / ../hello.txt
//! Hints are in the book, chapter "14: FTP, a protocol with two connections".

// The reference solution is lesson 14's own sandbox, the one its server uses for every command
// that touches the disk, included here so that the two can never drift apart.
#[path = "../../lessons/14_ftp/sandbox.rs"]
mod sandbox;

pub use sandbox::*;

//! Lesson 12 against RFC 9112 and RFC 9110: one test per rule in chapter 12's table, each
//! sending the exact bytes and checking the exact answer.

use std::io::{BufReader, Write};

use super::{HELLO, TempSite, ask, assert_closed, read_response, start, start_in};

/// Sends `request` on a new connection, reads one answer, and checks that the server then
/// closed the connection: after a refused head it cannot know where the next request starts.
fn refused_and_closed(server: &crate::support::Server, what: &str, request: &[u8], status: u16) {
    let mut reader = BufReader::new(server.connect());
    reader.get_mut().write_all(request).expect("send");
    let response = read_response(&mut reader, false);
    assert_eq!(response.status, status, "{what}: {response:?}");
    assert_eq!(response.header("Connection"), Some("close"), "{what}");
    assert_closed(reader.get_mut(), what);
}

// ANCHOR: smuggling
#[test]
fn rfc9112_6_3_two_content_lengths_that_differ_are_400_and_close() {
    let server = start();
    // A proxy that believed the second length would send all of this as one request; a server
    // that believed the first would answer a second request, /style.css, the proxy never saw.
    let smuggled = b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\
                     Content-Length: 36\r\n\r\nGET /style.css HTTP/1.1\r\nHost: t\r\n\r\n";
    refused_and_closed(&server, "Content-Length 0 and 36", smuggled, 400);
    let cases: &[(&str, &[u8])] = &[
        (
            "a list that disagrees",
            b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 5, 7\r\n\r\nhello",
        ),
        (
            "a length that is not a number",
            b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: +5\r\n\r\nhello",
        ),
        (
            "Content-Length and Transfer-Encoding",
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\
              Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
        (
            "Transfer-Encoding not ending in chunked",
            b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
        ),
        (
            "Transfer-Encoding in HTTP/1.0",
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        ),
    ];
    for (what, request) in cases {
        refused_and_closed(&server, what, request, 400);
    }
    // The same length twice, on two lines or in one list, is one length (RFC 9110 §8.6): taken
    // as 3, which makes this GET one with a body, refused as such; the body is no request.
    let twice: [&[u8]; 2] = [
        b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\
          Content-Length: 3\r\n\r\nGET",
        b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nContent-Length: 3, 3\r\n\r\nGET",
    ];
    for same in twice {
        let mut reader = BufReader::new(server.connect());
        reader.get_mut().write_all(same).expect("send");
        let response = read_response(&mut reader, false);
        let words = String::from_utf8_lossy(&response.body);
        assert!(
            response.status == 400 && words.contains("has no body"),
            "a GET with a body of 3: {response:?}"
        );
        assert_closed(reader.get_mut(), "after a body the server does not read");
    }
}
// ANCHOR_END: smuggling

#[test]
fn rfc9112_3_2_host_missing_repeated_or_invalid_is_400() {
    let server = start();
    let cases: &[(&str, &[u8])] = &[
        ("no Host in HTTP/1.1", b"GET /hello.txt HTTP/1.1\r\n\r\n"),
        (
            "two Host lines",
            b"GET /hello.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        ),
        (
            "two Host lines in HTTP/1.0",
            b"GET /hello.txt HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
        ),
        ("a space", b"GET /hello.txt HTTP/1.1\r\nHost: a b\r\n\r\n"),
        ("a slash", b"GET /hello.txt HTTP/1.1\r\nHost: a/b\r\n\r\n"),
        (
            "a bad port",
            b"GET /hello.txt HTTP/1.1\r\nHost: a:80x\r\n\r\n",
        ),
        (
            "an open bracket",
            b"GET /hello.txt HTTP/1.1\r\nHost: [::1\r\n\r\n",
        ),
        ("user@", b"GET /hello.txt HTTP/1.1\r\nHost: me@a\r\n\r\n"),
    ];
    for (what, request) in cases {
        refused_and_closed(&server, what, request, 400);
    }
    let fine: &[(&str, &[u8])] = &[
        ("HTTP/1.0 without Host", b"GET /hello.txt HTTP/1.0\r\n\r\n"),
        (
            "a name and port",
            b"GET /hello.txt HTTP/1.1\r\nHost: example.org:8080\r\n\r\n",
        ),
        ("IPv6", b"GET /hello.txt HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"),
        (
            "empty (RFC 9110 §7.2)",
            b"GET /hello.txt HTTP/1.1\r\nHost:\r\n\r\n",
        ),
    ];
    for (what, request) in fine {
        let response = ask(server.address, request);
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, HELLO.as_bytes()),
            "{what}"
        );
    }
}

#[test]
fn rfc9112_3_2_2_the_absolute_form_is_accepted() {
    let server = start();
    let hello = ask(
        server.address,
        b"GET http://t:1/hello.txt HTTP/1.1\r\nHost: t:1\r\n\r\n",
    );
    assert_eq!(
        (hello.status, hello.body.as_slice()),
        (200, HELLO.as_bytes())
    );
    let page = ask(
        server.address,
        b"GET HTTP://t?x=1 HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(page.status, 200, "no path is the path /: {page:?}");
    assert!(String::from_utf8_lossy(&page.body).contains("Who is connected"));
    for (what, request) in [
        (
            "user@",
            &b"GET http://me@t/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n"[..],
        ),
        (
            "no host",
            b"GET http:///hello.txt HTTP/1.1\r\nHost: t\r\n\r\n",
        ),
        (
            "not http",
            b"GET ftp://t/hello.txt HTTP/1.1\r\nHost: t\r\n\r\n",
        ),
    ] {
        refused_and_closed(&server, what, request, 400);
    }
}

#[test]
fn rfc9112_2_2_empty_lines_before_a_request_line_are_skipped() {
    let server = start();
    let mut reader = BufReader::new(server.connect());
    reader
        .get_mut()
        .write_all(b"\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n")
        .expect("send");
    for round in 0..2 {
        let response = read_response(&mut reader, false);
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, HELLO.as_bytes()),
            "{round}"
        );
    }
    // Empty lines and then the end: a client that left, not half a request.
    reader.get_mut().write_all(b"\r\n").expect("send");
    reader
        .get_mut()
        .shutdown(std::net::Shutdown::Write)
        .expect("half-close");
    assert_closed(reader.get_mut(), "after empty lines and a close");
}

#[test]
fn rfc9112_3_a_long_target_is_414_and_a_long_head_431() {
    let server = start();
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: t\r\n\r\n", "a".repeat(9000));
    refused_and_closed(&server, "a 9,000-byte target", long_target.as_bytes(), 414);
    // Both sides of each limit. A request line of `length` bytes, its line end not counted.
    let request_line = |length: usize| {
        let line = format!(
            "GET /{} HTTP/1.1",
            "a".repeat(length - "GET / HTTP/1.1".len())
        );
        assert_eq!(line.len(), length);
        line
    };
    for line_end in ["\r\n", "\n"] {
        let at_the_limit = format!("{}{line_end}Host: t\r\n\r\n", request_line(4096));
        let answer = ask(server.address, at_the_limit.as_bytes());
        assert_eq!(
            answer.status, 404,
            "a request line of 4096 bytes: {answer:?}"
        );
    }
    let one_over = format!("{}\r\nHost: t\r\n\r\n", request_line(4097));
    refused_and_closed(
        &server,
        "a request line of 4097 bytes",
        one_over.as_bytes(),
        414,
    );
    // A line of 4096 bytes whose `\r` arrives before its `\n`, in a write of its own.
    let mut reader = BufReader::new(server.connect());
    let first_part = format!("{}\r", request_line(4096));
    reader
        .get_mut()
        .write_all(first_part.as_bytes())
        .expect("send");
    reader.get_mut().flush().expect("send");
    reader
        .get_mut()
        .write_all(b"\nHost: t\r\n\r\n")
        .expect("send");
    let answer = read_response(&mut reader, false);
    assert_eq!(
        answer.status, 404,
        "4096 bytes, then \\r\\n cut: {answer:?}"
    );
    // The head: 8192 bytes from the request line to the blank line's end is the most.
    let head_of = |length: usize| {
        let start = "GET /hello.txt HTTP/1.1\r\nHost: t\r\nCookie: ";
        let filler = length - start.len() - "\r\n\r\n".len();
        format!("{start}{}\r\n\r\n", "x".repeat(filler))
    };
    let answer = ask(server.address, head_of(8192).as_bytes());
    assert_eq!(answer.status, 200, "a head of 8192 bytes: {answer:?}");
    refused_and_closed(
        &server,
        "a head of 8193 bytes",
        head_of(8193).as_bytes(),
        431,
    );
    let long_head = format!(
        "GET / HTTP/1.1\r\nHost: t\r\nCookie: {}\r\n\r\n",
        "x".repeat(10 * 1024)
    );
    refused_and_closed(&server, "10 KiB of headers", long_head.as_bytes(), 431);
    let endless_empty_lines = "\r\n".repeat(8 * 1024);
    refused_and_closed(
        &server,
        "16 KiB of empty lines",
        endless_empty_lines.as_bytes(),
        431,
    );
}

#[test]
fn rfc9110_5_5_field_values_may_hold_bytes_from_0x80_but_no_nul_or_cr() {
    let server = start();
    let latin1 = ask(
        server.address,
        b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nX-Name: caf\xe9 \xff\r\n\r\n",
    );
    assert_eq!(latin1.status, 200, "opaque bytes in a value: {latin1:?}");
    for (what, request) in [
        (
            "NUL",
            &b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nX-A: a\0b\r\n\r\n"[..],
        ),
        (
            "a bare CR",
            b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n",
        ),
        (
            "an escape",
            b"GET /hello.txt HTTP/1.1\r\nHost: t\r\nX-A: a\x1bb\r\n\r\n",
        ),
    ] {
        refused_and_closed(&server, what, request, 400);
    }
}

#[test]
fn rfc9112_5_whitespace_before_a_colon_and_folded_lines_are_400() {
    let server = start();
    for (what, request) in [
        (
            "space before the colon",
            &b"GET / HTTP/1.1\r\nHost : t\r\n\r\n"[..],
        ),
        (
            "folded header",
            b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n more\r\n\r\n",
        ),
        (
            "space before the first header",
            b"GET / HTTP/1.1\r\n Host: t\r\n\r\n",
        ),
        ("no colon", b"GET / HTTP/1.1\r\nHost t\r\n\r\n"),
    ] {
        refused_and_closed(&server, what, request, 400);
    }
}

#[test]
fn rfc9110_2_5_http_1_2_is_served_as_1_1_and_2_0_is_505() {
    let server = start();
    let mut reader = BufReader::new(server.connect());
    for round in 0..2 {
        reader
            .get_mut()
            .write_all(b"GET /hello.txt HTTP/1.2\r\nHost: t\r\n\r\n")
            .expect("send");
        let response = read_response(&mut reader, false);
        assert_eq!(
            (response.status, response.body.as_slice()),
            (200, HELLO.as_bytes()),
            "{round}"
        );
        assert_eq!(
            response.header("Connection"),
            Some("keep-alive"),
            "as 1.1 does"
        );
    }
    refused_and_closed(
        &server,
        "HTTP/2.0",
        b"GET / HTTP/2.0\r\nHost: t\r\n\r\n",
        505,
    );
    for (what, request) in [
        ("two digits", &b"GET / HTTP/1.10\r\nHost: t\r\n\r\n"[..]),
        ("lower case", b"GET / http/1.1\r\nHost: t\r\n\r\n"),
    ] {
        refused_and_closed(&server, what, request, 400);
    }
}

#[test]
fn rfc9110_6_6_1_every_answer_has_a_date() {
    let server = start();
    for request in [
        &b"GET /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n"[..],
        b"GET /nothing-here HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
    ] {
        let response = ask(server.address, request);
        let date = response
            .header("Date")
            .unwrap_or_else(|| panic!("no Date in {response:?}"));
        // IMF-fixdate: `Sun, 06 Nov 1994 08:49:37 GMT`. Python's test checks it names now.
        let shape: String = date
            .chars()
            .map(|c| {
                if c.is_ascii_digit() {
                    '9'
                } else if c.is_ascii_alphabetic() {
                    'a'
                } else {
                    c
                }
            })
            .collect();
        assert_eq!(shape, "aaa, 99 aaa 9999 99:99:99 aaa", "{date}");
        assert!(date.ends_with(" GMT"), "{date}");
    }
}

#[test]
fn rfc9110_9_1_an_unknown_method_is_501_and_a_known_one_405() {
    let server = start();
    for method in ["get", "BREW"] {
        let request = format!("{method} / HTTP/1.1\r\nHost: t\r\n\r\n");
        assert_eq!(
            ask(server.address, request.as_bytes()).status,
            501,
            "{method}"
        );
    }
    let delete = ask(
        server.address,
        b"DELETE /hello.txt HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(delete.status, 405);
    assert_eq!(delete.header("Allow"), Some("GET, HEAD"));
    refused_and_closed(
        &server,
        "a method that is no token",
        b"G(T / HTTP/1.1\r\nHost: t\r\n\r\n",
        400,
    );
}

#[test]
fn file_names_with_spaces_and_plus_signs_are_served() {
    let site = TempSite::new(
        "names",
        &[("two words.txt", b"two\n"), ("a+b.txt", b"plus\n")],
    );
    let server = start_in(&site.folder_arg());
    let spaced = ask(
        server.address,
        b"GET /two%20words.txt HTTP/1.1\r\nHost: t\r\n\r\n",
    );
    assert_eq!(
        (spaced.status, spaced.body.as_slice()),
        (200, &b"two\n"[..])
    );
    let plus = ask(server.address, b"GET /a+b.txt HTTP/1.1\r\nHost: t\r\n\r\n");
    assert_eq!((plus.status, plus.body.as_slice()), (200, &b"plus\n"[..]));
}

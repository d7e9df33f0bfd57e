//! Every check is proven, both ways: each known-wrong answer in `tests/suite/known_wrong/` must fail
//! its check with the explanation a learner who made that mistake needs to read, and each
//! known-right answer in `tests/suite/known_right/`, of another design than the reference solution,
//! must pass.
//!
//! The answers of one exercise are tried all at once, each on a thread of its own: most of a
//! wrong answer's time goes on waiting out a check's patience, and waiting is what threads can
//! share. (Panics are told apart by the file they happen in; see `course::check`.)

use std::thread;

use crate::support;

use course::check::{
    self, Check, Failure, Script, Target, chat_broker, echo_client, greeting, has_ipv6_loopback,
    http, idle_timeout, line_server, load_client, path_sandbox, pool, serve_as_program, shutdown,
    threaded_echo, udp_client,
};

/// The test that plays an answer, as a program of its own (see [`answer_process`]).
const ANSWERS: &str = "check_proofs::answer_process";

/// The share of the checks that are not scripts (exercises 07 and 12): exercise 07's holds seven
/// clients at most.
const SOCKETS_FOR_OTHER_CHECKS: usize = 12;

/// Exercise 05's share: its check's server socket, the answer's client socket and two
/// strangers', all in this process (the answer runs here, not in a process of its own).
const SOCKETS_FOR_UDP_CHECK: usize = 6;

/// Exercise 11's share, all in this process: four clients and the check server's ends of them,
/// its listener, a port bound to refuse, and a full queue's listener with up to eight probes and
/// the four clients that wait on it.
const SOCKETS_FOR_LOAD_CHECK: usize = 20;

/// One answer to try, and what must come of it.
struct Case {
    name: &'static str,
    prove: Box<dyn FnOnce() -> Result<(), String> + Send>,
    /// Its share of the socket budget (`support::sockets`): what its check holds open at most,
    /// so that small checks can run more at once than large ones.
    sockets: usize,
}

/// A check's share of the socket budget: each client's end (the server's end is in the answer's
/// own process), and the pipes from that process.
fn sockets_for(check: &dyn Check) -> usize {
    match check.exercise().id {
        // Its IPv6 part starts the answer again: a second process's pipes.
        "01_greeting" => greeting::SCRIPT.most_clients_at_once() + 8,
        "03_threaded_echo" => threaded_echo::SCRIPT.most_clients_at_once() + 4,
        "04_chat" => chat_broker::SCRIPT.most_clients_at_once() + 4,
        "09_line_server" => line_server::SCRIPT.most_clients_at_once() + 4,
        // Seven clients at once (A, B, D, E, C refused, K and T), then Z, with a second
        // process's pipes; then a crowd and a newcomer, with a third's.
        "08_shutdown" => shutdown::OPEN_FILES as usize + 8,
        // A, B, and five clients that go quiet after a line, with a second process's pipes.
        "06_timeouts" => 16,
        _ => SOCKETS_FOR_OTHER_CHECKS,
    }
}

/// Tries every case, each on a thread of its own once it has its share of the socket budget,
/// and fails with every case that went wrong.
fn prove(cases: Vec<Case>) {
    let running: Vec<_> = cases
        .into_iter()
        .map(|case| {
            let proof = thread::spawn(move || {
                let _sockets = support::sockets(case.sockets);
                (case.prove)()
            });
            (case.name, proof)
        })
        .collect();
    let problems: Vec<String> = running
        .into_iter()
        .filter_map(|(name, proof)| match proof.join() {
            Ok(Ok(())) => None,
            Ok(Err(problem)) => Some(format!("{name}: {problem}")),
            Err(_) => Some(format!("{name}: the proof itself panicked")),
        })
        .collect();
    assert!(problems.is_empty(), "\n{}", problems.join("\n\n"));
}

/// Runs `check` on the answer `name`, served by [`answer_process`] in a process of its own.
fn run(check: &dyn Check, name: &str) -> check::Outcome {
    check::run(check, &Target::answer_in_test(ANSWERS, name))
}

/// The answer must fail `check` on every one of [`support::proof_repeats`] runs, and each verdict
/// must contain every one of `words`.
fn wrong(name: &'static str, check: &'static dyn Check, words: &'static [&'static str]) -> Case {
    Case {
        name,
        prove: Box::new(move || {
            let runs = support::proof_repeats();
            for number in 1..=runs {
                says(name, run(check, name).err(), words)
                    .map_err(|problem| format!("on run {number} of {runs}: {problem}"))?;
            }
            Ok(())
        }),
        sockets: sockets_for(check),
    }
}

/// The answer must pass `check`.
fn right(name: &'static str, check: &'static dyn Check) -> Case {
    Case {
        name,
        prove: Box::new(move || match run(check, name) {
            Ok(_) => Ok(()),
            Err(failure) => Err(format!(
                "a correct answer of another design fails the check:\n{failure}"
            )),
        }),
        sockets: sockets_for(check),
    }
}

/// A known-wrong echo client: it must fail exercise 02's check, saying `words`.
fn wrong_client(
    name: &'static str,
    send_lines: impl echo_client::SendLines + Copy,
    words: &'static [&'static str],
) -> Case {
    Case {
        name,
        prove: Box::new(move || {
            let runs = support::proof_repeats();
            for number in 1..=runs {
                let failure = echo_client::run_as(&format!("{name}.rs"), send_lines);
                says(name, failure.err(), words)
                    .map_err(|problem| format!("on run {number} of {runs}: {problem}"))?;
            }
            Ok(())
        }),
        // One client, one fake server, and its listener.
        sockets: 4,
    }
}

fn says(name: &str, failure: Option<Failure>, words: &[&str]) -> Result<(), String> {
    let Some(failure) = failure else {
        return Err(format!(
            "the known-wrong answer {name} passed its check, which is therefore too weak"
        ));
    };
    match words.iter().find(|words| !failure.reason.contains(**words)) {
        None => Ok(()),
        Some(missing) => Err(format!(
            "the verdict should say {missing:?}, but it says:\n{failure}"
        )),
    }
}

// The answers, one file each.
#[path = "known_wrong/chat_announces_the_unnamed.rs"]
mod chat_announces_the_unnamed;
#[path = "known_right/chat_broadcast_with_iterators.rs"]
mod chat_broadcast_with_iterators;
#[path = "known_wrong/chat_broker_rules.rs"]
mod chat_broker_rules;
#[path = "known_wrong/chat_delivers_on_threads.rs"]
mod chat_delivers_on_threads;
#[path = "known_wrong/chat_echoes_to_sender.rs"]
mod chat_echoes_to_sender;
#[path = "known_wrong/chat_forgets_leaves.rs"]
mod chat_forgets_leaves;
#[path = "known_wrong/chat_ignores_full_queues.rs"]
mod chat_ignores_full_queues;
#[path = "known_wrong/chat_keeps_only_the_newest.rs"]
mod chat_keeps_only_the_newest;
#[path = "known_wrong/chat_keeps_the_nameless.rs"]
mod chat_keeps_the_nameless;
#[path = "known_wrong/chat_lost_is_just_left.rs"]
mod chat_lost_is_just_left;
#[path = "known_wrong/chat_says_left_when_cut_off.rs"]
mod chat_says_left_when_cut_off;
#[path = "known_wrong/chat_shuts_down_every_leaver.rs"]
mod chat_shuts_down_every_leaver;
#[path = "known_wrong/chat_stops_at_a_full_queue.rs"]
mod chat_stops_at_a_full_queue;
#[path = "known_wrong/chat_tells_the_unnamed.rs"]
mod chat_tells_the_unnamed;
#[path = "known_wrong/chat_tells_the_unnamed_who_left.rs"]
mod chat_tells_the_unnamed_who_left;
#[path = "known_wrong/chat_waits_for_the_slow.rs"]
mod chat_waits_for_the_slow;
#[path = "known_wrong/echo_adds_a_newline.rs"]
mod echo_adds_a_newline;
#[path = "known_right/echo_by_lines.rs"]
mod echo_by_lines;
#[path = "known_wrong/echo_bytes.rs"]
mod echo_bytes;
#[path = "known_wrong/echo_client_accepts_missing_echoes.rs"]
mod echo_client_accepts_missing_echoes;
#[path = "known_wrong/echo_client_empty_echo_is_a_hang_up.rs"]
mod echo_client_empty_echo_is_a_hang_up;
#[path = "known_wrong/echo_client_exits.rs"]
mod echo_client_exits;
#[path = "known_right/echo_client_half_closes.rs"]
mod echo_client_half_closes;
#[path = "known_wrong/echo_client_new_reader_per_echo.rs"]
mod echo_client_new_reader_per_echo;
#[path = "known_wrong/echo_client_one_read.rs"]
mod echo_client_one_read;
#[path = "known_wrong/echo_client_returns_what_it_sent.rs"]
mod echo_client_returns_what_it_sent;
#[path = "known_wrong/echo_client_takes_a_cut_off_echo.rs"]
mod echo_client_takes_a_cut_off_echo;
#[path = "known_wrong/echo_client_text_per_read.rs"]
mod echo_client_text_per_read;
#[path = "known_wrong/echo_client_uses_lines.rs"]
mod echo_client_uses_lines;
#[path = "known_wrong/echo_client_waits_for_close.rs"]
mod echo_client_waits_for_close;
#[path = "known_wrong/echo_dies_with_a_client.rs"]
mod echo_dies_with_a_client;
#[path = "known_wrong/echo_drops_quiet_clients.rs"]
mod echo_drops_quiet_clients;
#[path = "known_wrong/echo_exits_on_a_client_error.rs"]
mod echo_exits_on_a_client_error;
#[path = "known_right/echo_io_copy.rs"]
mod echo_io_copy;
#[path = "known_wrong/echo_joins_each_thread.rs"]
mod echo_joins_each_thread;
#[path = "known_wrong/echo_lines_as_text.rs"]
mod echo_lines_as_text;
#[path = "known_wrong/echo_lossy_text.rs"]
mod echo_lossy_text;
#[path = "known_wrong/echo_names_each_client_first.rs"]
mod echo_names_each_client_first;
#[path = "known_wrong/echo_not_started.rs"]
mod echo_not_started;
#[path = "known_wrong/echo_panics_on_a_reset.rs"]
mod echo_panics_on_a_reset;
#[path = "known_wrong/echo_pool_of_sixteen.rs"]
mod echo_pool_of_sixteen;
#[path = "known_wrong/echo_pool_of_two.rs"]
mod echo_pool_of_two;
#[path = "known_wrong/echo_read_is_a_message.rs"]
mod echo_read_is_a_message;
#[path = "known_right/echo_scoped_threads.rs"]
mod echo_scoped_threads;
#[path = "known_wrong/echo_single_threaded.rs"]
mod echo_single_threaded;
#[path = "known_wrong/echo_stops_after_first_line.rs"]
mod echo_stops_after_first_line;
#[path = "known_wrong/echo_to_the_newest.rs"]
mod echo_to_the_newest;
#[path = "known_wrong/echo_upper_case.rs"]
mod echo_upper_case;
#[path = "known_wrong/ftp_checks_before_normalising.rs"]
mod ftp_checks_before_normalising;
#[path = "known_wrong/ftp_decodes_percent.rs"]
mod ftp_decodes_percent;
#[path = "known_wrong/ftp_every_error_is_a_new_name.rs"]
mod ftp_every_error_is_a_new_name;
#[path = "known_wrong/ftp_follows_dangling_links.rs"]
mod ftp_follows_dangling_links;
#[path = "known_wrong/ftp_prefix_as_string.rs"]
mod ftp_prefix_as_string;
#[path = "known_wrong/ftp_refusal_words.rs"]
mod ftp_refusal_words;
#[path = "known_right/ftp_resolve_with_components.rs"]
mod ftp_resolve_with_components;
#[path = "known_wrong/greeting_ip_and_port.rs"]
mod greeting_ip_and_port;
#[path = "known_wrong/greeting_local_address.rs"]
mod greeting_local_address;
#[path = "known_wrong/http_any_case_method.rs"]
mod http_any_case_method;
#[path = "known_wrong/http_forgets_what_follows.rs"]
mod http_forgets_what_follows;
#[path = "known_wrong/http_head_limit_off_by_one.rs"]
mod http_head_limit_off_by_one;
#[path = "known_wrong/http_host_for_every_version.rs"]
mod http_host_for_every_version;
#[path = "known_wrong/http_host_without_brackets.rs"]
mod http_host_without_brackets;
#[path = "known_wrong/http_ignores_headers.rs"]
mod http_ignores_headers;
#[path = "known_wrong/http_ignores_host.rs"]
mod http_ignores_host;
#[path = "known_wrong/http_no_head_limit.rs"]
mod http_no_head_limit;
#[path = "known_wrong/http_one_read_is_a_request.rs"]
mod http_one_read_is_a_request;
#[path = "known_wrong/http_only_http11.rs"]
mod http_only_http11;
#[path = "known_right/http_reads_lines.rs"]
mod http_reads_lines;
#[path = "known_wrong/http_rules.rs"]
pub mod http_rules;
#[path = "known_wrong/http_timeout_is_an_error.rs"]
mod http_timeout_is_an_error;
#[path = "known_wrong/http_timeout_per_read.rs"]
mod http_timeout_per_read;
#[path = "known_wrong/http_trusts_the_first_length.rs"]
mod http_trusts_the_first_length;
#[path = "known_wrong/http_variants.rs"]
mod http_variants;
#[path = "known_wrong/line_servers.rs"]
mod line_servers;
#[path = "known_wrong/load_clients.rs"]
mod load_clients;
#[path = "known_wrong/pool_closes_without_a_word.rs"]
mod pool_closes_without_a_word;
#[path = "known_wrong/pool_not_started.rs"]
mod pool_not_started;
#[path = "known_wrong/pool_queue_one_short.rs"]
mod pool_queue_one_short;
#[path = "known_wrong/pool_rules.rs"]
pub mod pool_rules;
#[path = "known_right/pool_std_mutex_receiver.rs"]
mod pool_std_mutex_receiver;
#[path = "known_wrong/pool_thread_per_connection.rs"]
mod pool_thread_per_connection;
#[path = "known_wrong/pool_thread_per_waiting_connection.rs"]
mod pool_thread_per_waiting_connection;
#[path = "known_wrong/pool_turns_away_with_a_plain_drop.rs"]
mod pool_turns_away_with_a_plain_drop;
#[path = "known_wrong/pool_waits_for_room.rs"]
mod pool_waits_for_room;
#[path = "known_wrong/pool_worker_retires_when_idle.rs"]
mod pool_worker_retires_when_idle;
#[path = "known_wrong/pool_worker_serves_one_client.rs"]
mod pool_worker_serves_one_client;
#[path = "known_wrong/pool_worker_stops_at_a_broken_newcomer.rs"]
mod pool_worker_stops_at_a_broken_newcomer;
#[path = "known_wrong/pool_worker_stops_at_an_error.rs"]
mod pool_worker_stops_at_an_error;
#[path = "known_wrong/shutdown_drops_lines_in_flight.rs"]
mod shutdown_drops_lines_in_flight;
#[path = "known_wrong/shutdown_echo_outlasts_the_deadline.rs"]
mod shutdown_echo_outlasts_the_deadline;
#[path = "known_wrong/shutdown_exits_instead_of_returning.rs"]
mod shutdown_exits_instead_of_returning;
#[path = "known_wrong/shutdown_forgets_idle_clients.rs"]
mod shutdown_forgets_idle_clients;
#[path = "known_wrong/shutdown_forgets_the_reader_buffer.rs"]
mod shutdown_forgets_the_reader_buffer;
#[path = "known_wrong/shutdown_grace_too_short.rs"]
mod shutdown_grace_too_short;
#[path = "known_wrong/shutdown_ignored.rs"]
mod shutdown_ignored;
#[path = "known_wrong/shutdown_ignores_a_dropped_sender.rs"]
mod shutdown_ignores_a_dropped_sender;
#[path = "known_wrong/shutdown_keeps_listening.rs"]
mod shutdown_keeps_listening;
#[path = "known_wrong/shutdown_looks_only_when_silent.rs"]
mod shutdown_looks_only_when_silent;
#[path = "known_wrong/shutdown_never_returns.rs"]
mod shutdown_never_returns;
#[path = "known_wrong/shutdown_quiet_when_accept_fails.rs"]
mod shutdown_quiet_when_accept_fails;
#[path = "known_wrong/shutdown_reads_to_the_line_end.rs"]
mod shutdown_reads_to_the_line_end;
#[path = "known_wrong/shutdown_returns_at_once.rs"]
mod shutdown_returns_at_once;
#[path = "known_wrong/shutdown_returns_when_accept_fails.rs"]
mod shutdown_returns_when_accept_fails;
#[path = "known_wrong/shutdown_rules.rs"]
pub mod shutdown_rules;
#[path = "known_wrong/shutdown_takes_nobody_for_a_failure.rs"]
mod shutdown_takes_nobody_for_a_failure;
#[path = "known_wrong/shutdown_waits_for_ever.rs"]
mod shutdown_waits_for_ever;
/// The reference solution of exercise 08, which one known-wrong answer wraps.
#[path = "../../solutions/src/08_shutdown.rs"]
pub mod solution_08_shutdown;
#[path = "known_wrong/timeouts_close_without_a_word.rs"]
mod timeouts_close_without_a_word;
#[path = "known_wrong/timeouts_count_from_connect.rs"]
mod timeouts_count_from_connect;
#[path = "known_wrong/timeouts_half_close.rs"]
mod timeouts_half_close;
#[path = "known_wrong/timeouts_reset_is_silence.rs"]
mod timeouts_reset_is_silence;
#[path = "known_wrong/timeouts_variants.rs"]
mod timeouts_variants;
#[path = "known_wrong/timeouts_watchdog.rs"]
mod timeouts_watchdog;
#[path = "known_wrong/udp_client_never_gives_up.rs"]
mod udp_client_never_gives_up;
#[path = "known_wrong/udp_client_never_retries.rs"]
mod udp_client_never_retries;
#[path = "known_wrong/udp_client_trusts_anyone.rs"]
mod udp_client_trusts_anyone;
#[path = "known_wrong/udp_client_variants.rs"]
mod udp_client_variants;

#[test]
fn exercise_01_wrong_greetings_fail() {
    prove(vec![
        wrong(
            "greeting_local_address",
            &greeting::CHECK,
            &[
                "Client A received \"Hello, <server's address>!\\n\" where \"Hello, <A's address>!\\n\" was expected.",
                "named the server's own address",
            ],
        ),
        wrong(
            "greeting_ip_and_port",
            &greeting::CHECK,
            &[
                "Client C connected over IPv6",
                "an IPv6 address goes in brackets",
            ],
        ),
    ]);
}

#[test]
fn exercise_02_wrong_clients_fail() {
    prove(vec![
        wrong_client(
            "echo_client_one_read",
            echo_client_one_read::send_lines,
            &[
                "send_lines returned Ok([\"hello\\nworld\"",
                "where Ok([\"hello\", \"world\"]) was expected.",
                "One read() can hold several replies",
            ],
        ),
        wrong_client(
            "echo_client_new_reader_per_echo",
            echo_client_new_reader_per_echo::send_lines,
            &["as long as you keep the same one for every reply"],
        ),
        wrong_client(
            "echo_client_text_per_read",
            echo_client_text_per_read::send_lines,
            &[
                "send_lines returned Ok([\"cr\\xc3\\xa8me br\\xef\\xbf\\xbd\\xef\\xbf\\xbdl",
                "where Ok([\"cr\\xc3\\xa8me br\\xc3\\xbbl\\xc3\\xa9e \\xe2\\x98\\x95\"]) was \
                 expected.",
                "Half a character is not text",
            ],
        ),
        wrong_client(
            "echo_client_uses_lines",
            echo_client_uses_lines::send_lines,
            &[
                "send_lines returned Ok([\"  spaces around  \", \"a carriage return\", \"\\ttabs\\t\", \"\", \"after an empty line\"]), where",
                "and lines() a",
            ],
        ),
        wrong_client(
            "echo_client_empty_echo_is_a_hang_up",
            echo_client_empty_echo_is_a_hang_up::send_lines,
            &["an empty line is an echo too"],
        ),
        wrong_client(
            "echo_client_waits_for_close",
            echo_client_waits_for_close::send_lines,
            &["Reading until the server closes (read_to_end) waits forever"],
        ),
        wrong_client(
            "echo_client_accepts_missing_echoes",
            echo_client_accepts_missing_echoes::send_lines,
            &[
                "where an error was expected.",
                "A missing echo (or one without its newline) means the reply is broken",
            ],
        ),
        wrong_client(
            "echo_client_returns_what_it_sent",
            echo_client_returns_what_it_sent::send_lines,
            &[
                "send_lines returned Ok([\"ping\", \"ping\", \"hello\"]), where Ok([\"pong\", \"PONG\", \"hello to you too\"]) was expected.",
                "Those are the lines send_lines sent, not what came back",
            ],
        ),
        wrong_client(
            "echo_client_takes_a_cut_off_echo",
            echo_client_takes_a_cut_off_echo::send_lines,
            &[
                "send_lines returned Ok([\"cut\", \"sho\"]), where an error was expected.",
                "An echo without its newline was cut off",
            ],
        ),
    ]);
}

/// A client that ends the program it runs in still gets a verdict: its check runs in a child
/// process of this test program, as the exercise's does.
#[test]
fn exercise_02_a_client_that_exits_is_told_so() {
    let outcome = check::run_client_in_child(echo_client::EXERCISE, || {
        echo_client::run_as("echo_client_exits.rs", echo_client_exits::send_lines)
    });
    let words: &[&str] = &[
        "The program ended with status 2 while your function ran: something called std::process::exit.",
        "the server hung up",
    ];
    if let Err(problem) = says("echo_client_exits", outcome.err(), words) {
        panic!("{problem}");
    }
}

#[test]
fn exercise_02_right_clients_of_other_designs_pass() {
    let result = echo_client::run_as(
        "echo_client_half_closes.rs",
        echo_client_half_closes::send_lines,
    );
    if let Err(failure) = result {
        panic!("a correct echo client of another design fails the check:\n{failure}");
    }
}

static ECHO: &Script = &threaded_echo::SCRIPT;

#[test]
fn exercise_03_wrong_servers_fail() {
    prove(vec![
        wrong(
            "echo_joins_each_thread",
            ECHO,
            &["do not wait for that thread (with join)"],
        ),
        wrong(
            "echo_read_is_a_message",
            ECHO,
            &["does your server treat one read() as one whole message"],
        ),
        wrong(
            "echo_stops_after_first_line",
            ECHO,
            &["stop serving a client after its first message"],
        ),
        // Whether client B finds the port already closed, or its connection reset, is a race;
        // what a learner must read is the same either way.
        wrong(
            "echo_dies_with_a_client",
            ECHO,
            &[
                "your serve() returned an error, so it stopped accepting clients",
                "One client's error should end only that client's connection",
            ],
        ),
        wrong(
            "echo_names_each_client_first",
            ECHO,
            &[
                "your serve() returned an error, so it stopped accepting clients",
                "One client's error should end only that client's connection",
            ],
        ),
        wrong(
            "echo_exits_on_a_client_error",
            ECHO,
            &[
                "Your program exited with status 1 while the check ran, without serve() returning: something called std::process::exit.",
                "echo failed: ",
            ],
        ),
        wrong(
            "echo_panics_on_a_reset",
            ECHO,
            &["A thread of your server panicked"],
        ),
        wrong(
            "echo_not_started",
            ECHO,
            &[
                "Exercise not finished: your server reached a `todo!()`",
                "serve each client on a thread of its own",
            ],
        ),
        wrong(
            "echo_lines_as_text",
            ECHO,
            &[
                "Client D received \"windows line endings\\nend here\\n\" where \"windows line endings\\r\\nend here\\r\\n",
                "was lost",
            ],
        ),
        wrong(
            "echo_lossy_text",
            ECHO,
            &["the replacement character U+FFFD"],
        ),
        wrong(
            "echo_upper_case",
            ECHO,
            &[
                "Client A received \"HELLO FROM A\\n\" where \"hello from A\\n\" was expected.",
                "another case",
            ],
        ),
        wrong("echo_to_the_newest", ECHO, &["went to another client"]),
        wrong(
            "echo_pool_of_sixteen",
            ECHO,
            &["does your server serve only a few clients at a time"],
        ),
        wrong("echo_adds_a_newline", ECHO, &["A newline was added"]),
        wrong(
            "echo_drops_quiet_clients",
            ECHO,
            &["A client may stay quiet as long as it likes"],
        ),
    ]);
}

#[test]
fn exercise_03_right_servers_of_other_designs_pass() {
    prove(vec![
        right("echo_by_lines", ECHO),
        right("echo_io_copy", ECHO),
        right("echo_scoped_threads", ECHO),
    ]);
}

/// The whole verdict on exercise 03 as shipped, as a learner sees it: the book's chapter on the
/// exercises shows this snapshot.
#[test]
fn exercise_03_as_shipped_reads_like_this() {
    let mut failure = run(ECHO, "echo_single_threaded").expect_err("a single-threaded echo fails");
    assert!(
        failure
            .reason
            .contains("is your server handling one client at a time?")
    );
    // The seed changes from run to run; the book shows a fixed one.
    failure.seed = Some(123456);
    insta::assert_snapshot!("single_threaded_echo_failure", failure.to_string());
}

static CHAT: &Script = &chat_broker::SCRIPT;

#[test]
fn exercise_04_wrong_brokers_fail() {
    prove(vec![
        wrong(
            "chat_echoes_to_sender",
            CHAT,
            &[
                "Client A received \"* alice joined\\n",
                "`broadcast_to_others` must skip the client it is given",
            ],
        ),
        wrong(
            "chat_tells_the_unnamed",
            CHAT,
            &[
                "Client U received \"alice: hello, everyone\\n",
                "U has not picked a name yet",
            ],
        ),
        wrong(
            "chat_announces_the_unnamed",
            CHAT,
            &[
                "* someone left",
                "A connection that never picked a name was announced",
            ],
        ),
        wrong(
            "chat_tells_the_unnamed_who_left",
            CHAT,
            &[
                "Client U received",
                "Does `remove` tell everyone, named or not?",
            ],
        ),
        wrong(
            "chat_keeps_the_nameless",
            CHAT,
            &["`remove` must take every client out of `self.clients`, named or not"],
        ),
        wrong(
            "chat_forgets_leaves",
            CHAT,
            &[
                "Client A received nothing within 2 s, where \"* bob left\\n\" was expected.",
                "bob closed his connection, and alice was not told",
            ],
        ),
        wrong(
            "chat_lost_is_just_left",
            CHAT,
            &[
                "Client A received \"* dave left\\n\" where \"* dave left (connection lost)\\n\" was expected.",
                "dave's connection broke",
            ],
        ),
        wrong(
            "chat_waits_for_the_slow",
            CHAT,
            &["is the broker waiting for room in a full queue?"],
        ),
        wrong(
            "chat_delivers_on_threads",
            CHAT,
            // Lines that overtake each other are usually heard in different orders in the
            // crossfire; on a busy machine, threads may keep their order there and overtake in
            // the flood instead. Either way the verdict names the overtaking.
            &["(A thread per delivery lets lines overtake each other.)"],
        ),
        wrong(
            "chat_shuts_down_every_leaver",
            CHAT,
            &[
                "\"* Goodbye, ",
                "does `remove` shut down the connection of a client that leaves by itself?",
            ],
        ),
        wrong(
            "chat_keeps_only_the_newest",
            CHAT,
            &["not every line reached everyone else"],
        ),
        wrong(
            "chat_says_left_when_cut_off",
            CHAT,
            &[
                "the room was told \"* ",
                " left\"",
                "tell the room exactly that",
            ],
        ),
        wrong(
            "chat_ignores_full_queues",
            CHAT,
            &["frank and gina read nothing at all, yet were not both cut off"],
        ),
        // The room keeps clients in the order they joined (a BTreeMap): frank joined before
        // ivan and judy, gina after carol, so whichever way the broadcast runs through the room,
        // a reader comes after the first full queue and misses the line.
        wrong(
            "chat_stops_at_a_full_queue",
            CHAT,
            &["Does the broadcast stop"],
        ),
    ]);
}

#[test]
fn exercise_04_right_brokers_pass() {
    prove(vec![
        right("chat_broker_rules", CHAT),
        right("chat_broadcast_with_iterators", CHAT),
    ]);
}

/// The known-wrong chats differ from the reference solution in one rule each only while their
/// copy of the given broker is the solution's, which is the exercise's: word for word, but
/// for `pub`, which the copy needs so that the wrong answers can reach the room.
#[test]
fn exercise_04_the_given_broker_is_the_same_everywhere() {
    let between = |text: &str, start: &str, end: &str| -> String {
        let from = text.find(start).expect("start marker") + start.len();
        let to = from + text[from..].find(end).expect("end marker");
        text[from..to]
            .lines()
            .filter(|line| !line.contains("#[allow(dead_code)]"))
            .flat_map(|line| line.split_whitespace())
            .filter(|word| *word != "pub" && *word != "pub(crate)")
            .collect::<Vec<_>>()
            .join(" ")
    };
    let given = |path: &str| between(&read(path), "// ANCHOR: broker", "// ANCHOR_END: broker");
    let solution = given("solutions/src/04_chat.rs");
    assert_eq!(
        given("exercises/src/04_chat.rs"),
        solution,
        "exercise 04's given broker"
    );
    let copy = between(
        &read("tests/suite/known_wrong/chat_broker_rules.rs"),
        "// The given broker, item for item as in solutions/src/04_chat.rs.",
        "// The reference solution's rules, as plain functions.",
    );
    assert_eq!(
        copy, solution,
        "tests/suite/known_wrong/chat_broker_rules.rs"
    );
}

/// A known-wrong answer of another shape than `serve(listener)`: `run_as` is its check's.
fn wrong_with<A: Copy + Send + 'static>(
    name: &'static str,
    run_as: fn(&str, A) -> Result<course::check::Transcript, Failure>,
    sockets: usize,
    answer: A,
    words: &'static [&'static str],
) -> Case {
    Case {
        name,
        prove: Box::new(move || {
            let runs = support::proof_repeats();
            for number in 1..=runs {
                says(name, run_as(&format!("{name}.rs"), answer).err(), words)
                    .map_err(|problem| format!("on run {number} of {runs}: {problem}"))?;
            }
            Ok(())
        }),
        sockets,
    }
}

/// A known-wrong `ask`: it must fail exercise 05's check, saying `words`.
fn wrong_udp<A: udp_client::Ask + Copy + 'static>(
    name: &'static str,
    ask: A,
    words: &'static [&'static str],
) -> Case {
    wrong_with(name, udp_client::run_as, SOCKETS_FOR_UDP_CHECK, ask, words)
}

#[test]
fn exercise_05_wrong_udp_clients_fail() {
    let mut cases = vec![
        wrong_udp(
            "udp_client_never_retries",
            udp_client_never_retries::ask,
            &[
                "The server dropped the first datagram, and ask returned an error (",
                "without sending \"are you there?\" again",
            ],
        ),
        wrong_udp(
            "udp_client_trusts_anyone",
            udp_client_trusts_anyone::ask,
            &["which came from a stranger, not from the server"],
        ),
        wrong_udp(
            "udp_client_never_gives_up",
            udp_client_never_gives_up::ask,
            &["The server received \"anyone?\" 4 times"],
        ),
        wrong_udp(
            "udp_client_variants",
            udp_client_variants::small_buffer,
            &["ask returned 1025 bytes of the 8000-byte echo: the datagram was cut."],
        ),
        wrong_udp(
            "udp_client_variants",
            udp_client_variants::stranger_ends_the_wait,
            &[
                "A stranger's datagram came first, and ask sent \"hello again\" again at once",
                "neither the answer nor the end of the wait",
            ],
        ),
        wrong_udp(
            "udp_client_variants",
            udp_client_variants::wait_restarts,
            &[
                "The server dropped \"still there?\" and a stranger sent the client a datagram \
                 every 50 ms: ask never sent again",
                "Does each stranger's datagram start the wait over?",
            ],
        ),
    ];
    // Only a server on IPv6 loopback shows a hard-coded 127.0.0.1.
    if has_ipv6_loopback() {
        cases.push(wrong_udp(
            "udp_client_variants",
            udp_client_variants::hard_coded_address,
            &[
                "Over IPv6 loopback",
                "and the server received nothing: does ask send the message to `server`",
                "a socket of one family cannot send to an address of the other",
            ],
        ));
    }
    prove(cases);
}

#[test]
fn exercise_06_wrong_timeouts_fail() {
    prove(vec![
        wrong(
            "timeouts_close_without_a_word",
            &idle_timeout::CHECK,
            &["Client A's connection was closed with no line saying why"],
        ),
        wrong(
            "timeouts_count_from_connect",
            &idle_timeout::CHECK,
            &["The idle limit must count silence, not time since connecting"],
        ),
        wrong(
            "timeouts_echoes_lines",
            &idle_timeout::CHECK,
            &[
                "in place of the echo of \"caf\\xe9, not UTF-8\\n\"",
                "Does your server read text",
            ],
        ),
        wrong(
            "timeouts_clock_from_newline",
            &idle_timeout::CHECK,
            &[
                "Client B, which sent something every 400 ms, received \"you sent nothing for 1 s",
                "in pieces with no newline for the last 1 s: does your server restart its idle clock only when a whole line arrives?",
            ],
        ),
        wrong(
            "timeouts_watchdog",
            &idle_timeout::CHECK,
            &[
                "sent a line 100 ms after connecting and then said nothing, and was told goodbye only about 1",
                "does your server look at its clients' silence only now and then",
            ],
        ),
        wrong(
            "timeouts_half_close",
            &idle_timeout::CHECK,
            &[
                "Client A got the goodbye and the end of the stream, but its connection was not closed",
                "Did your server only shut down its sending side",
            ],
        ),
        wrong(
            "timeouts_echoes_byte_lines",
            &idle_timeout::CHECK,
            &[
                "Client B sent \"piece 2 of a line, no newline yet; \", with no newline, and got no echo of it",
                "Does your server echo whole lines only",
            ],
        ),
        wrong(
            "timeouts_reset_is_silence",
            &idle_timeout::CHECK,
            &[
                "Client R broke its connection with a reset, and your server logged `127.0.0.1:",
                "does echo return Ok(()) for every read error?",
            ],
        ),
        wrong(
            "timeouts_limit_doubled",
            &idle_timeout::CHECK,
            &[
                "Client A, silent since it connected, got its goodbye, and its connection closed only about 2 s",
                "is each read's time limit longer than idle?",
            ],
        ),
        wrong(
            "timeouts_whole_seconds",
            &idle_timeout::CHECK,
            &[
                "With a limit of 0.4 s, client Z was closed ",
                "with nothing sent, before it had been silent for the limit. Is the limit made \
                 whole seconds?",
            ],
        ),
        wrong(
            "timeouts_rounded_up",
            &idle_timeout::CHECK,
            &[
                "With a limit of 0.4 s, client Z, silent, received \"you sent nothing for 0.4 s",
                "Is the limit made whole seconds?",
            ],
        ),
    ]);
}

#[test]
fn exercise_07_wrong_pools_fail() {
    let mut cases = vec![
        wrong(
            "pool_waits_for_room",
            &pool::CHECK,
            &[
                "Client G receives nothing within 1 s, where",
                "Is your accept loop waiting for room in the queue?",
            ],
        ),
        wrong(
            "pool_queue_one_short",
            &pool::CHECK,
            &["Does your accept loop turn a client away before the queue is full"],
        ),
        wrong(
            "pool_closes_without_a_word",
            &pool::CHECK,
            &["Client G receives nothing: the connection closes, without a word"],
        ),
        wrong(
            "pool_worker_serves_one_client",
            &pool::CHECK,
            &["Does each worker go back to the queue after its client leaves?"],
        ),
        wrong(
            "pool_worker_stops_at_an_error",
            &pool::CHECK,
            &[
                "Client D receives nothing within 1 s where \"hello from D\\n\" was expected: \
                 B reset its connection in the middle of a line",
                "Does a worker stop at its client's error",
            ],
        ),
        wrong(
            "pool_worker_retires_when_idle",
            &pool::CHECK,
            &[
                "Your program ended while the check ran: your serve() returned an error",
                "After 3.5 s without clients, a new client was not served: do your workers stop",
            ],
        ),
        wrong(
            "pool_turns_away_with_a_plain_drop",
            &pool::CHECK,
            &[
                "Client G heard the busy line and the close, then sent a line, as a client that \
               has not noticed yet may, and its connection was reset",
            ],
        ),
        wrong(
            "pool_thread_per_connection",
            &pool::CHECK,
            &[
                "Client C receives \"hello from C\\n\"",
                "does your server start a thread for every connection?",
            ],
        ),
        // The shipped skeleton's worker is a `todo!()`: the same words CI expects.
        wrong(
            "pool_not_started",
            &pool::CHECK,
            &["Exercise not finished: your server reached a `todo!()`"],
        ),
    ];
    // On Linux and macOS, peer_addr() fails for a connection reset before it was served (ENOTCONN);
    // Windows may still answer it, and then this answer goes on to the read, fails, and carries
    // on, as it should.
    if cfg!(unix) {
        cases.push(wrong(
            "pool_worker_stops_at_a_broken_newcomer",
            &pool::CHECK,
            &[
                "Client H receives nothing within 1 s where \"hello from H\\n\" was expected: \
                 F reset its connection while it waited in the queue",
                "Does a worker stop when a connection it takes is broken before it is served",
            ],
        ));
    }
    // Only Linux shows the check a process's threads; elsewhere this answer passes, as the
    // exercise's own text admits.
    if cfg!(target_os = "linux") {
        cases.push(wrong(
            "pool_thread_per_waiting_connection",
            &pool::CHECK,
            &["does it start a thread for each connection, even one that waits?"],
        ));
    }
    prove(cases);
}

#[test]
fn exercise_07_right_pools_of_other_designs_pass() {
    prove(vec![right("pool_std_mutex_receiver", &pool::CHECK)]);
}

#[test]
fn exercise_08_wrong_shutdowns_fail() {
    if !shutdown::CAN_RUN_HERE {
        eprintln!("{}", shutdown::CANNOT_RUN_HERE);
        return;
    }
    prove(vec![
        wrong(
            "shutdown_reads_to_the_line_end",
            &shutdown::CHECK,
            &[
                "Client T sent its line a byte every 10 ms and never ended it",
                "does your thread look at the deadline only when a line ends or a read times out",
            ],
        ),
        wrong(
            "shutdown_looks_only_when_silent",
            &shutdown::CHECK,
            &[
                "Client K sent a whole line every 5 ms all through the shutdown, and got their \
                 echoes, but no goodbye",
                "do your client threads look at the shutdown only when a read times out?",
            ],
        ),
        wrong(
            "shutdown_keeps_listening",
            &shutdown::CHECK,
            &[
                "Client C could still connect 300 ms after the shutdown",
                "close the listener (drop it) at once?",
            ],
        ),
        wrong(
            "shutdown_forgets_idle_clients",
            &shutdown::CHECK,
            &[
                "Client B receives nothing within 1 s where",
                "An idle client never sends the byte that would wake a blocked read",
            ],
        ),
        wrong(
            "shutdown_ignores_a_dropped_sender",
            &shutdown::CHECK,
            &[
                "Client Z receives nothing within 1 s where \"The server is shutting down. \
                 Goodbye!\\n\" was expected: The shutdown channel's sender was dropped",
                "Does your accept loop take only Ok(()) for a stop?",
            ],
        ),
        wrong(
            "shutdown_takes_nobody_for_a_failure",
            &shutdown::CHECK,
            &[
                "Your server logged that accept failed (\"could not accept a connection: ",
                "Does WouldBlock go to failures.pause_after?",
            ],
        ),
        wrong(
            "shutdown_quiet_when_accept_fails",
            &shutdown::CHECK,
            &[
                "Your server ran out of file descriptors and its log said nothing: 10 clients \
                 connected to it, allowed at most 10 open files",
                "Does every error but WouldBlock still go to failures.pause_after",
            ],
        ),
        wrong(
            "shutdown_returns_when_accept_fails",
            &shutdown::CHECK,
            &[
                "Your program ended while the check ran: your serve() returned an error, so it \
                 stopped accepting clients: ",
                "It ended once it ran out of file descriptors",
            ],
        ),
        wrong(
            "shutdown_forgets_the_reader_buffer",
            &shutdown::CHECK,
            &[
                "Client A receives \"The server is shutting down. Goodbye!\\n\", then the \
                 connection ends where \"second half line\\n",
                "still in the reader's buffer",
            ],
        ),
        wrong(
            "shutdown_echo_outlasts_the_deadline",
            &shutdown::CHECK,
            &[
                "Client S sent a line of 16 MiB, ended it once the shutdown had begun, and \
                 read its echo 16 KiB every 100 ms",
                "Is the echo a plain write_all?",
            ],
        ),
        wrong(
            "shutdown_drops_lines_in_flight",
            &shutdown::CHECK,
            &[
                "Client A receives \"The server is shutting down. Goodbye!\\n\"",
                "Say goodbye only between two lines",
            ],
        ),
        wrong(
            "shutdown_waits_for_ever",
            &shutdown::CHECK,
            // What D hears depends on how the server's threads are scheduled; the mistake,
            // which the verdict names, is the same.
            &["or the shutdown would wait for it for ever"],
        ),
        wrong(
            "shutdown_grace_too_short",
            &shutdown::CHECK,
            &[
                "Client D receives \"The server has shut down; your unfinished line was \
                 dropped.\\n\", then the connection closes before the grace period of 600 ms \
                 after the shutdown was over",
            ],
        ),
        wrong(
            "shutdown_never_returns",
            &shutdown::CHECK,
            &[
                "Every client was closed, but serve() did not return: does it wait for \
                 something that never ends",
            ],
        ),
        wrong(
            "shutdown_returns_at_once",
            &shutdown::CHECK,
            &["Your serve() returned before every client was done"],
        ),
        wrong(
            "shutdown_exits_instead_of_returning",
            &shutdown::CHECK,
            &[
                "Your program exited with status 0 while the check ran, without serve() returning: something called std::process::exit.",
            ],
        ),
        // What the shipped exercise does: serve as if no shutdown existed.
        wrong(
            "shutdown_ignored",
            &shutdown::CHECK,
            &["Client C could still connect 300 ms after the shutdown"],
        ),
    ]);
}

#[test]
fn exercise_12_wrong_http_servers_fail() {
    prove(vec![
        wrong(
            "http_two_hosts_if_they_differ",
            &http::CHECK,
            &[
                "Client J sent GET /hello HTTP/1.0 with two Host headers, both \"check\"",
                "and whatever they say?",
            ],
        ),
        wrong(
            "http_any_target",
            &http::CHECK,
            &[
                "Client 1 sent GET hello HTTP/1.1 (a target that does not start with /)",
                "check that the target starts with /?",
            ],
        ),
        wrong(
            "http_lengths_by_from_str",
            &http::CHECK,
            &[
                "Client 3 sent GET /hello with Content-Length: +0",
                "u64::from_str takes a leading +",
            ],
        ),
        wrong(
            "http_skips_lengths_not_numbers",
            &http::CHECK,
            &[
                "Client 2 sent GET /hello with Content-Length: abc",
                "Skipping it serves the request as if it had no body",
            ],
        ),
        wrong(
            "http_one_read_is_a_request",
            &http::CHECK,
            &[
                "Client A sent GET /hello one byte per write",
                "and received a response 400",
                "Does your read_request take one read() to be one whole request?",
            ],
        ),
        wrong(
            "http_forgets_what_follows",
            &http::CHECK,
            &[
                "Client B sent three requests in one write",
                "and received no response: the connection closed where a response 200 with no body was expected.",
                "keep the bytes after a request's head in the buffer?",
            ],
        ),
        wrong(
            "http_ignores_headers",
            &http::CHECK,
            &[
                "received a response with Connection: keep-alive where Connection: close was expected",
                "Does your request::parse read the headers",
            ],
        ),
        wrong(
            "http_no_head_limit",
            &http::CHECK,
            &[
                "Client H sent a head of more than MAX_HEAD_BYTES with no blank line and received a response 408",
                "refuse with Refusal::HeadTooLarge",
            ],
        ),
        wrong(
            "http_head_limit_off_by_one",
            &http::CHECK,
            &[
                "Client P sent GET /hello with a head of exactly MAX_HEAD_BYTES (8192 bytes) and received a response 431",
                "Does your request::parse refuse a head of exactly MAX_HEAD_BYTES?",
            ],
        ),
        wrong(
            "http_waits_at_the_limit",
            &http::CHECK,
            &[
                "Client Y sent exactly MAX_HEAD_BYTES of a head, with no blank line, and then \
                 nothing",
                "(>=, not >)",
            ],
        ),
        wrong(
            "http_splits_on_whitespace",
            &http::CHECK,
            &[
                "Client U sent GET  /hello HTTP/1.1 (two spaces after the method)",
                "split_whitespace takes two spaces",
            ],
        ),
        wrong(
            "http_counts_host_by_case",
            &http::CHECK,
            &[
                "Client X sent GET /hello with Host: check and host: other",
                "host is Host",
            ],
        ),
        wrong(
            "http_allows_a_tab_in_a_name",
            &http::CHECK,
            &[
                "Client Z sent a header whose name has a tab",
                "refuse a header name with a tab in it",
            ],
        ),
        wrong(
            "http_host_rules_for_http11_only",
            &http::CHECK,
            &[
                "Client J sent GET /hello HTTP/1.0 with two Host headers",
                "whatever its version, and whatever they say?",
            ],
        ),
        wrong(
            "http_only_http11",
            &http::CHECK,
            &[
                "Client O sent GET /hello HTTP/1.0 with no Host header",
                "and received a response 400",
                "Does your request::parse accept HTTP/1.0",
            ],
        ),
        wrong(
            "http_host_without_brackets",
            &http::CHECK,
            &[
                "Client S sent GET /hello with the header Host: [::1]:65442",
                "and received a response 400",
                "an IPv6 address in brackets",
            ],
        ),
        wrong(
            "http_host_for_every_version",
            &http::CHECK,
            &[
                "Client O sent GET /hello HTTP/1.0 with no Host header",
                "and received a response 400",
                "ask for a Host only in HTTP/1.1",
            ],
        ),
        wrong(
            "http_any_case_method",
            &http::CHECK,
            &[
                "Client S sent get /hello HTTP/1.1 (a method in small letters) and received a response 200",
                "Methods are case-sensitive",
            ],
        ),
        wrong(
            "http_timeout_per_read",
            &http::CHECK,
            &[
                "Client V sent the start of a head and then one byte every 100 ms",
                "had received nothing",
                "Is the deadline for the whole head?",
            ],
        ),
        wrong(
            "http_timeout_is_an_error",
            &http::CHECK,
            &[
                "Client V sent the start of a head and then one byte every 100 ms",
                "its connection was closed without a response",
                "Does your read_request return Arrival::TooSlow when the deadline passes?",
            ],
        ),
        wrong(
            "http_ignores_host",
            &http::CHECK,
            &[
                "Client I sent GET /hello HTTP/1.1 with no Host header and received a response 200",
                "Does your check_host refuse an HTTP/1.1 request without a Host header?",
            ],
        ),
        wrong(
            "http_trusts_the_first_length",
            &http::CHECK,
            &[
                "Client L sent GET /hello with Content-Length: 0 and Content-Length: 38",
                "and received a response 200",
                "Does your body_length refuse two Content-Length values that differ?",
            ],
        ),
    ]);
}

#[test]
fn exercise_12_right_http_server_of_another_design_passes() {
    prove(vec![right("http_reads_lines", &http::CHECK)]);
}

/// A known-wrong `resolve` (which returns its refusal as words): it must fail exercise 14's check,
/// saying `words`. The check opens no socket.
fn wrong_sandbox(
    name: &'static str,
    resolve: fn(&std::path::Path, &str, &str) -> Result<std::path::PathBuf, &'static str>,
    words: &'static [&'static str],
) -> Case {
    let answer = move |root: &std::path::Path, cwd: &str, requested: &str| {
        resolve(root, cwd, requested).map_err(str::to_string)
    };
    Case {
        name,
        prove: Box::new(move || {
            says(
                name,
                path_sandbox::run_as(&format!("{name}.rs"), answer).err(),
                words,
            )
        }),
        sockets: 0,
    }
}

#[test]
fn exercise_14_wrong_sandboxes_fail() {
    let mut cases = vec![
        wrong_sandbox(
            "ftp_checks_before_normalising",
            ftp_checks_before_normalising::resolve,
            &[
                "resolve(ROOT, \"/\", \"..\") returned a path that leads to OUTSIDE",
                "The check that it lies inside seems to come too early",
            ],
        ),
        wrong_sandbox(
            "ftp_decodes_percent",
            ftp_decodes_percent::resolve,
            &[
                "resolve(ROOT, \"/\", \"%2e%2e/inside.txt\") returned a path that leads to \
                 ROOT/inside.txt, where it should lead to ROOT/%2e%2e/inside.txt",
                "`%2e%2e` is a name of six characters",
            ],
        ),
        wrong_sandbox(
            "ftp_every_refusal_is_outside",
            ftp_refusal_words::every_refusal_is_outside,
            &[
                "resolve(ROOT, \"/\", \"../site2/secret2.txt\") was refused as \"that path \
                 leads outside the served folder\", where the refusal is \"no such file or \
                 folder\"",
                "`..` above the root is the root",
            ],
        ),
        wrong_sandbox(
            "ftp_every_error_is_a_new_name",
            ftp_every_error_is_a_new_name::resolve,
            &[
                "resolve(ROOT, \"/\", \"hello.txt/new.txt\") returned a path that leads to a \
                 path in a folder that does not exist (or is a file), where it should be refused",
                "`hello.txt` is a file",
            ],
        ),
    ];
    // The two mistakes that only symbolic links reveal; the check makes links on Unix only.
    if cfg!(unix) {
        cases.push(wrong_sandbox(
            "ftp_prefix_as_string",
            ftp_prefix_as_string::resolve,
            &[
                "resolve(ROOT, \"/\", \"link_out/secret2.txt\") returned a path that leads to \
                 OUTSIDE/site2/secret2.txt",
                "was the check done on strings?",
                "Compare paths with `Path::starts_with`",
            ],
        ));
        cases.push(wrong_sandbox(
            "ftp_dangling_is_not_found",
            ftp_refusal_words::dangling_is_not_found,
            &[
                "resolve(ROOT, \"/\", \"dangling\") was refused as \"no such file or \
                 folder\", where the refusal is \"that path leads outside the served folder\"",
                "a link to nowhere counts too",
            ],
        ));
        cases.push(wrong_sandbox(
            "ftp_follows_dangling_links",
            ftp_follows_dangling_links::resolve,
            &[
                "resolve(ROOT, \"/\", \"dangling\") returned a path that leads to a link that \
                 points nowhere",
                "`File::create` would",
            ],
        ));
    }
    prove(cases);
}

#[test]
fn exercise_14_right_sandbox_of_another_design_passes() {
    let answer = |root: &std::path::Path, cwd: &str, requested: &str| {
        ftp_resolve_with_components::resolve(root, cwd, requested).map_err(str::to_string)
    };
    let verdict = path_sandbox::run_as("ftp_resolve_with_components.rs", answer);
    if let Err(failure) = verdict {
        panic!("a right answer of another design fails the check:\n{failure}");
    }
}

/// The exercise gives `Refusal` and `resolve`'s description and signature; they must be the
/// lesson's, word for word. The reference solution is the lesson's file itself, included.
#[test]
fn exercise_14_the_given_parts_are_the_lessons() {
    let anchor = |path: &str, name: &str| -> String {
        let text = read(path);
        let start = format!("// ANCHOR: {name}\n");
        let from = text.find(&start).expect("start marker") + start.len();
        let to = from
            + text[from..]
                .find(&format!("// ANCHOR_END: {name}"))
                .expect("end marker");
        text[from..to].to_string()
    };
    let signature = |resolve: String| -> String {
        let end = resolve
            .find(") -> Result<PathBuf, Refusal> {")
            .expect("the signature");
        resolve[..end].to_string()
    };
    let lesson = "lessons/14_ftp/sandbox.rs";
    let (exercise, solution) = ("exercises/src/14_ftp.rs", "solutions/src/14_ftp.rs");
    assert_eq!(
        anchor(exercise, "refusal"),
        anchor(lesson, "refusal"),
        "{exercise}'s Refusal"
    );
    assert_eq!(
        signature(anchor(exercise, "resolve")),
        signature(anchor(lesson, "resolve")),
        "{exercise}'s description and signature of resolve"
    );
    assert!(
        read(solution).contains("#[path = \"../../lessons/14_ftp/sandbox.rs\"]"),
        "{solution} includes the lesson's sandbox"
    );
    // The task at the top is the same in the exercise and its solution.
    let task = |path: &str| {
        read(path)
            .split("\n\n//")
            .next()
            .unwrap_or_default()
            .split("\n\nuse ")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(task(exercise), task(solution));
}

const LINES: &Script = &line_server::SCRIPT;

#[test]
fn exercise_09_wrong_servers_fail() {
    prove(vec![
        wrong(
            "line_one_read_is_a_line",
            LINES,
            &[
                "Client A received \"line 2: two\\nlines\\n\"",
                "Your server answered one read as if it were one line.",
            ],
        ),
        wrong(
            "line_lossy_per_read",
            LINES,
            &["and each half became `�`: does your server turn each read into text?"],
        ),
        wrong(
            "line_keeps_the_carriage_return",
            LINES,
            &["The `\\r` before the `\\n` is part of the line's end"],
        ),
        wrong(
            "line_one_count_for_all",
            LINES,
            &["is the count shared by every client?"],
        ),
        wrong(
            "line_lines_as_text",
            LINES,
            &["Did reading it as text (read_line or lines(), which fail on such bytes)"],
        ),
        wrong(
            "line_fixed_buffer",
            LINES,
            &["The 100 KiB line was answered as several lines"],
        ),
        wrong(
            "line_trims",
            LINES,
            &[
                "Client Q received \"line 1: spaces and a tab\\nline 2: a \\r inside",
                "does your server trim() the line?",
            ],
        ),
        wrong(
            "line_trims_every_carriage_return",
            LINES,
            &[
                "Client Q received",
                "Does your server take off every `\\r` at the end (trim_end_matches)?",
            ],
        ),
        wrong(
            "line_answers_an_empty_rest",
            LINES,
            &["Client Q's last line ended with its `\\n`, and then Q closed its sending side"],
        ),
        wrong(
            "line_drops_the_last_line",
            LINES,
            &["Client P sent its last words without a newline"],
        ),
        wrong(
            "line_reads_to_the_end",
            LINES,
            &["Client A received nothing", "`line 1: hello`"],
        ),
        wrong(
            "line_drops_what_follows_a_read_s_last_line",
            LINES,
            &[
                "Client D received \"line 1: one\\nline 2: o\\n\"",
                "does your server throw away what follows the last `\\n` of a read?",
            ],
        ),
    ]);
}

/// What a learner reads when exercise 09 is run as shipped: chapter 09 shows it.
#[test]
fn exercise_09_as_shipped_reads_like_this() {
    let failure = run(LINES, "line_one_read_is_a_line").expect_err("one read per line fails");
    // Only the first line and the likely mistake: the rest points at files that move.
    insta::assert_snapshot!("line_server_as_shipped", failure.reason);
}

#[test]
fn exercise_09_right_server_of_another_design_passes() {
    prove(vec![right("line_own_byte_buffer", LINES)]);
}

/// The known answers' `serve` is the exercise's and the solution's, word for word but for the
/// answer it is given.
#[test]
fn exercise_09_the_given_server_is_the_same_everywhere() {
    let serve = |source: &str| -> String {
        let start = source
            .find("/// Answers every client")
            .expect("serve's doc");
        let end = start + source[start..].find("\n}\n").expect("serve's end");
        source[start..end]
            .replace(", answer_lines: AnswerLines", "")
            .to_string()
    };
    let known = serve(&read("tests/suite/known_wrong/line_servers.rs"));
    for copy in [
        "exercises/src/09_line_server.rs",
        "solutions/src/09_line_server.rs",
    ] {
        assert_eq!(serve(&read(copy)), known, "{copy}'s serve");
    }
    let task = |path: &str| {
        read(path)
            .split("\n\nuse ")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(
        task("exercises/src/09_line_server.rs"),
        task("solutions/src/09_line_server.rs")
    );
}

type Measure = fn(std::net::SocketAddr, usize, usize, std::time::Duration) -> load_clients::Counts;

fn wrong_load(name: &'static str, measure: Measure, words: &'static [&'static str]) -> Case {
    fn run_as(file: &str, measure: Measure) -> Result<course::check::Transcript, Failure> {
        load_client::run_as(file, measure)
    }
    wrong_with(name, run_as, SOCKETS_FOR_LOAD_CHECK, measure, words)
}

#[test]
fn exercise_11_wrong_load_generators_fail() {
    prove(vec![
        wrong_load(
            "load_compares_a_prefix",
            load_clients::compares_a_prefix,
            &[
                "measure returned 24 round trips and 0 errors where 4 to 8 round trips",
                "Does yours compare only the first bytes of what it read",
            ],
        ),
        wrong_load(
            "load_one_after_another",
            load_clients::one_after_another,
            &["clients were never all connected at once (it returned 24 round trips and 0 errors)"],
        ),
        wrong_load(
            "load_one_read",
            load_clients::one_read,
            &["in two pieces: one read returns only what has arrived"],
        ),
        wrong_load(
            "load_never_compares",
            load_clients::never_compares,
            &["Every third echo was not the message sent"],
        ),
        wrong_load(
            "load_goes_on_after_an_error",
            load_clients::goes_on_after_an_error,
            &["returned 16 round trips and 8 errors where 8 round trips and 16 errors"],
        ),
        wrong_load(
            "load_forgets_the_unsent",
            load_clients::forgets_the_unsent,
            &["they add up to 12, not the 24 messages it was asked for"],
        ),
        wrong_load(
            "load_refusal_is_one_error",
            load_clients::refusal_is_one_error,
            &[
                "Against a port where nothing listens (every connection refused), measure \
                 returned 0 round trips and 4 errors where 0 round trips and 24 errors were \
                 expected",
            ],
        ),
        wrong_load(
            "load_no_timeout",
            load_clients::no_timeout,
            &["measure did not return within 3 s, against an echo server that never answers"],
        ),
        wrong_load(
            "load_connect_has_no_limit",
            load_clients::connect_has_no_limit,
            &[
                "measure did not return within 3 s, against a server whose queue of waiting \
                 connections is full",
                "Does every connect have a limit of `timeout` too?",
            ],
        ),
        wrong_load(
            "load_own_timeout",
            load_clients::own_timeout,
            &["measure did not return within 3 s, against an echo server that never answers"],
        ),
        wrong_load(
            "load_times_the_write",
            load_clients::times_the_write,
            &["less than the 50 ms the server waited before each echo"],
        ),
        wrong_load(
            "load_times_from_the_start",
            load_clients::times_from_the_start,
            &[
                "The median round trip took",
                "timed from the client's start",
            ],
        ),
    ]);
}

#[test]
fn exercise_11_right_load_generator_of_another_design_passes() {
    let answers: [(&str, Measure); 2] = [
        ("load_by_lines.rs", load_clients::by_lines),
        ("load_takes_what_came.rs", load_clients::takes_what_came),
    ];
    for (file, answer) in answers {
        let _sockets = support::sockets(SOCKETS_FOR_LOAD_CHECK);
        if let Err(failure) = load_client::run_as(file, answer) {
            panic!("a correct answer of another design ({file}) fails the check:\n{failure}");
        }
    }
}

/// Exercise 11's given parts (the task, `Measured` and `message`) are the solution's, word for
/// word.
#[test]
fn exercise_11_the_given_code_is_the_solutions() {
    let given = |source: &str| -> String {
        let task = source.split("\n\nuse ").next().unwrap_or_default();
        let start = source
            .find("/// What the clients saw.")
            .expect("Measured's doc");
        let end = source.find("// ANCHOR: measure").expect("the anchor");
        format!("{task}\n{}", &source[start..end])
    };
    assert_eq!(
        given(&read("exercises/src/11_load.rs")),
        given(&read("solutions/src/11_load.rs"))
    );
}

/// Serves exercise 09's given server with `answer` as its `answer_lines`.
fn serve_line_server(answer: line_servers::AnswerLines) -> ! {
    serve_as_program(move |listener| line_servers::serve(listener, answer))
}

/// Not a proof: where each answer above is served, as a program of its own. A check starts this
/// test program again, running only this test, with the answer's name in `COURSE_CHECK_ANSWER`.
#[test]
#[ignore = "the proofs run it, as each answer's program"]
fn answer_process() {
    let Some(name) = check::requested_answer() else {
        return;
    };
    match name.as_str() {
        "chat_announces_the_unnamed" => serve_as_program(chat_announces_the_unnamed::serve),
        "chat_broadcast_with_iterators" => serve_as_program(chat_broadcast_with_iterators::serve),
        "chat_broker_rules" => serve_as_program(|listener| {
            chat_broker_rules::serve_with(listener, chat_broker_rules::RIGHT)
        }),
        "chat_delivers_on_threads" => serve_as_program(chat_delivers_on_threads::serve),
        "chat_echoes_to_sender" => serve_as_program(chat_echoes_to_sender::serve),
        "chat_forgets_leaves" => serve_as_program(chat_forgets_leaves::serve),
        "chat_shuts_down_every_leaver" => serve_as_program(chat_shuts_down_every_leaver::serve),
        "chat_ignores_full_queues" => serve_as_program(chat_ignores_full_queues::serve),
        "chat_keeps_only_the_newest" => serve_as_program(chat_keeps_only_the_newest::serve),
        "chat_keeps_the_nameless" => serve_as_program(chat_keeps_the_nameless::serve),
        "chat_lost_is_just_left" => serve_as_program(chat_lost_is_just_left::serve),
        "chat_says_left_when_cut_off" => serve_as_program(chat_says_left_when_cut_off::serve),
        "chat_stops_at_a_full_queue" => serve_as_program(chat_stops_at_a_full_queue::serve),
        "chat_tells_the_unnamed" => serve_as_program(chat_tells_the_unnamed::serve),
        "chat_tells_the_unnamed_who_left" => {
            serve_as_program(chat_tells_the_unnamed_who_left::serve)
        }
        "chat_waits_for_the_slow" => serve_as_program(chat_waits_for_the_slow::serve),
        "echo_adds_a_newline" => serve_as_program(echo_adds_a_newline::serve),
        "echo_by_lines" => serve_as_program(echo_by_lines::serve),
        "echo_dies_with_a_client" => serve_as_program(echo_dies_with_a_client::serve),
        "echo_names_each_client_first" => serve_as_program(echo_names_each_client_first::serve),
        "echo_drops_quiet_clients" => serve_as_program(echo_drops_quiet_clients::serve),
        "echo_io_copy" => serve_as_program(echo_io_copy::serve),
        "echo_joins_each_thread" => serve_as_program(echo_joins_each_thread::serve),
        "echo_lines_as_text" => serve_as_program(echo_lines_as_text::serve),
        "echo_lossy_text" => serve_as_program(echo_lossy_text::serve),
        "echo_not_started" => serve_as_program(echo_not_started::serve),
        "echo_panics_on_a_reset" => serve_as_program(echo_panics_on_a_reset::serve),
        "echo_pool_of_sixteen" => serve_as_program(echo_pool_of_sixteen::serve),
        "echo_pool_of_two" => serve_as_program(echo_pool_of_two::serve),
        "echo_read_is_a_message" => serve_as_program(echo_read_is_a_message::serve),
        "echo_scoped_threads" => serve_as_program(echo_scoped_threads::serve),
        "echo_single_threaded" => serve_as_program(echo_single_threaded::serve),
        "echo_stops_after_first_line" => serve_as_program(echo_stops_after_first_line::serve),
        "echo_to_the_newest" => serve_as_program(echo_to_the_newest::serve),
        "echo_upper_case" => serve_as_program(echo_upper_case::serve),
        "greeting_local_address" => serve_as_program(greeting_local_address::serve),
        "greeting_ip_and_port" => serve_as_program(greeting_ip_and_port::serve),
        "line_drops_the_last_line" => serve_line_server(line_servers::drops_the_last_line),
        "line_fixed_buffer" => serve_line_server(line_servers::fixed_buffer),
        "line_drops_what_follows_a_read_s_last_line" => {
            serve_line_server(line_servers::drops_what_follows_a_read_s_last_line)
        }
        "line_trims" => serve_line_server(line_servers::trims),
        "line_trims_every_carriage_return" => {
            serve_line_server(line_servers::trims_every_carriage_return)
        }
        "line_answers_an_empty_rest" => serve_line_server(line_servers::answers_an_empty_rest),
        "line_keeps_the_carriage_return" => {
            serve_line_server(line_servers::keeps_the_carriage_return)
        }
        "line_lines_as_text" => serve_line_server(line_servers::lines_as_text),
        "line_lossy_per_read" => serve_line_server(line_servers::lossy_per_read),
        "line_one_count_for_all" => serve_line_server(line_servers::one_count_for_all),
        "line_one_read_is_a_line" => serve_line_server(line_servers::one_read_is_a_line),
        "line_own_byte_buffer" => serve_line_server(line_servers::own_byte_buffer),
        "line_reads_to_the_end" => serve_line_server(line_servers::reads_to_the_end),
        "http_forgets_what_follows" => serve_as_program(http_forgets_what_follows::serve),
        "http_ignores_headers" => serve_as_program(http_ignores_headers::serve),
        "http_ignores_host" => serve_as_program(http_ignores_host::serve),
        "http_no_head_limit" => serve_as_program(http_no_head_limit::serve),
        "http_head_limit_off_by_one" => serve_as_program(http_head_limit_off_by_one::serve),
        "http_waits_at_the_limit" => serve_as_program(http_variants::waits_at_the_limit),
        "http_splits_on_whitespace" => serve_as_program(http_variants::splits_on_whitespace),
        "http_counts_host_by_case" => serve_as_program(http_variants::counts_host_by_case),
        "http_two_hosts_if_they_differ" => {
            serve_as_program(http_variants::two_hosts_if_they_differ)
        }
        "http_any_target" => serve_as_program(http_variants::any_target),
        "http_lengths_by_from_str" => serve_as_program(http_variants::lengths_by_from_str),
        "http_skips_lengths_not_numbers" => {
            serve_as_program(http_variants::skips_lengths_not_numbers)
        }
        "http_allows_a_tab_in_a_name" => serve_as_program(http_variants::allows_a_tab_in_a_name),
        "http_host_rules_for_http11_only" => {
            serve_as_program(http_variants::host_rules_for_http11_only)
        }
        "http_only_http11" => serve_as_program(http_only_http11::serve),
        "http_host_for_every_version" => serve_as_program(http_host_for_every_version::serve),
        "http_host_without_brackets" => serve_as_program(http_host_without_brackets::serve),
        "http_any_case_method" => serve_as_program(http_any_case_method::serve),
        "http_timeout_is_an_error" => serve_as_program(http_timeout_is_an_error::serve),
        "http_timeout_per_read" => serve_as_program(http_timeout_per_read::serve),
        "http_one_read_is_a_request" => serve_as_program(http_one_read_is_a_request::serve),
        "http_trusts_the_first_length" => serve_as_program(http_trusts_the_first_length::serve),
        "http_reads_lines" => {
            serve_as_program(|listener| http_reads_lines::serve(listener, http::HEADER_TIMEOUT))
        }
        "pool_closes_without_a_word" => pool::serve_as_program(pool_closes_without_a_word::serve),
        "pool_not_started" => pool::serve_as_program(pool_not_started::serve),
        "pool_queue_one_short" => pool::serve_as_program(pool_queue_one_short::serve),
        "pool_std_mutex_receiver" => pool::serve_as_program(pool_std_mutex_receiver::serve),
        "pool_thread_per_connection" => pool::serve_as_program(pool_thread_per_connection::serve),
        "pool_thread_per_waiting_connection" => {
            pool::serve_as_program(pool_thread_per_waiting_connection::serve)
        }
        "pool_waits_for_room" => pool::serve_as_program(pool_waits_for_room::serve),
        "pool_worker_serves_one_client" => {
            pool::serve_as_program(pool_worker_serves_one_client::serve)
        }
        "shutdown_reads_to_the_line_end" => {
            shutdown::serve_as_program(shutdown_reads_to_the_line_end::serve)
        }
        "shutdown_looks_only_when_silent" => {
            shutdown::serve_as_program(shutdown_looks_only_when_silent::serve)
        }
        "pool_worker_retires_when_idle" => {
            pool::serve_as_program(pool_worker_retires_when_idle::serve)
        }
        "pool_turns_away_with_a_plain_drop" => {
            pool::serve_as_program(pool_turns_away_with_a_plain_drop::serve)
        }
        "pool_worker_stops_at_an_error" => {
            pool::serve_as_program(pool_worker_stops_at_an_error::serve)
        }
        "pool_worker_stops_at_a_broken_newcomer" => {
            pool::serve_as_program(pool_worker_stops_at_a_broken_newcomer::serve)
        }
        "shutdown_drops_lines_in_flight" => {
            shutdown::serve_as_program(shutdown_drops_lines_in_flight::serve)
        }
        "shutdown_echo_outlasts_the_deadline" => {
            shutdown::serve_as_program(shutdown_echo_outlasts_the_deadline::serve)
        }
        "shutdown_forgets_idle_clients" => {
            shutdown::serve_as_program(shutdown_forgets_idle_clients::serve)
        }
        "shutdown_ignores_a_dropped_sender" => {
            shutdown::serve_as_program(shutdown_ignores_a_dropped_sender::serve)
        }
        "shutdown_takes_nobody_for_a_failure" => {
            shutdown::serve_as_program(shutdown_takes_nobody_for_a_failure::serve)
        }
        "shutdown_quiet_when_accept_fails" => {
            shutdown::serve_as_program(shutdown_quiet_when_accept_fails::serve)
        }
        "shutdown_returns_when_accept_fails" => {
            shutdown::serve_as_program(shutdown_returns_when_accept_fails::serve)
        }
        "shutdown_forgets_the_reader_buffer" => {
            shutdown::serve_as_program(shutdown_forgets_the_reader_buffer::serve)
        }
        "shutdown_grace_too_short" => shutdown::serve_as_program(shutdown_grace_too_short::serve),
        "shutdown_ignored" => shutdown::serve_as_program(shutdown_ignored::serve),
        "shutdown_keeps_listening" => shutdown::serve_as_program(shutdown_keeps_listening::serve),
        "shutdown_never_returns" => shutdown::serve_as_program(shutdown_never_returns::serve),
        "shutdown_returns_at_once" => shutdown::serve_as_program(shutdown_returns_at_once::serve),
        "shutdown_waits_for_ever" => shutdown::serve_as_program(shutdown_waits_for_ever::serve),
        "timeouts_close_without_a_word" => {
            idle_timeout::serve_as_program(timeouts_close_without_a_word::serve)
        }
        "timeouts_watchdog" => idle_timeout::serve_as_program(timeouts_watchdog::serve),
        "timeouts_half_close" => idle_timeout::serve_as_program(timeouts_half_close::serve),
        "timeouts_reset_is_silence" => {
            idle_timeout::serve_as_program(timeouts_reset_is_silence::serve)
        }
        "timeouts_echoes_lines" => idle_timeout::serve_as_program(timeouts_variants::echoes_lines),
        "timeouts_echoes_byte_lines" => {
            idle_timeout::serve_as_program(timeouts_variants::echoes_byte_lines)
        }
        "timeouts_clock_from_newline" => {
            idle_timeout::serve_as_program(timeouts_variants::clock_from_newline)
        }
        "timeouts_limit_doubled" => {
            idle_timeout::serve_as_program(timeouts_variants::limit_doubled)
        }
        "timeouts_whole_seconds" => {
            idle_timeout::serve_as_program(timeouts_variants::whole_seconds)
        }
        "timeouts_rounded_up" => idle_timeout::serve_as_program(timeouts_variants::rounded_up),
        "timeouts_count_from_connect" => {
            idle_timeout::serve_as_program(timeouts_count_from_connect::serve)
        }
        "echo_exits_on_a_client_error" => serve_as_program(echo_exits_on_a_client_error::serve),
        "shutdown_exits_instead_of_returning" => {
            shutdown::serve_as_program(shutdown_exits_instead_of_returning::serve)
        }
        other => panic!("no known answer is called {other}"),
    }
}

/// The top-level items of a Rust file (functions, types, constants, impls...), each with its doc
/// comment and attributes, as text. A rough reader: brackets are counted outside strings and
/// comments, and an item ends where they balance at the end of a line.
fn items(source: &str) -> Vec<String> {
    let mut items = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut depth = 0i32;
    for line in source.lines() {
        let trimmed = line.trim();
        if line.starts_with("//!") || (current.is_empty() && trimmed.is_empty()) {
            continue;
        }
        current.push(line);
        depth += bracket_balance(line);
        let ends = trimmed.ends_with('}')
            || trimmed.ends_with(';')
            || (trimmed.ends_with(']') && !trimmed.starts_with("#["));
        if depth == 0 && ends {
            items.push(current.join("\n"));
            current.clear();
        }
    }
    items
}

/// Opening minus closing brackets on a line, outside strings, characters and comments.
fn bracket_balance(line: &str) -> i32 {
    let mut balance = 0;
    let mut chars = line.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_string => {
                chars.next();
            }
            '"' => in_string = !in_string,
            '/' if !in_string && chars.peek() == Some(&'/') => break,
            '\'' if !in_string => {
                // A char literal ('{', '\n') or a lifetime ('a): skip a literal's content.
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with('\\') || rest.chars().nth(1) == Some('\'') {
                    while let Some(next) = chars.next() {
                        if next == '\\' {
                            chars.next();
                        } else if next == '\'' {
                            break;
                        }
                    }
                }
            }
            '{' | '(' | '[' if !in_string => balance += 1,
            '}' | ')' | ']' if !in_string => balance -= 1,
            _ => {}
        }
    }
    balance
}

/// An item's code, compared word for word: without line comments (an exercise may explain more
/// than its solution), `#[allow(...)]` lines (an unfinished exercise leaves things unused) and
/// the white space between words.
fn code_of(item: &str) -> String {
    item.lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("//") || line.starts_with("///"))
        .filter(|line| !line.starts_with("#[allow("))
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether an item is the learner's to write (or is free to differ): it holds a `TODO`, a
/// `todo!`, or it is a `use` or an inner attribute (a finished file imports more).
fn is_the_learners(item: &str) -> bool {
    item.contains("TODO")
        || item.contains("todo!")
        || code_of(item).starts_with("use ")
        || code_of(item).starts_with("pub use ")
        || code_of(item).starts_with("#![")
}

/// Every exercise's given code is its solution's, item for item: a fix made to one reaches the
/// other, and a solution copied over its exercise changes only the learner's parts.
#[test]
fn every_exercises_given_code_is_its_solutions_word_for_word() {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut drifted = Vec::new();
    let mut pairs = 0;
    for entry in std::fs::read_dir(format!("{root}/exercises/src")).expect("exercises/src") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !name.ends_with(".rs") || !name.starts_with(|c: char| c.is_ascii_digit()) {
            continue;
        }
        let exercise = std::fs::read_to_string(&path).expect("an exercise file");
        let solution_path = format!("{root}/solutions/src/{name}");
        let Ok(mut solution) = std::fs::read_to_string(&solution_path) else {
            drifted.push(format!("{name}: no solutions/src/{name}"));
            continue;
        };
        // A solution that is a lesson's own file, included by path (14's sandbox), holds that
        // file's items.
        let included: Vec<String> = solution
            .lines()
            .filter_map(|line| line.trim().strip_prefix("#[path = \""))
            .filter_map(|rest| rest.strip_suffix("\"]"))
            .map(|relative| format!("{root}/solutions/src/{relative}"))
            .collect();
        for path in included {
            solution.push_str("\n\n");
            solution.push_str(&std::fs::read_to_string(&path).expect("an included file"));
        }
        pairs += 1;
        let solution_items: Vec<String> = items(&solution).iter().map(|i| code_of(i)).collect();
        for item in items(&exercise)
            .iter()
            .filter(|item| !is_the_learners(item))
        {
            if !solution_items.contains(&code_of(item)) {
                let first = item.lines().find(|line| {
                    let line = line.trim_start();
                    !line.starts_with("//") && !line.starts_with("#[")
                });
                drifted.push(format!(
                    "exercises/src/{name}: the given item `{}` is not word for word in \
                     solutions/src/{name}",
                    first.unwrap_or("").trim()
                ));
            }
        }
    }
    assert!(pairs >= 10, "found only {pairs} exercise/solution pairs");
    assert!(drifted.is_empty(), "\n{}", drifted.join("\n"));
}

/// The reader of items is itself proven: it finds drift where there is some.
#[test]
fn the_drift_test_sees_a_changed_given_item() {
    let exercise = "//! doc\nuse std::io;\n\n/// Given.\nfn given() -> u8 {\n    // why\n    \
                    b'{'\n}\n\nfn learners() {\n    todo!()\n}\n";
    let found = items(exercise);
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(!is_the_learners(&found[1]) && is_the_learners(&found[2]));
    let same = "fn given() -> u8 {\n    b'{'\n}";
    let changed = "fn given() -> u8 {\n    b'}'\n}";
    assert_eq!(
        code_of(&found[1]),
        "/// Given. ".to_string() + &code_of(same)
    );
    assert_ne!(code_of(same), code_of(changed));
}

/// A file of the repository, by its path from the top folder (for the drift tests).
fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|error| panic!("cannot read {path}: {error}"))
}

/// The item of `items` that defines `name` (a `fn` or a `const`), as [`code_of`] gives it, with
/// `pub` taken out (a copy makes public what the wrong answers use).
fn item_named(source: &str, name: &str) -> String {
    let found = items(source).into_iter().find(|item| {
        let code = code_of(item);
        [format!("fn {name}("), format!("const {name}:")]
            .iter()
            .any(|head| code.contains(head.as_str()))
    });
    let code = code_of(&found.unwrap_or_else(|| panic!("no item `{name}`")));
    code.split(' ')
        .filter(|word| *word != "pub")
        .collect::<Vec<_>>()
        .join(" ")
}

/// The known-wrong `timeouts_reset_is_silence` is caught by what the given `serve_client` logs:
/// only while that is the given one, word for word, in the exercise and the solution alike.
#[test]
fn exercise_06_the_given_serve_client_is_the_same_everywhere() {
    let given = item_named(&read("solutions/src/06_timeouts.rs"), "serve_client");
    for copy in [
        "exercises/src/06_timeouts.rs",
        "tests/suite/known_wrong/timeouts_reset_is_silence.rs",
    ] {
        assert_eq!(item_named(&read(copy), "serve_client"), given, "{copy}");
    }
}

/// The known-wrong pools differ from the reference solution in one rule each only while
/// `pool_rules.rs` is the solution's server, which is the exercise's: word for word, with the
/// rules put back where the copy calls them.
#[test]
fn exercise_07_the_given_pool_is_the_same_everywhere() {
    let solution = read("solutions/src/07_thread_pool.rs");
    let exercise = read("exercises/src/07_thread_pool.rs");
    let copy = read("tests/suite/known_wrong/pool_rules.rs");
    for name in ["BUSY", "turn_away", "echo"] {
        assert_eq!(
            item_named(&copy, name),
            item_named(&solution, name),
            "{name}"
        );
        assert_eq!(
            item_named(&exercise, name),
            item_named(&solution, name),
            "{name}"
        );
    }
    // The rules, put back: the copy's `serve_with` is the solution's `serve`.
    let hand_over = item_named(&copy, "right_hand_over");
    let hand_over = hand_over
        .split_once("{ ")
        .and_then(|(_, body)| body.strip_suffix(" Ok(()) }"))
        .expect("right_hand_over ends with Ok(())");
    let serve = item_named(&copy, "serve_with")
        .replace("fn serve_with( listener: TcpListener, workers: usize, max_waiting: usize, rules: Rules, )", "fn serve(listener: TcpListener, workers: usize, max_waiting: usize)")
        .replace("(rules.work)(queue)", "work(queue)")
        .replace("(rules.hand_over)(&waiting, stream)?;", hand_over);
    assert_eq!(serve, item_named(&solution, "serve"), "serve");
    let work = item_named(&copy, "right_work").replace("fn right_work(", "fn work(");
    assert_eq!(work, item_named(&solution, "work"), "work");
}

/// The known-wrong HTTP servers differ from the reference solution in one rule each only while
/// `http_rules.rs` is the solution's server, word for word, with the rules put back where the
/// copy calls them (`right_read_request` is `read_request`, and so on).
#[test]
fn exercise_12_the_given_server_is_the_same_everywhere() {
    assert_eq!(
        http_server_without_rules(&read("tests/suite/known_wrong/http_rules.rs")),
        http_server_without_rules(&read("solutions/src/12_http.rs")),
        "tests/suite/known_wrong/http_rules.rs is no longer solutions/src/12_http.rs"
    );
}

/// Exercise 12's server as code, word for word, without its `use` lines and `pub`s, and without
/// what makes `http_rules.rs`'s rules swappable: the `Rules` machinery, and each rule's
/// dispatcher (a function that calls `rules()`), with `right_` taken off the rules themselves.
fn http_server_without_rules(source: &str) -> String {
    let machinery = [
        "type Parsed",
        "struct Rules",
        "const RIGHT",
        "static RULES",
        "fn rules()",
        "fn serve_with(",
        "const _: Duration",
        "(rules().",
    ];
    let mut text = items(source)
        .iter()
        .map(|item| code_of(item))
        .filter(|code| !code.starts_with("use ") && !code.starts_with("pub use "))
        .filter(|code| !machinery.iter().any(|part| code.contains(part)))
        .collect::<Vec<_>>()
        .join(" ");
    // The dispatchers inside `mod request`: `fn parse(...) -> ... { (super::rules().parse)(buffer) }`.
    while let Some(at) = text.find("(super::rules().") {
        let start = text[..at].rfind("fn ").expect("a dispatcher is a function");
        let start = text[..start].strip_suffix("pub ").map_or(start, str::len);
        let end = at + text[at..].find(" }").expect("a dispatcher's end") + 2;
        text.replace_range(start..end, "");
    }
    text.replace("right_", "")
        .split_whitespace()
        .filter(|word| *word != "pub")
        .collect::<Vec<_>>()
        .join(" ")
}

/// The known-wrong shutdowns differ from the reference solution in one rule each only while
/// `shutdown_rules.rs` is the solution's server, which is the exercise's: word for word, with the
/// rules put back where the copy calls them.
#[test]
fn exercise_08_the_given_server_is_the_same_everywhere() {
    let solution = read("solutions/src/08_shutdown.rs");
    let exercise = read("exercises/src/08_shutdown.rs");
    let copy = read("tests/suite/known_wrong/shutdown_rules.rs");
    // The lesson's BeforeDeadline is the one the exercise is given.
    assert_eq!(
        item_named(&read("lessons/08_shutdown.rs"), "write"),
        item_named(&solution, "write"),
        "lesson 08's BeforeDeadline"
    );
    for name in [
        "GOODBYE",
        "CUT_OFF",
        "TURN",
        "WRITE_TIMEOUT",
        "start_client",
        "write",
        "flush",
    ] {
        assert_eq!(
            item_named(&copy, name),
            item_named(&solution, name),
            "{name}"
        );
        assert_eq!(
            item_named(&exercise, name),
            item_named(&solution, name),
            "{name}"
        );
    }
    let body = |code: String, after: &str, before: &str| -> String {
        let start = code.find(after).expect("the rule's head") + after.len();
        let end = code.rfind(before).expect("the rule's end");
        code[start..end].to_string()
    };
    let wind_down = body(item_named(&copy, "right_wind_down"), "<()>>, ) { ", " }");
    let serve = item_named(&copy, "serve_with")
        .replace(
            "fn serve_with( listener: TcpListener, shutdown: Receiver<()>, grace: Duration, rules: Rules, )",
            "fn serve(listener: TcpListener, shutdown: Receiver<()>, grace: Duration)",
        )
        .replace("let _ = RULES.set(rules); ", "")
        .replace(
            "Err(RecvTimeoutError::Disconnected) if !rules.disconnected_stops => {} ",
            "",
        )
        .replace(
            "ErrorKind::WouldBlock && !rules.would_block_is_a_failure => { TURN }",
            "ErrorKind::WouldBlock => TURN,",
        )
        .replace("Err(_) if rules.failure_is_quiet => TURN, ", "")
        .replace(
            "Err(error) if rules.failure_ends_serve => return Err(error.into()), ",
            "",
        )
        .replace("(rules.wind_down)(listener, &stop, grace, clients);", &wind_down);
    assert_eq!(serve, item_named(&solution, "serve"), "serve");
    let at_a_turn = body(
        item_named(&copy, "right_at_a_turn"),
        "std::io::Result<bool> { ",
        " Ok(false) }",
    )
    .replace("return Ok(true);", "return Ok(());");
    let echo_lines = item_named(&copy, "echo_lines")
        .replace(
            "if (rules().at_a_turn)(&line, &reader, &mut writer, stop)? { return Ok(()); }",
            &at_a_turn,
        )
        .replace(
            "if rules().echo_ignores_the_deadline { writer.write_all(&line)?; } else { \
             BeforeDeadline { stream, stop }.write_all(&line)?; }",
            "BeforeDeadline { stream, stop }.write_all(&line)?;",
        );
    assert_eq!(
        echo_lines,
        item_named(&solution, "echo_lines"),
        "echo_lines"
    );
}

//! The course's load bench: every echo server and both chats under the same load, measured with
//! lesson 11's `11_load`, and idle clients held until something gives. It writes what it found
//! to `book/src/measurements/` (tables in Markdown, charts in SVG) for chapter 11.
//!
//! Run it with `bench/run` (Linux: the servers' threads and memory come from /proc), which
//! builds everything in release mode first and raises the open-file limit. By hand:
//!
//!     cargo build --release --bins --workspace
//!     ulimit -n 30000
//!     cargo run --release --example load_bench
//!
//! It takes about two minutes on a 2-core machine.
//!
//! `cargo run --example load_bench -- --redraw` draws the two echo charts again from the table in
//! `load_echo.md`, without measuring: for a change to how the charts are drawn.

#[path = "support/server.rs"]
mod support;

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// Where the results go, for the book to include.
const MEASUREMENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/book/src/measurements");
/// How long a reply may take before it counts as an error (wrk's default is 2 s too).
const TIMEOUT: &str = "2";
/// Round trips per run: enough to measure, few enough that the bench stays short.
const ROUND_TRIPS_PER_RUN: usize = 100_000;
/// A run that takes longer than this is stopped and reported as such.
const RUN_LIMIT: Duration = Duration::from_secs(60);
/// Idle clients each server is offered: echo servers, then chats (which use two threads each).
const IDLE_ECHO: usize = 10_000;
const IDLE_CHAT: usize = 5_000;

/// The echo servers: label, binary, arguments after the address, and the most clients to try.
const ECHO_SERVERS: &[(&str, &str, &str, usize)] = &[
    ("02 one at a time", "02_echo", "", 1000),
    ("03 a thread per client", "03_threaded_echo", "", 10_000),
    ("07 a pool of 4", "07_thread_pool", "", 1000),
    ("10 async (tokio)", "10_async_echo", "", 10_000),
];
const ECHO_CLIENTS: &[usize] = &[1, 10, 100, 1000, 10_000];
const CHAT_SERVERS: &[(&str, &str, &str)] = &[
    ("04 threads and channels", "04_chat", "2000"),
    ("10 async (tokio)", "10_async_chat", "2000"),
];
/// Clients, and messages each: every message reaches all the others, so fewer at 1000.
const CHAT_RUNS: &[(usize, usize)] = &[(10, 10), (100, 10), (1000, 2)];
const COLOURS: &[&str] = &["#d95f02", "#1b9e77", "#7570b3", "#e7298a"];

fn main() -> course::cli::MainResult {
    let arguments = course::cli::arguments()?;
    if let Some(other) = arguments.iter().find(|word| *word != "--redraw") {
        // The bench rewrites the measurement files: it must not start on a word it ignores.
        let why = format!("load_bench takes only --redraw (draw the charts again), not {other:?}");
        return Err(anyhow::anyhow!(why).into());
    }
    if arguments.first().map(String::as_str) == Some("--redraw") {
        let table = std::fs::read_to_string(Path::new(MEASUREMENTS).join("load_echo.md"))?;
        let echo = rows_from_table(&table)?;
        draw_echo_charts(&echo)?;
        println!("redrew {MEASUREMENTS}/load_echo.svg and load_echo_p99.svg from load_echo.md");
        return Ok(());
    }
    let started = Instant::now();
    let load = sibling("11_load")?;
    std::fs::create_dir_all(MEASUREMENTS)?;

    // Idle clients first, while the system has all its ports: the runs after this one open
    // and close tens of thousands of connections, each leaving its port waiting a minute.
    println!("idle clients: connect as many as the server takes, then ask each for an answer");
    let mut idle = Vec::new();
    for (label, binary, extra, chatty, offered) in [
        ("02 one at a time", "02_echo", "", false, IDLE_ECHO),
        (
            "03 a thread per client",
            "03_threaded_echo",
            "",
            false,
            IDLE_ECHO,
        ),
        ("07 a pool of 4", "07_thread_pool", "", false, IDLE_ECHO),
        ("10 async echo", "10_async_echo", "", false, IDLE_ECHO),
        ("04 chat", "04_chat", "5000", true, IDLE_CHAT),
        ("10 async chat", "10_async_chat", "5000", true, IDLE_CHAT),
    ] {
        let held = hold_idle(binary, extra, chatty, offered)?;
        println!("  {label:<24} {}", held.row());
        idle.push((label, offered, held));
    }

    println!("echo: round trips of 64 bytes, every reply checked");
    let mut echo = Vec::new();
    for (series, &(label, binary, args, most)) in ECHO_SERVERS.iter().enumerate() {
        for &clients in ECHO_CLIENTS.iter().filter(|&&clients| clients <= most) {
            let messages = (ROUND_TRIPS_PER_RUN / clients).max(10);
            let run = run_load(&load, binary, args, clients, messages, false)?;
            println!("  {label:<24} {clients:>6} clients  {}", run.brief());
            echo.push((series, label, clients, messages, run));
        }
    }
    println!("chat: each message timed until every other client has it");
    let mut chat = Vec::new();
    for &(label, binary, args) in CHAT_SERVERS {
        for &(clients, messages) in CHAT_RUNS {
            let run = run_load(&load, binary, args, clients, messages, true)?;
            println!("  {label:<24} {clients:>6} clients  {}", run.brief());
            chat.push((0, label, clients, messages, run));
        }
    }
    write(
        "load_echo.md",
        &table(
            &echo,
            "round trips",
            "rt/s",
            "each run: N clients, each sending M messages of 64 bytes",
        ),
    )?;
    write(
        "load_chat.md",
        &table(
            &chat,
            "fan-outs",
            "fan-outs/s",
            "a fan-out: one message has reached every other client",
        ),
    )?;
    write("load_idle.md", &idle_table(&idle))?;
    draw_echo_charts(&echo)?;
    write("load_machine.md", &machine(started.elapsed()))?;
    println!(
        "written to {MEASUREMENTS}/load_*.md and load_*.svg in {:.0?}",
        started.elapsed()
    );
    Ok(())
}

/// The two echo charts: round trips per second, and the p99 on a log scale.
fn draw_echo_charts(echo: &[Row]) -> anyhow::Result<()> {
    write(
        "load_echo.svg",
        &bar_chart(
            "Echo: round trips per second (64 bytes, every reply checked)",
            echo,
            |run| run.rt_per_s,
            false,
        ),
    )?;
    write(
        "load_echo_p99.svg",
        &bar_chart(
            "Echo: 99th percentile latency (log scale)",
            echo,
            |run| run.p99_us as f64,
            true,
        ),
    )
}

/// The echo runs back from `load_echo.md`'s table, as much of them as the charts draw: the
/// rate, the p99, and whether there were errors.
fn rows_from_table(table: &str) -> anyhow::Result<Vec<Row<'static>>> {
    let mut rows = Vec::new();
    for line in table.lines().filter(|line| line.starts_with("| ")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let Some(series) = ECHO_SERVERS.iter().position(|server| server.0 == cells[0]) else {
            continue; // the heading
        };
        let number = |at: usize| -> anyhow::Result<u64> {
            cells[at]
                .parse()
                .with_context(|| format!("column {at} of {line:?} is not a number"))
        };
        let errors = cells[4];
        let run = Run {
            rt_per_s: number(5)? as f64,
            p99_us: micros_from_text(cells[7]).with_context(|| format!("the p99 of {line:?}"))?,
            errors: errors
                .trim_start_matches("**")
                .split("**")
                .next()
                .and_then(|count| count.parse().ok())
                .unwrap_or(0),
            stopped: errors.starts_with("stopped"),
            ..Run::default()
        };
        let label = ECHO_SERVERS[series].0;
        rows.push((series, label, number(1)? as usize, number(2)? as usize, run));
    }
    anyhow::ensure!(!rows.is_empty(), "no echo runs in load_echo.md");
    Ok(rows)
}

/// `72 µs`, `4.2 ms`, `1.12 s` as microseconds.
fn micros_from_text(text: &str) -> Option<u64> {
    let (number, unit) = text.split_once(' ')?;
    let number: f64 = number.parse().ok()?;
    let scale = match unit {
        "µs" => 1.0,
        "ms" => 1e3,
        "s" => 1e6,
        _ => return None,
    };
    Some((number * scale).round() as u64)
}

/// What one `11_load --json` run reported.
#[derive(Default)]
struct Run {
    round_trips: u64,
    errors: u64,
    /// By kind: wrong, late, closed, unconnected, abandoned.
    kinds: [u64; 5],
    rt_per_s: f64,
    p50_us: u64,
    p99_us: u64,
    max_us: u64,
    threads: u64,
    rss_kib: u64,
    /// The run did not finish within RUN_LIMIT.
    stopped: bool,
}

impl Run {
    fn brief(&self) -> String {
        if self.stopped {
            return format!("stopped after {RUN_LIMIT:?}");
        }
        format!(
            "{:>8.0}/s  p50 {:>6}  p99 {:>6}  errors {}",
            self.rt_per_s,
            micros(self.p50_us),
            micros(self.p99_us),
            self.errors
        )
    }

    fn errors_text(&self) -> String {
        if self.stopped {
            return format!("stopped after {} s", RUN_LIMIT.as_secs());
        }
        if self.errors == 0 {
            return "0".into();
        }
        let names = [
            "wrong",
            "late",
            "closed or turned away",
            "could not connect",
            "never sent (client gave up)",
        ];
        let parts: Vec<String> = self
            .kinds
            .iter()
            .zip(names)
            .filter(|(count, _)| **count > 0)
            .map(|(count, name)| format!("{count} {name}"))
            .collect();
        format!("**{}**: {}", self.errors, parts.join(", "))
    }
}

/// Runs `11_load` against a server it starts itself, and reads its JSON line.
fn run_load(
    load: &Path,
    binary: &str,
    args: &str,
    clients: usize,
    messages: usize,
    chat: bool,
) -> anyhow::Result<Run> {
    let server = format!("{} {args}", sibling(binary)?.display());
    let mut command = Command::new(load);
    command
        .args(["--spawn", server.trim()])
        .args([
            "--clients",
            &clients.to_string(),
            "--messages",
            &messages.to_string(),
        ])
        .args(["--size", "64", "--timeout", TIMEOUT, "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if chat {
        command.arg("--chat");
    }
    let mut child = command.spawn().context("starting 11_load")?;
    let began = Instant::now();
    while child.try_wait()?.is_none() {
        if began.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(Run {
                stopped: true,
                ..Run::default()
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut json = String::new();
    child
        .stdout
        .take()
        .context("11_load's output")?
        .read_to_string(&mut json)?;
    let number = |name: &str| -> anyhow::Result<f64> {
        let key = format!("\"{name}\":");
        let start = json
            .find(&key)
            .with_context(|| format!("no {name} in 11_load's output {json:?}"))?
            + key.len();
        let text: String = json[start..]
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == '.')
            .collect();
        Ok(text.parse()?)
    };
    Ok(Run {
        round_trips: number("round_trips")? as u64,
        errors: number("errors")? as u64,
        kinds: [
            number("wrong")? as u64,
            number("late")? as u64,
            number("closed")? as u64,
            number("unconnected")? as u64,
            number("abandoned")? as u64,
        ],
        rt_per_s: number("rt_per_s")?,
        p50_us: number("p50_us")? as u64,
        p99_us: number("p99_us")? as u64,
        max_us: number("max_us")? as u64,
        threads: number("server_threads").unwrap_or(0.0) as u64,
        rss_kib: number("server_rss_kib").unwrap_or(0.0) as u64,
        stopped: false,
    })
}

/// What happened to idle clients offered to one server.
struct Held {
    connected: usize,
    /// Why connecting stopped early, if it did.
    stopped_by: Option<String>,
    answered: usize,
    turned_away: usize,
    waiting: usize,
    threads: u64,
    rss_kib: u64,
    baseline_kib: u64,
}

impl Held {
    fn per_client_kib(&self) -> f64 {
        self.rss_kib.saturating_sub(self.baseline_kib) as f64 / self.connected.max(1) as f64
    }

    fn row(&self) -> String {
        format!(
            "{} connected, {} answered, {} turned away, {} still waiting; {} threads, {:.1} MiB, {:.1} KiB per client{}",
            self.connected,
            self.answered,
            self.turned_away,
            self.waiting,
            self.threads,
            self.rss_kib as f64 / 1024.0,
            self.per_client_kib(),
            self.stopped_by
                .as_deref()
                .map(|why| format!("; {why}"))
                .unwrap_or_default()
        )
    }
}

/// Connects up to `offered` clients that stay quiet, then asks each for one answer: an echo,
/// or for a chat the welcome it was sent on arrival.
fn hold_idle(binary: &str, extra: &str, chat: bool, offered: usize) -> anyhow::Result<Held> {
    let extra: Vec<&str> = extra.split_whitespace().collect();
    let server = support::start(binary, &extra)?;
    let pid = server.id();
    let baseline_kib = support::process_numbers(pid).map_or(0, |(_, rss)| rss);
    let mut clients = Vec::with_capacity(offered);
    let mut stopped_by = None;
    for number in 1..=offered {
        // This loop connects faster than a server accepts, so the listen backlog may fill for a
        // moment. Then the system drops the connection request and sends it again after 1 s, and
        // again 2 s later: 5 s lets a connection survive that, so only a backlog that stays full
        // (a server that no longer accepts) stops the loop.
        match TcpStream::connect_timeout(&server.address, Duration::from_secs(5)) {
            Ok(stream) => clients.push(stream),
            Err(error) => {
                stopped_by = Some(format!("connection {number} failed: {error}"));
                break;
            }
        }
    }
    let line = b"still there?\n";
    if !chat {
        for client in &mut clients {
            let _ = client.write_all(line);
        }
    }
    // One deadline for all: a client still waiting costs the time left, not a timeout each.
    let deadline = Instant::now() + Duration::from_secs(3);
    let (mut answered, mut turned_away, mut waiting) = (0, 0, 0);
    for client in &mut clients {
        let left = deadline
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        let _ = client.set_read_timeout(Some(left));
        let mut reply = [0; 64];
        match client.read(&mut reply) {
            Ok(count) if count > 0 => {
                let reply = &reply[..count];
                let welcome = chat && reply.starts_with(b"* Welcome");
                if welcome || (!chat && line.starts_with(reply)) {
                    answered += 1;
                } else {
                    turned_away += 1;
                }
            }
            Ok(_) => turned_away += 1,
            Err(_) => waiting += 1,
        }
    }
    let (threads, rss_kib) = support::process_numbers(pid).unwrap_or((0, 0));
    Ok(Held {
        connected: clients.len(),
        stopped_by,
        answered,
        turned_away,
        waiting,
        threads,
        rss_kib,
        baseline_kib,
    })
}

type Row<'a> = (usize, &'a str, usize, usize, Run);

fn table(rows: &[Row], done: &str, per_second: &str, note: &str) -> String {
    let mut text = format!(
        "| server | clients | messages each | {done} | errors | {per_second} | p50 | p99 | max | server threads | server memory |\n\
         |---|--:|--:|--:|---|--:|--:|--:|--:|--:|--:|\n"
    );
    for (_, label, clients, messages, run) in rows {
        let _ = writeln!(
            text,
            "| {label} | {clients} | {messages} | {} | {} | {:.0} | {} | {} | {} | {} | {:.1} MiB |",
            run.round_trips,
            run.errors_text(),
            run.rt_per_s,
            micros(run.p50_us),
            micros(run.p99_us),
            micros(run.max_us),
            run.threads,
            run.rss_kib as f64 / 1024.0,
        );
    }
    let _ = write!(
        text,
        "\n<small>{note}; errors are wrong, late (over {TIMEOUT} s) or missing replies, and never count as done; threads and memory are the server's peak.</small>\n"
    );
    text
}

fn idle_table(rows: &[(&str, usize, Held)]) -> String {
    let mut text = String::from(
        "| server | offered | connected | answered | turned away | still waiting | server threads | server memory | per client | what stopped it |\n\
         |---|--:|--:|--:|--:|--:|--:|--:|--:|---|\n",
    );
    for (label, offered, held) in rows {
        let _ = writeln!(
            text,
            "| {label} | {offered} | {} | {} | {} | {} | {} | {:.1} MiB | {:.1} KiB | {} |",
            held.connected,
            held.answered,
            held.turned_away,
            held.waiting,
            held.threads,
            held.rss_kib as f64 / 1024.0,
            held.per_client_kib(),
            held.stopped_by.as_deref().unwrap_or("nothing"),
        );
    }
    text
}

/// A grouped bar chart: one group per client count, one bar per server. A bar whose run had
/// errors carries a red "!" above it.
fn bar_chart(title: &str, rows: &[Row], value: impl Fn(&Run) -> f64, log: bool) -> String {
    let (width, height, left, bottom, top) = (720.0, 360.0, 70.0, 60.0, 40.0);
    let plot_height = height - bottom - top;
    let max = rows.iter().map(|row| value(&row.4)).fold(1.0, f64::max);
    let scale = |v: f64| -> f64 {
        if log {
            (v.max(1.0).log10() / max.log10().ceil().max(1.0)) * plot_height
        } else {
            v / nice_ceiling(max) * plot_height
        }
    };
    let groups = ECHO_CLIENTS;
    let group_width = (width - left - 20.0) / groups.len() as f64;
    let bar_width = group_width * 0.8 / ECHO_SERVERS.len() as f64;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">{title}</text>\n",
        width / 2.0
    );
    // Axis lines: on a log scale one per power of ten (1 µs, 10 µs, 100 µs...), so that each
    // reads as a round number; on a linear scale five.
    let decades = max.log10().ceil().max(1.0) as usize;
    let ticks = if log { decades } else { 4 };
    for step in 0..=ticks {
        let (y, label) = if log {
            let power = step as f64;
            (
                height - bottom - power / decades as f64 * plot_height,
                micros_axis(10f64.powf(power)),
            )
        } else {
            let v = nice_ceiling(max) * step as f64 / 4.0;
            (
                height - bottom - v / nice_ceiling(max) * plot_height,
                format!("{:.0}k", v / 1000.0),
            )
        };
        let _ = writeln!(
            svg,
            "<line x1=\"{left}\" x2=\"{}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{label}</text>",
            width - 20.0,
            left - 6.0,
            y + 4.0
        );
    }
    for (group, clients) in groups.iter().enumerate() {
        let x0 = left + group as f64 * group_width + group_width * 0.1;
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\">{clients} client{}</text>",
            x0 + group_width * 0.4,
            height - bottom + 16.0,
            if *clients == 1 { "" } else { "s" }
        );
        for (series, _, row_clients, _, run) in rows {
            if row_clients != clients {
                continue;
            }
            let h = scale(value(run));
            let x = x0 + *series as f64 * bar_width;
            let y = height - bottom - h;
            let _ = writeln!(
                svg,
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{h:.1}\" fill=\"{}\"/>",
                bar_width - 2.0,
                COLOURS[*series % COLOURS.len()]
            );
            if run.errors > 0 || run.stopped {
                let _ = writeln!(
                    svg,
                    "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#c00\" font-weight=\"bold\">!</text>",
                    x + bar_width / 2.0 - 1.0,
                    y - 3.0
                );
            }
        }
    }
    // The legend, under the axis.
    for (series, (label, ..)) in ECHO_SERVERS.iter().enumerate() {
        let x = left + series as f64 * 150.0;
        let y = height - 22.0;
        let _ = writeln!(
            svg,
            "<rect x=\"{x}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/><text x=\"{}\" y=\"{y}\">{label}</text>",
            y - 9.0,
            COLOURS[series % COLOURS.len()],
            x + 14.0
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{}\" y=\"{}\" fill=\"#c00\">! = some replies were wrong, late or missing (see the table)</text>",
        left,
        height - 6.0
    );
    svg.push_str("</svg>\n");
    svg
}

/// 1, 2 or 5 times a power of ten, at or above `value`: a round top for a linear axis.
fn nice_ceiling(value: f64) -> f64 {
    let power = 10f64.powf(value.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|step| step * power)
        .find(|top| *top >= value)
        .unwrap_or(10.0 * power)
}

fn micros_axis(us: f64) -> String {
    match us {
        _ if us < 1000.0 => format!("{us:.0} µs"),
        _ if us < 1e6 => format!("{:.0} ms", us / 1e3),
        _ => format!("{:.0} s", us / 1e6),
    }
}

fn micros(us: u64) -> String {
    match us {
        0..1_000 => format!("{us} µs"),
        1_000..1_000_000 => format!("{:.1} ms", us as f64 / 1e3),
        _ => format!("{:.2} s", us as f64 / 1e6),
    }
}

/// The machine the numbers came from, and the command that made them.
fn machine(elapsed: Duration) -> String {
    let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
    let cpuinfo = read("/proc/cpuinfo");
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .and_then(|rest| rest.split(':').nth(1))
        .map_or("unknown".into(), |model| model.trim().to_string());
    let memory_gib = read("/proc/meminfo")
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(0.0, |kib| kib / 1024.0 / 1024.0);
    let cores = std::thread::available_parallelism().map_or(0, |count| count.get());
    let kernel = format!(
        "{} {}",
        read("/proc/sys/kernel/ostype").trim(),
        read("/proc/sys/kernel/osrelease").trim()
    );
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
        .unwrap_or_default();
    format!(
        "Made with `cargo run --release --example load_bench` (what `bench/run` runs) on {date}, in {:.0} s: {cores} cores ({model}), {memory_gib:.1} GiB of memory, \
         {kernel}, release build, the servers and the clients on the same machine over loopback.\n",
        elapsed.as_secs_f64()
    )
}

fn write(name: &str, text: &str) -> anyhow::Result<()> {
    let path = Path::new(MEASUREMENTS).join(name);
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))
}

/// A program built next to this example, such as `11_load`.
fn sibling(name: &str) -> anyhow::Result<PathBuf> {
    // Examples are built into target/<profile>/examples/, the programs one folder up.
    let path = std::env::current_exe()?
        .parent()
        .and_then(|examples| examples.parent())
        .context("find the target folder")?
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    if !path.exists() {
        bail!(
            "{} is missing: build everything first with `cargo build --release --bins --workspace` \
             (bench/run does)",
            path.display()
        );
    }
    Ok(path)
}

//! Ctrl-C (and SIGTERM) as a channel, for the exercise servers run by hand. Lesson 08 shows the
//! same few lines in its own file, where the chapter explains them.

use anyhow::Context;
use crossbeam_channel::Receiver;

/// Set to `drop` (by exercise 08's check), it makes the first Ctrl-C drop the channel's sender
/// instead of sending `()`: the other way a `serve` is told to stop.
pub const SHUTDOWN_BY_VARIABLE: &str = "COURSE_CHECK_SHUTDOWN";

/// A channel that receives `()` at the first Ctrl-C or SIGTERM (or whose sender is then dropped,
/// with [`SHUTDOWN_BY_VARIABLE`] set to `drop`). The second one ends the process at once, with
/// the status a shell gives a program stopped by Ctrl-C (130).
pub fn on_ctrl_c() -> anyhow::Result<Receiver<()>> {
    let (signal, shutdown) = crossbeam_channel::bounded(1);
    let drop_the_sender = std::env::var(SHUTDOWN_BY_VARIABLE).is_ok_and(|how| how == "drop");
    let mut signal = Some(signal);
    let mut already_asked = false;
    ctrlc::set_handler(move || {
        if already_asked {
            eprintln!("second Ctrl-C: exiting without waiting");
            std::process::exit(130);
        }
        already_asked = true;
        if drop_the_sender {
            signal = None;
        } else if let Some(signal) = &signal {
            let _ = signal.try_send(());
        }
    })
    .context("installing the Ctrl-C handler")?;
    Ok(shutdown)
}

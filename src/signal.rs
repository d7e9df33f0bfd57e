//! Ctrl-C (and SIGTERM) as a channel, for the exercise servers run by hand. Lesson 08 shows the
//! same few lines in its own file, where the chapter explains them.

use anyhow::Context;
use crossbeam_channel::Receiver;

/// A channel that receives `()` at the first Ctrl-C or SIGTERM. The second one ends the process
/// at once, with the status a shell gives a program stopped by Ctrl-C (130).
pub fn on_ctrl_c() -> anyhow::Result<Receiver<()>> {
    let (signal, shutdown) = crossbeam_channel::bounded(1);
    let mut already_asked = false;
    ctrlc::set_handler(move || {
        if already_asked {
            eprintln!("second Ctrl-C: exiting without waiting");
            std::process::exit(130);
        }
        already_asked = true;
        let _ = signal.try_send(());
    })
    .context("installing the Ctrl-C handler")?;
    Ok(shutdown)
}

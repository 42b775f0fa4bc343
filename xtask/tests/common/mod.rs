//! Helpers shared by the end-to-end tests that interrupt a running command.

use std::process::ChildStderr;
use std::sync::mpsc::Receiver;
use std::thread::JoinHandle;

/// Reads `stderr` on a thread: the receiver hears once a line starts with `marker` (the moment
/// to interrupt), and the thread returns everything read when the command closes it.
pub fn follow_stderr(stderr: ChildStderr, marker: &'static str) -> (Receiver<()>, JoinHandle<String>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut all = String::new();
        for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.starts_with(marker) {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    (rx, reader)
}

//! The lines a child process writes (`enchufe serve`'s startup lines, its logs), as they come.

use std::{
    io::{BufRead as _, BufReader, Read},
    sync::mpsc,
};

/// Reads `output` line by line on a thread of its own; the receiver gets each line as it is
/// written (wait on it with `recv_timeout`), and disconnects at the end of the output.
pub fn lines_of(output: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(output).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    lines
}

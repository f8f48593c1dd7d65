//! Where log lines go: appended to one shared buffer by the threads that
//! format them, written out by one writer thread in batches.
//!
//! Every token makes an audit line. Sent through a channel one line at a
//! time (the standard non-blocking appender), each line cost an allocation,
//! a channel hand-over and, as often as not, waking the writer, which then
//! wrote a few lines and went back to sleep; at 30,000 tokens/s on one core
//! the writer preempted the request threads about 1,500 times a second.
//! Here a line costs one short lock and a copy. The writer is woken only
//! when it is idle and the first line arrives; it then gathers for
//! [`GATHER`] before it writes, so a busy server makes at most about a
//! hundred writes a second, whatever its rate of requests, and an idle one
//! none.
//!
//! Nothing is dropped: when [`Writer::with_limit`]'s bytes are waiting (the
//! output is stuck, say a full pipe), the threads that log wait for the
//! writer. Dropping the [`Flush`] guard writes what is left and stops the
//! thread, waiting at most [`LAST_WRITE`] for it: a process whose output
//! nobody reads still ends.

use std::io::{self, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the writer gathers lines after the first one it was woken for.
/// Also the most a line waits before it is written.
const GATHER: Duration = Duration::from_millis(10);
/// Bytes waiting beyond which the threads that log wait for the writer.
const LIMIT: usize = 4 << 20;
/// The capacity a buffer keeps after a burst made it larger.
const KEEP: usize = 256 << 10;
/// How long the last lines may take to be written when the log closes.
const LAST_WRITE: Duration = Duration::from_secs(1);

/// The log's writer, for `tracing_subscriber`'s `with_writer`.
#[derive(Clone)]
pub(crate) struct Writer {
    shared: Arc<Shared>,
}

/// Keeps the writer thread; dropping it writes what is waiting and stops
/// the thread.
pub(crate) struct Flush {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    /// The writer waits here: for a first line when idle, else for
    /// [`GATHER`], cut short when the buffer is full or the log closes.
    wake: Condvar,
    /// Threads that log wait here while the buffer is full; the closing
    /// thread waits here for the writer to finish.
    room: Condvar,
    limit: usize,
}

#[derive(Default)]
struct State {
    waiting: Vec<u8>,
    writer_idle: bool,
    closed: bool,
    /// The writer thread has written everything and ended.
    finished: bool,
}

impl Writer {
    /// A writer thread named `name` writing to `out`.
    pub(crate) fn new(name: &str, out: impl Write + Send + 'static) -> io::Result<(Writer, Flush)> {
        Self::with_limit(name, out, LIMIT)
    }

    /// As [`Writer::new`], with the bytes that may wait before the threads
    /// that log wait too.
    pub(crate) fn with_limit(
        name: &str,
        mut out: impl Write + Send + 'static,
        limit: usize,
    ) -> io::Result<(Writer, Flush)> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
            room: Condvar::new(),
            limit: limit.max(1),
        });
        let writer = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || writer.run(&mut out))?;
        Ok((
            Writer {
                shared: Arc::clone(&shared),
            },
            Flush {
                shared,
                thread: Some(thread),
            },
        ))
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn append(&self, line: &[u8]) {
        let mut state = self.lock();
        while state.waiting.len() >= self.limit && !state.closed {
            self.wake.notify_one();
            state = self
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
        state.waiting.extend_from_slice(line);
        if state.writer_idle {
            state.writer_idle = false;
            self.wake.notify_one();
        }
    }

    /// The writer thread's loop, until the log is closed and written out.
    fn run(&self, out: &mut dyn Write) {
        let mut batch = Vec::new();
        loop {
            let mut state = self.lock();
            while state.waiting.is_empty() && !state.closed {
                state.writer_idle = true;
                state = self
                    .wake
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            state.writer_idle = false;
            if !state.closed && state.waiting.len() < self.limit {
                state = self
                    .wake
                    .wait_timeout(state, GATHER)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            std::mem::swap(&mut state.waiting, &mut batch);
            let closed = state.closed;
            drop(state);
            self.room.notify_all();
            // A log that cannot be written (a closed pipe) loses its lines;
            // there is nowhere to say so.
            let _ = out.write_all(&batch).and_then(|()| out.flush());
            batch.clear();
            batch.shrink_to(KEEP);
            if closed {
                let mut state = self.lock();
                if state.waiting.is_empty() {
                    state.finished = true;
                    self.room.notify_all();
                    return;
                }
            }
        }
    }
}

/// One event's line, handed over in one piece: `tracing_subscriber`
/// formats a whole line before it writes.
pub(crate) struct Line<'a> {
    shared: &'a Shared,
}

impl Write for Line<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.shared.append(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Writer {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line {
            shared: &self.shared,
        }
    }
}

impl Drop for Flush {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.closed = true;
        self.shared.wake.notify_one();
        self.shared.room.notify_all();
        let (state, _) = self
            .shared
            .room
            .wait_timeout_while(state, LAST_WRITE, |s| !s.finished)
            .unwrap_or_else(PoisonError::into_inner);
        // A writer stuck on its output is left behind: the process ends.
        if state.finished {
            drop(state);
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::fmt::MakeWriter;

    /// A sink the test can read while the writer owns it.
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<(Vec<u8>, usize)>>);

    impl Write for Sink {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let mut s = self.0.lock().unwrap();
            s.0.extend_from_slice(buf);
            s.1 += 1;
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn every_line_is_written_whole_in_its_thread_order_and_in_few_writes() {
        let sink = Sink::default();
        let (writer, flush) = Writer::new("test-log", sink.clone()).unwrap();
        std::thread::scope(|s| {
            for t in 0..4 {
                let writer = writer.clone();
                s.spawn(move || {
                    for i in 0..5_000 {
                        let line = format!("thread {t} line {i:05}\n");
                        writer.make_writer().write_all(line.as_bytes()).unwrap();
                    }
                });
            }
        });
        drop(flush);
        let (bytes, writes) = std::mem::take(&mut *sink.0.lock().unwrap());
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 20_000);
        for t in 0..4 {
            let mine: Vec<&str> = lines
                .iter()
                .copied()
                .filter(|l| l.starts_with(&format!("thread {t} ")))
                .collect();
            let expected: Vec<String> = (0..5_000)
                .map(|i| format!("thread {t} line {i:05}"))
                .collect();
            assert_eq!(mine, expected, "thread {t}'s lines, whole and in order");
        }
        assert!(writes < 1_000, "{writes} writes for 20,000 lines");
    }

    /// A sink that takes its bytes only when the test lets it.
    struct Gate {
        open: Arc<(Mutex<bool>, Condvar)>,
        inner: Sink,
    }

    impl Write for Gate {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            let (open, changed) = &*self.open;
            let mut open = open.lock().unwrap();
            while !*open {
                open = changed.wait(open).unwrap();
            }
            self.inner.write(buf)
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stuck_output_makes_the_loggers_wait_and_loses_nothing() {
        let open = Arc::new((Mutex::new(false), Condvar::new()));
        let inner = Sink::default();
        let gate = Gate {
            open: Arc::clone(&open),
            inner: inner.clone(),
        };
        let (writer, flush) = Writer::with_limit("test-log", gate, 1_000).unwrap();
        let logger = std::thread::spawn(move || {
            for i in 0..1_000 {
                writer
                    .make_writer()
                    .write_all(format!("line {i:04} .........\n").as_bytes())
                    .unwrap();
            }
        });
        // The logger fills the buffer and the batch the stuck writer holds,
        // then waits (a poll with a deadline: it must not finish).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while shared_len(&flush) < 1_000 {
            assert!(
                std::time::Instant::now() < deadline,
                "the buffer never filled"
            );
            std::thread::yield_now();
        }
        assert!(!logger.is_finished(), "a full buffer holds the logger back");
        *open.0.lock().unwrap() = true;
        open.1.notify_all();
        logger.join().unwrap();
        drop(flush);
        let text = String::from_utf8(inner.0.lock().unwrap().0.clone()).unwrap();
        let expected: String = (0..1_000)
            .map(|i| format!("line {i:04} .........\n"))
            .collect();
        assert_eq!(text, expected);
    }

    #[test]
    fn closing_waits_for_the_last_lines_but_not_for_a_stuck_output() {
        let open = Arc::new((Mutex::new(false), Condvar::new()));
        let gate = Gate {
            open: Arc::clone(&open),
            inner: Sink::default(),
        };
        let (writer, flush) = Writer::new("test-log", gate).unwrap();
        writer.make_writer().write_all(b"never read\n").unwrap();
        let started = std::time::Instant::now();
        drop(flush);
        let took = started.elapsed();
        assert!(took >= LAST_WRITE, "it waited for the writer: {took:?}");
        assert!(took < LAST_WRITE * 5, "then it gave up: {took:?}");
        // Let the stuck writer go, so the test leaves no thread blocked.
        *open.0.lock().unwrap() = true;
        open.1.notify_all();
    }

    fn shared_len(flush: &Flush) -> usize {
        flush.shared.lock().waiting.len()
    }
}

//! Where Argon2 runs: threads of its own, one per core, at a lower CPU
//! priority than the threads that serve requests.
//!
//! A flood of wrong secrets keeps every core's Argon2 thread busy. On
//! tokio's blocking pool those threads competed with the request threads
//! as equals, so a known client's request, served from the cache in
//! microseconds, could wait for the scheduler to take the core back from
//! Argon2 (p99 5.5–6.3 ms during the flood against 1 ms without it). Here
//! the Argon2 threads run at nice [`NICE`]: when a request thread wakes
//! it gets the core at once, and Argon2 still gets the time the requests
//! leave (and about a tenth of a core that requests fill).
//!
//! Callers bound the work in flight (one run per thread: the semaphore in
//! `state`, its permit held until the job ends), so a job never waits
//! here behind another; a job whose caller has gone (the client hung up)
//! is skipped.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};

/// How much lower than the request threads Argon2's threads run (the
/// nice value; 0 is normal, 19 the lowest).
const NICE: i32 = 10;

type Job = Box<dyn FnOnce() + Send>;

pub(crate) struct SlowPool {
    /// `None` when no thread could be started: jobs then go to tokio's
    /// blocking pool, as before this pool existed.
    jobs: Option<Sender<Job>>,
}

/// The job did not finish: it panicked.
#[derive(Debug)]
pub(crate) struct Failed;

impl SlowPool {
    /// Starts `threads` threads (at least one).
    pub(crate) fn new(threads: usize) -> Self {
        let (sender, receiver) = channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        let mut started = 0;
        for i in 0..threads.max(1) {
            let receiver = Arc::clone(&receiver);
            match std::thread::Builder::new()
                .name(format!("tollgate-argon2-{i}"))
                .spawn(move || work(&receiver))
            {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "cannot start an Argon2 thread"),
            }
        }
        Self {
            jobs: (started > 0).then_some(sender),
        }
    }

    /// Runs `job` on one of the pool's threads.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Failed> {
        let Some(jobs) = &self.jobs else {
            return tokio::task::spawn_blocking(job).await.map_err(|_| Failed);
        };
        let (done, result) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            if done.is_closed() {
                return;
            }
            // A panic is the job's failure, not the thread's end.
            let outcome = catch_unwind(AssertUnwindSafe(job));
            let _ = done.send(outcome.map_err(|_| Failed));
        });
        if jobs.send(job).is_err() {
            return Err(Failed);
        }
        result.await.map_err(|_| Failed)?
    }
}

fn work(jobs: &Mutex<Receiver<Job>>) {
    lower_priority();
    loop {
        let job = match jobs.lock().unwrap_or_else(PoisonError::into_inner).recv() {
            Ok(job) => job,
            // The pool is gone: the process is ending.
            Err(_) => return,
        };
        job();
    }
}

/// On Linux a thread has its own nice value: this one's becomes [`NICE`]
/// more than the process's (a process started at nice 5 runs Argon2 at
/// 15). Elsewhere the threads keep the process's priority.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: getpriority and setpriority only read their arguments; `who`
    // 0 is the calling thread on Linux.
    unsafe {
        let now = libc::getpriority(libc::PRIO_PROCESS, 0);
        if libc::setpriority(libc::PRIO_PROCESS, 0, (now + NICE).min(19)) != 0 {
            tracing::warn!(
                error = %std::io::Error::last_os_error(),
                "cannot lower the Argon2 threads' priority"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn jobs_run_on_the_pools_lower_priority_threads_and_a_panic_is_a_failure() {
        let pool = SlowPool::new(2);
        let (name, nice) = pool
            .run(|| {
                let name = std::thread::current().name().map(str::to_owned);
                // SAFETY: getpriority only reads its arguments.
                let nice = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
                (name, nice)
            })
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("tollgate-argon2-"));
        // SAFETY: as above, for this (test) thread.
        let ours = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
        assert_eq!(
            nice,
            (ours + NICE).min(19),
            "the pool runs below the caller"
        );

        assert!(pool.run(|| panic!("job failed")).await.is_err());

        // A job whose caller has gone is skipped: both threads held by
        // gated jobs, a third job queued behind them and abandoned, then
        // the gate opens. A future's first poll queues its job.
        use futures_util::FutureExt;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let gate = Arc::new(std::sync::Barrier::new(3));
        let mut held: Vec<_> = (0..2)
            .map(|_| {
                let gate = Arc::clone(&gate);
                Box::pin(pool.run(move || {
                    gate.wait();
                }))
            })
            .collect();
        for h in &mut held {
            assert!(h.as_mut().now_or_never().is_none());
        }
        let flag = Arc::clone(&ran);
        let mut abandoned =
            Box::pin(pool.run(move || flag.store(true, std::sync::atomic::Ordering::SeqCst)));
        assert!(abandoned.as_mut().now_or_never().is_none());
        drop(abandoned);
        gate.wait();
        for h in held {
            h.await.unwrap();
        }
        pool.run(|| ()).await.unwrap();
        pool.run(|| ()).await.unwrap();
        assert!(
            !ran.load(std::sync::atomic::Ordering::SeqCst),
            "the abandoned job did not run"
        );
        let sums = futures_util::future::join_all((0..8u64).map(|i| pool.run(move || i * 2))).await;
        let sums: Vec<u64> = sums.into_iter().map(Result::unwrap).collect();
        assert_eq!(
            sums,
            (0..8).map(|i| i * 2).collect::<Vec<_>>(),
            "the threads outlive a panic"
        );
    }
}

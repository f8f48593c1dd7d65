//! Signs the tokens of concurrent requests back to back.
//!
//! Measured on one core: an ES256 signature inside the server costs ~45 µs,
//! in a tight loop 28–30 µs; between two requests the signature's
//! precomputed table (150 KB) and code are evicted by everything else a
//! request does. So the first request that needs a signature becomes the
//! batch's leader: it yields once, letting the other requests that are
//! ready to run reach their signature too, then signs every queued one,
//! its own included, and hands each its result. A request alone pays one
//! yield.

use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

use super::{KeyError, SigningKey};
use tollgate_core::TokenKind;

/// The requests of one runtime thread waiting for their signature. Per
/// thread, so that each core signs its own requests' tokens: one queue for
/// all would have one core sign while the others wait for it.
type Queue = Arc<Mutex<Vec<Job>>>;

thread_local! {
    static QUEUE: Queue = Queue::default();
}

struct Job {
    key: Arc<SigningKey>,
    claims_json: Vec<u8>,
    kind: TokenKind,
    done: oneshot::Sender<Result<String, KeyError>>,
}

/// The JWT of `claims_json` signed with `key` (see
/// [`SigningKey::sign_jwt`]), signed in a batch with the requests of this
/// thread that are ready at the same time.
pub(crate) async fn sign_jwt(
    key: Arc<SigningKey>,
    claims_json: Vec<u8>,
    kind: TokenKind,
) -> Result<String, KeyError> {
    let (done, signed) = oneshot::channel();
    let job = Job {
        key,
        claims_json,
        kind,
        done,
    };
    // The leader keeps its queue: after the yield it may run on another
    // thread.
    let leader = QUEUE.with(|queue| {
        let mut jobs = lock(queue);
        jobs.push(job);
        (jobs.len() == 1).then(|| queue.clone())
    });
    if let Some(queue) = leader {
        // Signs the batch when dropped: after the yield, or if this request
        // is abandoned while yielding (its followers still get their
        // tokens).
        let _batch = SignOnDrop(queue);
        tokio::task::yield_now().await;
    }
    signed
        .await
        .unwrap_or_else(|_| Err(KeyError::Unusable("the batch was not signed".into())))
}

fn lock(queue: &Queue) -> std::sync::MutexGuard<'_, Vec<Job>> {
    // A panic while holding the lock leaves a plain Vec: still usable.
    queue.lock().unwrap_or_else(|e| e.into_inner())
}

struct SignOnDrop(Queue);

impl Drop for SignOnDrop {
    fn drop(&mut self) {
        let jobs = std::mem::take(&mut *lock(&self.0));
        for job in jobs {
            // A follower that gave up has dropped its receiver; nothing to do.
            let _ = job
                .done
                .send(job.key.sign_jwt_as(&job.claims_json, job.kind));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Algorithm;
    use crate::keys::signing::verify_jwt;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;

    /// `jwt` verifies with `key` and carries `claims`.
    fn verifies(key: &SigningKey, jwt: &str, claims: &[u8]) -> bool {
        verify_jwt(key, jwt);
        B64.decode(jwt.split('.').nth(1).unwrap()).unwrap() == claims
    }

    #[tokio::test(flavor = "current_thread")]
    async fn concurrent_requests_are_signed_in_one_batch_each_with_its_key_and_claims() {
        let keys: Vec<Arc<SigningKey>> = (0..2)
            .map(|_| Arc::new(SigningKey::generate(Algorithm::ES256).unwrap().0))
            .collect();
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let key = keys[i % 2].clone();
                tokio::spawn(async move {
                    let claims = format!(r#"{{"n":{i}}}"#).into_bytes();
                    let jwt = sign_jwt(key.clone(), claims.clone(), TokenKind::Access)
                        .await
                        .unwrap();
                    (key, claims, jwt)
                })
            })
            .collect();
        for task in tasks {
            let (key, claims, jwt) = task.await.unwrap();
            assert!(verifies(&key, &jwt, &claims), "{jwt}");
        }
        assert!(QUEUE.with(|q| lock(q).is_empty()));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn followers_get_their_tokens_when_the_leader_is_abandoned() {
        let key = Arc::new(SigningKey::generate(Algorithm::ES256).unwrap().0);
        // The leader queues its job and yields; it is then dropped, as a
        // request whose client went away.
        let mut leader = Box::pin(sign_jwt(key.clone(), b"{}".to_vec(), TokenKind::Access));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(leader.as_mut().poll(&mut cx).is_pending());
        let follower = tokio::spawn({
            let key = key.clone();
            async move { sign_jwt(key, br#"{"f":1}"#.to_vec(), TokenKind::Access).await }
        });
        tokio::task::yield_now().await; // the follower queues behind the leader
        drop(leader);
        let jwt = tokio::time::timeout(std::time::Duration::from_secs(5), follower)
            .await
            .expect("the follower is not left waiting")
            .unwrap()
            .unwrap();
        assert!(verifies(&key, &jwt, br#"{"f":1}"#));
    }
}

//! The read rule's question to the log, "what is your last position?", asked once for every
//! request that arrived before it was sent. Every satellite request on an instance of a cluster
//! asks it (see `Replication::caught_up`); asked one by one, hundreds of requests a second are
//! hundreds of JetStream API calls a second to the stream's leader, which answers the writer's
//! appends too.
//!
//! A request joins the question waiting to be sent, if there is one, and otherwise waits to be
//! the one that sends the next. One question is in flight at a time. An answer is only ever used
//! by requests that arrived before its question was sent, so it is at least as recent as
//! anything any instance answered before they arrived: the rule holds as if each had asked.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::Mutex;
use tokio::sync::watch;

type Answer = Option<Result<u64, String>>;

#[derive(Default)]
pub struct LogQuestion {
    /// The next question, not sent yet: requests arriving now wait for its answer.
    waiting: Mutex<Option<watch::Receiver<Answer>>>,
    /// Held by the request sending a question, until its answer comes.
    in_flight: tokio::sync::Mutex<()>,
    /// Questions sent since start.
    sent: AtomicU64,
}

impl LogQuestion {
    /// The log's last position, asked with `ask` after this call began (by this request or one
    /// that joined it).
    pub async fn last_position<F>(&self, ask: impl Fn() -> F) -> Result<u64, String>
    where
        F: Future<Output = Result<u64, String>>,
    {
        let (mut answer, sender) = {
            let mut waiting = self.waiting.lock();
            match &*waiting {
                Some(next) => (next.clone(), None),
                None => {
                    let (sender, next) = watch::channel(None);
                    *waiting = Some(next.clone());
                    (next, Some(sender))
                }
            }
        };
        if let Some(sender) = sender {
            let _one_at_a_time = self.in_flight.lock().await;
            // Requests arriving from here on are after this question: they wait for the next.
            self.waiting.lock().take();
            self.sent.fetch_add(1, Ordering::Relaxed);
            let last = ask().await;
            sender.send_replace(Some(last.clone()));
            return last;
        }
        let answered = match answer.wait_for(Option::is_some).await {
            Ok(last) => last.clone(),
            Err(_) => None,
        };
        if let Some(last) = answered {
            return last;
        }
        // The request that was to send it went away (its client hung up) before it was sent:
        // nobody joins that question any more, and this request asks for itself.
        {
            let mut waiting = self.waiting.lock();
            if waiting.as_ref().is_some_and(|next| next.same_channel(&answer)) {
                *waiting = None;
            }
        }
        self.sent.fetch_add(1, Ordering::Relaxed);
        ask().await
    }

    /// Questions sent since start (requests that shared one count once).
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    /// A log whose last position moves on every question: each answer says how many questions
    /// were sent before it, so a request can tell whether it got a question sent after it came.
    #[derive(Default)]
    struct CountingLog {
        asked: AtomicU64,
    }

    impl CountingLog {
        async fn ask(&self) -> Result<u64, String> {
            let n = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
            tokio::time::sleep(Duration::from_millis(20)).await;
            Ok(n)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn requests_share_questions_and_never_get_one_sent_before_they_came() {
        let (question, log) = (Arc::new(LogQuestion::default()), Arc::new(CountingLog::default()));
        let mut requests = Vec::new();
        for n in 0..200_u64 {
            let (question, log) = (question.clone(), log.clone());
            requests.push(tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(n % 50)).await;
                let before = log.asked.load(Ordering::SeqCst);
                let answer = question.last_position(|| log.ask()).await.unwrap();
                (before, answer)
            }));
        }
        for request in requests {
            let (asked_before, answer) = request.await.unwrap();
            assert!(
                answer > asked_before,
                "answered by question {answer}, when {asked_before} had been sent before it came"
            );
        }
        let asked = log.asked.load(Ordering::SeqCst);
        assert!(asked < 100, "200 requests over 50 ms shared {asked} questions");
    }

    #[tokio::test]
    async fn a_request_whose_sender_went_away_asks_itself_and_the_next_ones_share_again() {
        let question = Arc::new(LogQuestion::default());
        let log = Arc::new(CountingLog::default());
        let start = |answer: u64, wait: u64| {
            let question = question.clone();
            tokio::spawn(async move {
                question
                    .last_position(|| async move {
                        tokio::time::sleep(Duration::from_millis(wait)).await;
                        Ok(answer)
                    })
                    .await
            })
        };
        let settle = || tokio::time::sleep(Duration::from_millis(20));
        // In flight for a minute: the next request waits to send its question after it...
        let in_flight = start(1, 60_000);
        settle().await;
        let sender = start(2, 0);
        settle().await;
        // ...and this one joins that question, whose sender then goes away.
        let joined = start(3, 0);
        settle().await;
        sender.abort();
        assert_eq!(joined.await.unwrap(), Ok(3), "asked for itself");
        in_flight.abort();
        settle().await;
        // Later requests share questions again.
        let mut later = Vec::new();
        for _ in 0..20 {
            let (question, log) = (question.clone(), log.clone());
            later.push(tokio::spawn(async move { question.last_position(|| log.ask()).await }));
        }
        for request in later {
            assert!(request.await.unwrap().is_ok());
        }
        assert!(
            log.asked.load(Ordering::SeqCst) <= 2,
            "20 requests at once shared questions"
        );
    }
}

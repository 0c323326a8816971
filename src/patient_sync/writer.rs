//! The patient writer: one thread that runs every read-modify-write of patient state, one after
//! another. Serial by construction (no two changes of a patient interleave, and an identifier
//! conflict check sees every earlier association), and off both the async workers (a durable
//! commit waits for the disk) and the blocking pool, which `server.read_threads` keeps small
//! for pulls: a patient answer never queues behind a dump being encoded.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

type Task = Box<dyn FnOnce() + Send>;

pub struct PatientWriter {
    tasks: mpsc::Sender<Task>,
}

impl PatientWriter {
    /// Starts the thread; it ends when the writer is dropped and its queue is empty.
    pub fn start() -> PatientWriter {
        let (tasks, queue) = mpsc::channel::<Task>();
        std::thread::Builder::new()
            .name("patient-writer".to_string())
            .spawn(move || {
                for task in queue {
                    // A panic fails that one call (its reply channel drops), not the writer.
                    if catch_unwind(AssertUnwindSafe(task)).is_err() {
                        tracing::error!("a patient sync change panicked; it was not applied");
                    }
                }
            })
            .expect("the patient writer thread starts");
        PatientWriter { tasks }
    }

    /// Runs `work` on the writer thread and returns its result; `None` if it panicked.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (reply, result) = tokio::sync::oneshot::channel();
        let task: Task = Box::new(move || {
            let _ = reply.send(work());
        });
        self.tasks.send(task).ok()?;
        result.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tasks_run_in_order_and_a_panic_fails_only_its_own() {
        let writer = PatientWriter::start();
        let log = std::sync::Arc::new(parking_lot::Mutex::new(Vec::new()));
        let (first, second) = (log.clone(), log.clone());
        assert_eq!(writer.run(move || first.lock().push(1)).await, Some(()));
        assert_eq!(writer.run(|| -> u8 { panic!("on purpose") }).await, None);
        assert_eq!(writer.run(move || second.lock().push(2)).await, Some(()));
        assert_eq!(*log.lock(), [1, 2]);
    }
}

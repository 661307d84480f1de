package dev.inferencebudget.extproc.api;

import java.time.Duration;

/**
 * Runs a task after a delay; hold and queue timeouts go through it so tests drive them with a fake
 * clock instead of sleeping.
 */
public interface Scheduler {

  /** Runs {@code task} once after {@code delay}; the handle cancels it if it has not run. */
  Cancellable schedule(Duration delay, Runnable task);

  /** A scheduled task that can still be called off. */
  interface Cancellable {
    void cancel();
  }
}

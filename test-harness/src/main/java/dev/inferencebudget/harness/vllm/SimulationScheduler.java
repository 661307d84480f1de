package dev.inferencebudget.harness.vllm;

import java.time.Duration;

/**
 * The clock and timers the simulated engine runs on. The real server uses {@link VertxScheduler}
 * (Vert.x timers, never a sleeping event loop); tests can use a manual clock and advance it.
 */
public interface SimulationScheduler {

  /** Monotonic time in nanoseconds, as {@link System#nanoTime()}. */
  long nanoTime();

  /** Wall-clock seconds since the epoch, for the {@code created} field of responses. */
  long epochSecond();

  /**
   * Runs {@code task} once, {@code delay} from now. The task never runs inline, so a caller may
   * hold a lock while scheduling.
   */
  Cancellable schedule(Duration delay, Runnable task);

  /** A scheduled task that has not run yet can be cancelled; cancelling later does nothing. */
  interface Cancellable {
    void cancel();
  }
}

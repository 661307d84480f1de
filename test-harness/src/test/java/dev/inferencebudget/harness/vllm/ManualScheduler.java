package dev.inferencebudget.harness.vllm;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * A manual clock for the engine: time stands still until {@link #advance} moves it, running the
 * tasks that fall due in order, each at its own time. Tasks run on the advancing thread, outside
 * this scheduler's lock (the engine schedules while holding its own lock).
 */
final class ManualScheduler implements SimulationScheduler {
  /** 2027-01-15T08:00:00Z: a fixed wall clock for {@code created}. */
  static final long EPOCH_SECOND_AT_ZERO = 1_800_000_000L;

  private record Task(long atNanos, long seq, Runnable run, boolean[] cancelled) {}

  private final PriorityQueue<Task> tasks =
      new PriorityQueue<>(
          (a, b) ->
              a.atNanos != b.atNanos
                  ? Long.compare(a.atNanos, b.atNanos)
                  : Long.compare(a.seq, b.seq));
  private long nowNanos;
  private long seq;

  @Override
  public synchronized long nanoTime() {
    return nowNanos;
  }

  @Override
  public synchronized long epochSecond() {
    return EPOCH_SECOND_AT_ZERO + nowNanos / 1_000_000_000L;
  }

  @Override
  public synchronized Cancellable schedule(Duration delay, Runnable task) {
    boolean[] cancelled = {false};
    tasks.add(new Task(nowNanos + Math.max(0, delay.toNanos()), seq++, task, cancelled));
    return () -> {
      synchronized (ManualScheduler.this) {
        cancelled[0] = true;
      }
    };
  }

  /** Moves time forward by {@code d}, running every task due by then. */
  void advance(Duration d) {
    long target;
    synchronized (this) {
      target = nowNanos + d.toNanos();
    }
    while (true) {
      Task next;
      synchronized (this) {
        next = tasks.peek();
        if (next == null || next.atNanos > target) {
          nowNanos = target;
          return;
        }
        tasks.poll();
        nowNanos = next.atNanos;
        if (next.cancelled[0]) {
          continue;
        }
      }
      next.run.run();
    }
  }

  /** Tasks not yet run or cancelled (for assertions that nothing is left behind). */
  synchronized List<Duration> pendingDelays() {
    List<Duration> pending = new ArrayList<>();
    for (Task t : tasks) {
      if (!t.cancelled[0]) {
        pending.add(Duration.ofNanos(t.atNanos - nowNanos));
      }
    }
    return pending;
  }
}

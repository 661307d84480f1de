package dev.inferencebudget.extproc.testing;

import com.google.common.base.Ticker;
import dev.inferencebudget.extproc.api.Scheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** A ticker and a scheduler on one fake clock: {@link #advance} moves time and runs what is due. */
public final class FakeTime extends Ticker implements Scheduler {
  private long nanos = 1_000_000_000L;
  private long sequence;
  private final List<Task> tasks = new ArrayList<>();

  private final class Task implements Cancellable {
    final long dueNanos;
    final long order;
    final Runnable runnable;
    boolean cancelled;

    Task(long dueNanos, long order, Runnable runnable) {
      this.dueNanos = dueNanos;
      this.order = order;
      this.runnable = runnable;
    }

    @Override
    public void cancel() {
      synchronized (FakeTime.this) {
        cancelled = true;
        tasks.remove(this);
      }
    }
  }

  @Override
  public synchronized long read() {
    return nanos;
  }

  @Override
  public synchronized Cancellable schedule(Duration delay, Runnable task) {
    Task t = new Task(nanos + Math.max(0, delay.toNanos()), sequence++, task);
    tasks.add(t);
    return t;
  }

  /** Moves time forward, running every task that falls due, in due order, outside the lock. */
  public void advance(Duration duration) {
    long target;
    synchronized (this) {
      target = nanos + duration.toNanos();
    }
    while (true) {
      Task next;
      synchronized (this) {
        next =
            tasks.stream()
                .filter(t -> t.dueNanos <= target)
                .min(
                    Comparator.<Task>comparingLong(t -> t.dueNanos).thenComparingLong(t -> t.order))
                .orElse(null);
        if (next == null) {
          nanos = target;
          return;
        }
        tasks.remove(next);
        nanos = Math.max(nanos, next.dueNanos);
      }
      next.runnable.run();
    }
  }

  public synchronized int pendingTasks() {
    return tasks.size();
  }
}

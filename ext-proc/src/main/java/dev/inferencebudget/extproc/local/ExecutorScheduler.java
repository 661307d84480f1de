package dev.inferencebudget.extproc.local;

import dev.inferencebudget.extproc.api.Scheduler;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** The production scheduler: a {@link ScheduledExecutorService}. */
public final class ExecutorScheduler implements Scheduler {

  private final ScheduledExecutorService executor;

  public ExecutorScheduler(ScheduledExecutorService executor) {
    this.executor = Objects.requireNonNull(executor, "executor");
  }

  @Override
  public Cancellable schedule(Duration delay, Runnable task) {
    ScheduledFuture<?> future =
        executor.schedule(task, Math.max(0, delay.toNanos()), TimeUnit.NANOSECONDS);
    return () -> future.cancel(false);
  }
}

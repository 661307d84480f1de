package dev.inferencebudget.harness.vllm;

import io.vertx.core.Vertx;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/** Real time on Vert.x timers: the tasks run on an event loop, which they must not block. */
public final class VertxScheduler implements SimulationScheduler {
  private final Vertx vertx;
  private final InstantSource wallClock;

  public VertxScheduler(Vertx vertx, InstantSource wallClock) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
  }

  /** Real time: {@link System#nanoTime()} and the system clock. */
  public static VertxScheduler systemTime(Vertx vertx) {
    return new VertxScheduler(vertx, InstantSource.system());
  }

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public long epochSecond() {
    return wallClock.instant().getEpochSecond();
  }

  @Override
  public Cancellable schedule(Duration delay, Runnable task) {
    Objects.requireNonNull(task, "task");
    // Vert.x timers take whole milliseconds (1 ms at least); rounding up never fires early, and the
    // engine computes token counts from nanoTime, so a late timer changes when tokens are sent, not
    // how many.
    long delayMillis = Math.max(1, TimeUnit.NANOSECONDS.toMillis(delay.toNanos() + 999_999));
    long timerId = vertx.setTimer(delayMillis, t -> task.run());
    return () -> vertx.cancelTimer(timerId);
  }
}

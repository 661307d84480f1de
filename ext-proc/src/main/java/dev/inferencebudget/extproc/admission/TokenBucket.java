package dev.inferencebudget.extproc.admission;

/**
 * A token bucket of {@code capacity} that refills fully in one minute. Not thread-safe: {@link
 * TenantBuckets} guards a pair of them with one lock so a request charges both or neither.
 *
 * <p>The level may go below zero when a settlement charges more than was reserved (the backend used
 * more tokens than the estimate); later requests then wait for the debt to refill.
 */
final class TokenBucket {
  static final long REFILL_NANOS = 60_000_000_000L;

  private long capacity;
  private double level;
  private long updatedNanos;

  TokenBucket(long capacity, long nowNanos) {
    this.capacity = capacity;
    this.level = capacity;
    this.updatedNanos = nowNanos;
  }

  long capacity() {
    return capacity;
  }

  /** Applies a new limit; the level keeps what was spent. */
  void resize(long newCapacity, long nowNanos) {
    refill(nowNanos);
    level = Math.min(newCapacity, level + (newCapacity - capacity));
    capacity = newCapacity;
  }

  void refill(long nowNanos) {
    long elapsed = nowNanos - updatedNanos;
    if (elapsed > 0) {
      level = Math.min(capacity, level + (double) capacity * elapsed / REFILL_NANOS);
      updatedNanos = nowNanos;
    }
  }

  boolean has(long amount) {
    return level >= amount;
  }

  void take(long amount) {
    level -= amount;
  }

  void give(long amount) {
    level = Math.min(capacity, level + amount);
  }

  long remaining() {
    return (long) Math.max(0, Math.floor(level));
  }

  /** Nanoseconds until the level reaches {@code amount} (0 if it already has). */
  long nanosUntil(double amount) {
    if (level >= amount) {
      return 0;
    }
    if (capacity == 0) {
      return Long.MAX_VALUE;
    }
    return (long) Math.ceil((amount - level) * REFILL_NANOS / capacity);
  }

  /** Nanoseconds until the bucket is full again (OpenAI's {@code x-ratelimit-reset-*}). */
  long nanosUntilFull() {
    return nanosUntil(capacity);
  }

  boolean isFull() {
    return level >= capacity;
  }
}

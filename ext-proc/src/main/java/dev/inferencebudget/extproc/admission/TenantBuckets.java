package dev.inferencebudget.extproc.admission;

import java.time.Duration;

/** The token and request buckets of one tenant key for one model, charged together. */
final class TenantBuckets {
  private final TokenBucket tokens;
  private final TokenBucket requests;
  private long lastUsedNanos;

  TenantBuckets(long tokensPerMinute, long requestsPerMinute, long nowNanos) {
    tokens = new TokenBucket(tokensPerMinute, nowNanos);
    requests = new TokenBucket(requestsPerMinute, nowNanos);
    lastUsedNanos = nowNanos;
  }

  /** The outcome of a charge: admitted or not, with the limits after it. */
  record Charge(boolean admitted, RateLimits limits, Duration retryAfter) {}

  synchronized Charge tryCharge(
      long tokensPerMinute, long requestsPerMinute, long tokenCost, long nowNanos) {
    lastUsedNanos = nowNanos;
    apply(tokensPerMinute, requestsPerMinute, nowNanos);
    boolean tokensOk = tokensPerMinute == 0 || tokens.has(tokenCost);
    boolean requestsOk = requestsPerMinute == 0 || requests.has(1);
    if (tokensOk && requestsOk) {
      if (tokensPerMinute > 0) {
        tokens.take(tokenCost);
      }
      if (requestsPerMinute > 0) {
        requests.take(1);
      }
      return new Charge(true, limits(tokensPerMinute, requestsPerMinute), Duration.ZERO);
    }
    long waitNanos = 0;
    if (!tokensOk) {
      waitNanos = Math.max(waitNanos, tokens.nanosUntil(tokenCost));
    }
    if (!requestsOk) {
      waitNanos = Math.max(waitNanos, requests.nanosUntil(1));
    }
    return new Charge(
        false, limits(tokensPerMinute, requestsPerMinute), Duration.ofNanos(waitNanos));
  }

  /** Returns {@code tokens} (a refund) or takes more (a negative refund: usage beyond charge). */
  synchronized RateLimits adjust(
      long refund, long tokensPerMinute, long requestsPerMinute, long nowNanos) {
    apply(tokensPerMinute, requestsPerMinute, nowNanos);
    if (tokensPerMinute > 0) {
      if (refund >= 0) {
        tokens.give(refund);
      } else {
        tokens.take(-refund);
      }
    }
    return limits(tokensPerMinute, requestsPerMinute);
  }

  /** Gives back a request slot (a request refused after it was charged, e.g. queue timeout). */
  synchronized void refundRequest(long requestsPerMinute, long nowNanos) {
    if (requestsPerMinute > 0) {
      requests.refill(nowNanos);
      requests.give(1);
    }
  }

  synchronized RateLimits snapshot(long tokensPerMinute, long requestsPerMinute, long nowNanos) {
    apply(tokensPerMinute, requestsPerMinute, nowNanos);
    return limits(tokensPerMinute, requestsPerMinute);
  }

  /** Full and unused for a while: dropping it loses nothing. */
  synchronized boolean idleAndFull(long nowNanos, long idleNanos) {
    tokens.refill(nowNanos);
    requests.refill(nowNanos);
    return nowNanos - lastUsedNanos > idleNanos && tokens.isFull() && requests.isFull();
  }

  private void apply(long tokensPerMinute, long requestsPerMinute, long nowNanos) {
    if (tokens.capacity() != tokensPerMinute) {
      tokens.resize(tokensPerMinute, nowNanos);
    } else {
      tokens.refill(nowNanos);
    }
    if (requests.capacity() != requestsPerMinute) {
      requests.resize(requestsPerMinute, nowNanos);
    } else {
      requests.refill(nowNanos);
    }
  }

  private RateLimits limits(long tokensPerMinute, long requestsPerMinute) {
    return new RateLimits(
        requestsPerMinute,
        tokensPerMinute,
        requests.remaining(),
        tokens.remaining(),
        Duration.ofNanos(requests.nanosUntilFull()),
        Duration.ofNanos(tokens.nanosUntilFull()));
  }
}

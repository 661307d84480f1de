package dev.inferencebudget.extproc.admission;

import com.google.common.base.Ticker;
import dev.inferencebudget.extproc.api.ModelState.AdmissionPolicy;
import dev.inferencebudget.extproc.openai.AdmissionError;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Per tenant key and model: tokens per minute and requests per minute. A tenant's buckets are its
 * own (the key includes the tenant hash), and a charge takes both buckets under one lock, so
 * concurrent requests cannot together spend more than the rate.
 */
public final class TenantRateLimiter {

  private record Key(String tenant, String model) {}

  private final Map<Key, TenantBuckets> buckets = new ConcurrentHashMap<>();
  private final Ticker ticker;
  private final AtomicLong outstandingTokens = new AtomicLong();
  private final AtomicLong outstandingCharges = new AtomicLong();

  public TenantRateLimiter(Ticker ticker) {
    this.ticker = Objects.requireNonNull(ticker, "ticker");
  }

  /** A successful charge, to be settled exactly once. */
  public final class Reservation {
    private final Key key;
    private final AdmissionPolicy policy;
    private final long chargedTokens;
    private final RateLimits limitsAfterCharge;
    private boolean settled;

    private Reservation(Key key, AdmissionPolicy policy, long chargedTokens, RateLimits limits) {
      this.key = key;
      this.policy = policy;
      this.chargedTokens = chargedTokens;
      this.limitsAfterCharge = limits;
    }

    public long chargedTokens() {
      return chargedTokens;
    }

    /** The limits right after the charge (for the admitted response's headers). */
    public RateLimits limits() {
      return limitsAfterCharge;
    }

    /**
     * Settles with what the backend used: refunds the difference, or takes the excess. Idempotent.
     */
    public synchronized void settle(long usedTokens) {
      if (settled) {
        return;
      }
      settled = true;
      finish(chargedTokens - usedTokens, false);
    }

    /** The request never reached a backend: give back its tokens and its request. Idempotent. */
    public synchronized void cancel() {
      if (settled) {
        return;
      }
      settled = true;
      finish(chargedTokens, true);
    }

    /** Keeps the charge as it is (no usage known). Idempotent. */
    public synchronized void keep() {
      if (settled) {
        return;
      }
      settled = true;
      finish(0, false);
    }

    private void finish(long refund, boolean refundRequest) {
      outstandingTokens.addAndGet(-chargedTokens);
      outstandingCharges.decrementAndGet();
      TenantBuckets pair = buckets.get(key);
      if (pair == null) {
        return;
      }
      long now = ticker.read();
      pair.adjust(refund, policy.tokensPerMinute(), policy.requestsPerMinute(), now);
      if (refundRequest) {
        pair.refundRequest(policy.requestsPerMinute(), now);
      }
    }
  }

  /** Admitted with a reservation, or refused with a 429. */
  public record Decision(Optional<Reservation> reservation, Optional<AdmissionError> refusal) {}

  /**
   * Charges {@code tokens} and one request to the tenant's buckets for the model, or refuses with
   * {@code rate_limit_exceeded}, {@code Retry-After} and the OpenAI rate-limit headers.
   */
  public Decision charge(String tenantHash, String modelKey, AdmissionPolicy policy, long tokens) {
    Key key = new Key(tenantHash, modelKey);
    long now = ticker.read();
    long tpm = policy.tokensPerMinute();
    long rpm = policy.requestsPerMinute();
    if (tpm > 0 && tokens > tpm) {
      TenantBuckets pair = buckets.computeIfAbsent(key, k -> new TenantBuckets(tpm, rpm, now));
      RateLimits limits = pair.snapshot(tpm, rpm, now);
      return refused(
          "Request too large for "
              + modelKey
              + ": limit "
              + tpm
              + " tokens per minute, requested "
              + tokens
              + ". Reduce the prompt or max_tokens.",
          limits,
          Optional.empty());
    }
    TenantBuckets pair = buckets.computeIfAbsent(key, k -> new TenantBuckets(tpm, rpm, now));
    TenantBuckets.Charge charge = pair.tryCharge(tpm, rpm, tokens, now);
    if (!charge.admitted()) {
      String what =
          charge.limits().remainingRequests() < 1 && rpm > 0
              ? "requests per min (RPM): Limit " + rpm
              : "tokens per min (TPM): Limit " + tpm + ", Requested " + tokens;
      return refused(
          "Rate limit reached for "
              + modelKey
              + " on "
              + what
              + ". Please try again in "
              + RateLimits.resetFormat(charge.retryAfter())
              + ".",
          charge.limits(),
          Optional.of(charge.retryAfter()));
    }
    outstandingTokens.addAndGet(tokens);
    outstandingCharges.incrementAndGet();
    return new Decision(
        Optional.of(new Reservation(key, policy, tokens, charge.limits())), Optional.empty());
  }

  private static Decision refused(
      String message, RateLimits limits, Optional<Duration> retryAfter) {
    Map<String, String> headers = new LinkedHashMap<>(limits.headers());
    AdmissionError error =
        new AdmissionError(
            429,
            "rate_limit_exceeded",
            "tokens",
            message,
            Optional.empty(),
            retryAfter.map(d -> d.isZero() ? Duration.ofSeconds(1) : d),
            headers);
    return new Decision(Optional.empty(), Optional.of(error));
  }

  /** Drops buckets that are full and unused for {@code idle}; run now and then. */
  public void evictIdle(Duration idle) {
    long now = ticker.read();
    buckets.values().removeIf(pair -> pair.idleAndFull(now, idle.toNanos()));
  }

  /** Tokens charged and not yet settled, over all tenants (zero when nothing is in flight). */
  public long outstandingTokens() {
    return outstandingTokens.get();
  }

  /** Reservations not yet settled. */
  public long outstandingCharges() {
    return outstandingCharges.get();
  }

  public int bucketCount() {
    return buckets.size();
  }
}

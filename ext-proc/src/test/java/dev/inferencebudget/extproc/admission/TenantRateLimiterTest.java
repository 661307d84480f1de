package dev.inferencebudget.extproc.admission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.extproc.api.ModelState.AdmissionPolicy;
import dev.inferencebudget.extproc.openai.AdmissionError;
import dev.inferencebudget.extproc.testing.FakeTime;
import dev.inferencebudget.extproc.testing.Models;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TenantRateLimiterTest {
  final FakeTime time = new FakeTime();
  final TenantRateLimiter limiter = new TenantRateLimiter(time);

  @Test
  void tokensPerMinuteRefusesTheChargeThatDoesNotFitAndNamesTheWait() {
    AdmissionPolicy policy = Models.rates(600, 0);
    assertThat(limiter.charge("t", "m", policy, 500).reservation()).isPresent();
    AdmissionError refused = limiter.charge("t", "m", policy, 200).refusal().orElseThrow();
    assertThat(refused.status()).isEqualTo(429);
    assertThat(refused.code()).isEqualTo("rate_limit_exceeded");
    // 100 tokens left, 200 needed: 100 more at 10 tokens/s is 10 s.
    assertThat(refused.retryAfter()).contains(Duration.ofSeconds(10));
    assertThat(refused.headers())
        .containsEntry("x-ratelimit-limit-tokens", "600")
        .containsEntry("x-ratelimit-remaining-tokens", "100")
        .containsEntry("x-ratelimit-reset-tokens", "50s");
    time.advance(Duration.ofSeconds(10));
    assertThat(limiter.charge("t", "m", policy, 200).reservation()).isPresent();
  }

  @Test
  void settlementRefundsWhatTheBackendDidNotUse() {
    AdmissionPolicy policy = Models.rates(1000, 0);
    TenantRateLimiter.Reservation r =
        limiter.charge("t", "m", policy, 800).reservation().orElseThrow();
    assertThat(r.limits().remainingTokens()).isEqualTo(200);
    r.settle(100);
    r.settle(100); // idempotent
    assertThat(
            limiter
                .charge("t", "m", policy, 0)
                .reservation()
                .orElseThrow()
                .limits()
                .remainingTokens())
        .isEqualTo(900);
    assertThat(limiter.outstandingCharges()).isEqualTo(1);
  }

  @Test
  void usageBeyondTheChargeIsDebtThatLaterRequestsWaitFor() {
    AdmissionPolicy policy = Models.rates(600, 0);
    limiter.charge("t", "m", policy, 100).reservation().orElseThrow().settle(700);
    AdmissionError refused = limiter.charge("t", "m", policy, 10).refusal().orElseThrow();
    assertThat(refused.retryAfter().orElseThrow()).isEqualTo(Duration.ofSeconds(11));
  }

  @Test
  void cancelledReservationGivesBackTokensAndTheRequest() {
    AdmissionPolicy policy = Models.rates(100, 1);
    TenantRateLimiter.Reservation r =
        limiter.charge("t", "m", policy, 100).reservation().orElseThrow();
    assertThat(limiter.charge("t", "m", policy, 1).refusal()).isPresent();
    r.cancel();
    assertThat(limiter.charge("t", "m", policy, 100).reservation()).isPresent();
  }

  @Test
  void tenantsAndModelsNeverShareABucket() {
    AdmissionPolicy policy = Models.rates(0, 1);
    assertThat(limiter.charge("a", "m", policy, 1).reservation()).isPresent();
    assertThat(limiter.charge("a", "m", policy, 1).refusal()).isPresent();
    assertThat(limiter.charge("b", "m", policy, 1).reservation()).isPresent();
    assertThat(limiter.charge("a", "other", policy, 1).reservation()).isPresent();
  }

  @Test
  void requestLargerThanTheWholeMinuteIsRefusedWithoutRetryAfter() {
    AdmissionError refused =
        limiter.charge("t", "m", Models.rates(100, 0), 101).refusal().orElseThrow();
    assertThat(refused.retryAfter()).isEmpty();
    assertThat(refused.message()).contains("Request too large");
  }

  @Test
  void concurrentChargesNeverTogetherExceedTheRate() throws Exception {
    AdmissionPolicy policy = Models.rates(10_000, 0);
    int threads = 8;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CountDownLatch start = new CountDownLatch(1);
    AtomicInteger admitted = new AtomicInteger();
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      futures.add(
          pool.submit(
              () -> {
                start.await();
                for (int i = 0; i < 500; i++) {
                  if (limiter.charge("tenant", "m", policy, 7).reservation().isPresent()) {
                    admitted.incrementAndGet();
                  }
                }
                return null;
              }));
    }
    start.countDown();
    for (Future<?> f : futures) {
      f.get(30, TimeUnit.SECONDS);
    }
    pool.shutdown();
    assertThat(admitted.get()).isEqualTo(10_000 / 7);
    assertThat(limiter.outstandingTokens()).isEqualTo(7L * (10_000 / 7));
  }

  @Test
  void resetFormatsAreOpenAis() {
    assertThat(RateLimits.resetFormat(Duration.ofMillis(20))).isEqualTo("20ms");
    assertThat(RateLimits.resetFormat(Duration.ofMillis(1200))).isEqualTo("2s");
    assertThat(RateLimits.resetFormat(Duration.ofMinutes(6))).isEqualTo("6m0s");
    assertThat(RateLimits.resetFormat(Duration.ofSeconds(3723))).isEqualTo("1h2m3s");
  }

  @Test
  void tenantKeysAreHashesNotCredentials() {
    String key = TenantKeys.hash("Bearer sk-secret");
    assertThat(key).hasSize(32).doesNotContain("secret");
    assertThat(TenantKeys.hash("Bearer sk-secret")).isEqualTo(key);
    assertThat(TenantKeys.hash(null)).isEqualTo(TenantKeys.ANONYMOUS);
  }
}

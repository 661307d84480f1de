package dev.inferencebudget.extproc.grpc;

import static dev.inferencebudget.extproc.testing.EnvoyDriver.setHeader;
import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.testing.EnvoyDriver.Exchange;
import dev.inferencebudget.extproc.testing.Models;
import dev.inferencebudget.extproc.testing.TestServer;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Many tenants and models at once: each tenant's buckets stay exact. */
class ExtProcConcurrencyTest {
  static final int MODELS = 4;
  static final int TENANTS = 20;
  static final int REQUESTS_PER_MINUTE = 5;
  static final int ATTEMPTS = 8;

  @Test
  void concurrentRequestsNeverExceedATenantsRateAndRemainingCountsDown() throws Exception {
    List<ModelState> models =
        IntStream.range(0, MODELS)
            .mapToObj(
                m ->
                    Models.ready("ns/m" + m, "m" + m)
                        .withAdmission(Models.rates(1_000_000, REQUESTS_PER_MINUTE)))
            .toList();
    Map<String, List<Long>> remaining = new ConcurrentHashMap<>();
    try (TestServer server = new TestServer(models)) {
      List<Runnable> work = new ArrayList<>();
      for (int t = 0; t < TENANTS; t++) {
        for (int m = 0; m < MODELS; m++) {
          for (int a = 0; a < ATTEMPTS; a++) {
            String tenant = "Bearer tenant-" + t;
            String model = "m" + m;
            work.add(
                () -> {
                  Exchange x = server.envoy.open();
                  ProcessingResponse answer =
                      x.admit(
                          "/v1/chat/completions",
                          Map.of("authorization", tenant),
                          "{\"model\":\""
                              + model
                              + "\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
                  if (answer.hasRequestBody()) {
                    x.responseHeaders(200, "application/json", false);
                    String left =
                        setHeader(
                            x.next().getResponseHeaders().getResponse().getHeaderMutation(),
                            "x-ratelimit-remaining-requests");
                    remaining
                        .computeIfAbsent(
                            tenant + "/" + model,
                            k -> Collections.synchronizedList(new ArrayList<>()))
                        .add(Long.parseLong(left));
                    x.responseBody(
                        "{\"usage\":{\"prompt_tokens\":2,\"completion_tokens\":3}}", true);
                    x.next();
                    x.halfCloseAndCancel();
                  } else {
                    assertThat(answer.getImmediateResponse().getStatus().getCodeValue())
                        .isEqualTo(429);
                  }
                });
          }
        }
      }
      Collections.shuffle(work, new java.util.Random(1));
      ExecutorService pool = Executors.newFixedThreadPool(8);
      CountDownLatch start = new CountDownLatch(1);
      List<Future<?>> futures = new ArrayList<>();
      for (Runnable r : work) {
        futures.add(
            pool.submit(
                () -> {
                  start.await();
                  r.run();
                  return null;
                }));
      }
      start.countDown();
      for (Future<?> f : futures) {
        f.get(60, TimeUnit.SECONDS);
      }
      pool.shutdown();
      assertThat(server.extProc.engine().limiter().outstandingCharges()).isZero();
    }
    assertThat(remaining).hasSize(TENANTS * MODELS);
    for (Map.Entry<String, List<Long>> e : remaining.entrySet()) {
      // Exactly the rate got in, and each saw a different, decreasing remaining count.
      assertThat(e.getValue()).as(e.getKey()).containsExactlyInAnyOrder(4L, 3L, 2L, 1L, 0L);
    }
  }
}

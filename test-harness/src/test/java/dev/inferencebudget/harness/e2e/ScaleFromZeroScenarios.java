package dev.inferencebudget.harness.e2e;

import static dev.inferencebudget.harness.e2e.E2e.PATIENCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.models.chat.completions.ChatCompletion;
import dev.inferencebudget.controller.api.v1alpha1.ModelState;
import dev.inferencebudget.harness.envoy.AccessLogEntry;
import dev.inferencebudget.harness.sandbox.Sandbox;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * A model at zero serves its first requests without a single error, and goes back to zero. Run on
 * the stand-in ({@link ScaleFromZeroIT}) and on a real Envoy with K3s ({@link
 * ScaleFromZeroContainersIT}).
 */
abstract class ScaleFromZeroScenarios {

  static Sandbox system;
  static OpenAIClient openAi;
  static ExecutorService clients;

  static void use(Sandbox started) {
    system = started;
    openAi = E2e.openAi(system.baseUrl(), "sk-scale-from-zero");
    clients = Executors.newFixedThreadPool(8);
    // One cold start of another model first: the JVM's class loading and JIT of the simulator,
    // stand-in and SDK paths are not the system's overhead (a real Envoy and vLLM are native).
    Tenant.create(system.client(), "warm-up", "80Gi", "Never")
        .add(Tenant.Model.of("chat", "warm-up-chat", "24Gi"));
    await().atMost(PATIENCE).until(() -> E2e.listed(openAi, "warm-up-chat"));
    openAi.chat().completions().create(E2e.chat("warm-up-chat", 2));
  }

  @AfterAll
  static void stopSystem() throws Exception {
    if (system == null) {
      return; // the subclass did not start one (e.g. Docker missing)
    }
    clients.shutdownNow();
    openAi.close();
    system.close();
    system = null;
  }

  record Timed(ChatCompletion completion, long nanos) {}

  @Test
  void concurrentRequestsToAModelAtZeroAreAllHeldAndServedWithoutAnyError() throws Exception {
    int concurrent = 8;
    Tenant tenant =
        Tenant.create(system.client(), "scale-from-zero", "80Gi", "Never")
            .add(Tenant.Model.of("chat", "sfz-chat", "24Gi"));
    await().atMost(PATIENCE).until(() -> E2e.listed(openAi, "sfz-chat"));
    assertThat(tenant.state("chat")).contains(ModelState.SCALED_TO_ZERO);
    int logBefore = system.standInIfRunning().map(e -> e.accessLog().size()).orElse(0);

    ColdStartTimeline timeline = ColdStartTimeline.of(system, tenant, "chat");
    long start = System.nanoTime();
    List<CompletableFuture<Timed>> calls = new ArrayList<>();
    for (int i = 0; i < concurrent; i++) {
      calls.add(
          CompletableFuture.supplyAsync(
              () -> {
                ChatCompletion c = openAi.chat().completions().create(E2e.chat("sfz-chat", 4));
                return new Timed(c, System.nanoTime() - start);
              },
              clients));
    }
    CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    timeline.close();

    List<Timed> done = calls.stream().map(CompletableFuture::join).toList();
    assertThat(done)
        .allSatisfy(
            t -> assertThat(t.completion().usage().orElseThrow().completionTokens()).isEqualTo(4));
    system
        .standInIfRunning()
        .ifPresent(
            envoy -> {
              List<AccessLogEntry> log = envoy.accessLog();
              assertThat(log.subList(logBefore, log.size()))
                  .as("what Envoy answered")
                  .extracting(AccessLogEntry::responseCode)
                  .containsOnly(200)
                  .hasSize(concurrent);
            });
    long firstMillis = done.stream().mapToLong(Timed::nanos).min().orElseThrow() / 1_000_000;
    long overheadMillis = firstMillis - E2e.LOAD_TIME.toMillis();
    System.out.printf(
        "scale from zero: %d concurrent requests, load time %d ms, first served after %d ms,"
            + " overhead beyond load time %d ms, last served after %d ms%n",
        concurrent,
        E2e.LOAD_TIME.toMillis(),
        firstMillis,
        overheadMillis,
        done.stream().mapToLong(Timed::nanos).max().orElseThrow() / 1_000_000);
    System.out.println("scale from zero timeline: " + timeline.summary());
    assertThat(overheadMillis)
        .as("overhead beyond the load time, ms (load average %.1f)", E2e.loadAverage())
        .isLessThanOrEqualTo(E2e.quietMachine() ? 300 : 3000);
    assertThat(tenant.replicas("chat")).isEqualTo(1);
  }

  @Test
  void anIdleModelScalesToZeroAndTheNextRequestBringsItBack() {
    Tenant tenant =
        Tenant.create(system.client(), "scale-to-zero", "80Gi", "Never")
            .add(Tenant.Model.of("chat", "stz-chat", "24Gi").withIdleTimeout("2s"));
    await().atMost(PATIENCE).until(() -> E2e.listed(openAi, "stz-chat"));

    assertThat(openAi.chat().completions().create(E2e.chat("stz-chat", 2)).choices()).hasSize(1);
    assertThat(tenant.replicas("chat")).isEqualTo(1);

    await()
        .atMost(PATIENCE)
        .until(
            () ->
                tenant.replicas("chat") == 0
                    && tenant.pods("chat") == 0
                    && tenant
                        .state("chat")
                        .equals(java.util.Optional.of(ModelState.SCALED_TO_ZERO)));

    long start = System.nanoTime();
    assertThat(openAi.chat().completions().create(E2e.chat("stz-chat", 2)).choices()).hasSize(1);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("held through a second cold start")
        .isGreaterThanOrEqualTo(E2e.LOAD_TIME);
    assertThat(tenant.replicas("chat")).isEqualTo(1);
  }
}

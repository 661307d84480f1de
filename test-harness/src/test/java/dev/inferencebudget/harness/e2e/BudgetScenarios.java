package dev.inferencebudget.harness.e2e;

import static dev.inferencebudget.harness.e2e.E2e.PATIENCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.errors.InternalServerException;
import com.openai.models.chat.completions.ChatCompletion;
import dev.inferencebudget.controller.link.LoadAggregator;
import dev.inferencebudget.harness.sandbox.Sandbox;
import dev.inferencebudget.harness.sandbox.SandboxConfig;
import io.fabric8.kubernetes.api.model.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * Two models and one budget that fits only one of them: what each client sees. Run on the stand-in
 * ({@link BudgetIT}) and on a real Envoy with K3s ({@link BudgetContainersIT}).
 */
abstract class BudgetScenarios {

  static final long GI = 1L << 30;

  static Sandbox system;
  static OpenAIClient openAi;
  static ExecutorService clients;

  /**
   * A debounce longer than the spread of the racing requests' arrivals puts both activations in one
   * decision, so priority (not arrival order) decides the race.
   */
  static final SandboxConfig CONFIG =
      E2e.config().withControllerTiming(Duration.ofMillis(300), Duration.ofMillis(600));

  static void use(Sandbox started) {
    system = started;
    openAi = E2e.openAi(system.baseUrl(), "sk-budget");
    clients = Executors.newFixedThreadPool(6);
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

  private CompletableFuture<ChatCompletion> send(String model) {
    return CompletableFuture.supplyAsync(
        () -> openAi.chat().completions().create(E2e.chat(model, 2)), clients);
  }

  @Test
  void twoModelsRaceForTheLastOfABudgetTheHigherPriorityWinsAndTheOtherIsRefusedByName()
      throws Exception {
    Tenant tenant =
        Tenant.create(system.client(), "race", "40Gi", "Never")
            .add(Tenant.Model.of("hi", "race-hi", "24Gi").withPriority(500))
            .add(Tenant.Model.of("lo", "race-lo", "24Gi").withPriority(100));
    await()
        .atMost(PATIENCE)
        .until(() -> E2e.listed(openAi, "race-hi") && E2e.listed(openAi, "race-lo"));
    try (BudgetWatch watch =
        new BudgetWatch(system.client(), "race", 40 * GI, Map.of("hi", 24 * GI, "lo", 24 * GI))) {

      List<CompletableFuture<ChatCompletion>> hi = new ArrayList<>();
      List<CompletableFuture<ChatCompletion>> lo = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        lo.add(send("race-lo"));
        hi.add(send("race-hi"));
      }

      for (CompletableFuture<ChatCompletion> refused : lo) {
        assertThat(refused)
            .failsWithin(Duration.ofSeconds(30))
            .withThrowableOfType(java.util.concurrent.ExecutionException.class)
            .havingCause()
            .isInstanceOfSatisfying(
                InternalServerException.class,
                ise -> {
                  assertThat(ise.statusCode()).isEqualTo(503);
                  assertThat(ise.code()).hasValue("budget_exceeded");
                  assertThat(ise.type()).hasValue("server_error");
                  assertThat(ise.getMessage()).contains("race/lo").contains("race/gpu");
                  assertThat(ise.headers().values("retry-after")).isNotEmpty();
                });
      }
      boolean refusedBeforeServed = hi.stream().noneMatch(CompletableFuture::isDone);
      for (CompletableFuture<ChatCompletion> served : hi) {
        assertThat(served.get(30, TimeUnit.SECONDS).choices()).hasSize(1);
      }
      assertThat(refusedBeforeServed).as("the refusal is fast, not after a hold").isTrue();
      assertThat(tenant.replicas("lo")).isZero();
      assertThat(tenant.pods("lo")).isZero();
      assertThat(watch.changes()).isPositive();
      assertThat(watch.maxPodBytes()).isEqualTo(24 * GI);
      assertThat(watch.violations()).as("moments over the budget").isEmpty();
    }
  }

  @Test
  void aColdStartOfAHigherPriorityModelPreemptsAnIdleLowerPriorityOne() throws Exception {
    Tenant tenant =
        Tenant.create(system.client(), "preempt", "40Gi", "IdleLowerPriority")
            .add(Tenant.Model.of("hi", "pre-hi", "24Gi").withPriority(500))
            .add(Tenant.Model.of("lo", "pre-lo", "24Gi").withPriority(100));
    await()
        .atMost(PATIENCE)
        .until(() -> E2e.listed(openAi, "pre-hi") && E2e.listed(openAi, "pre-lo"));
    try (BudgetWatch watch =
        new BudgetWatch(
            system.client(), "preempt", 40 * GI, Map.of("hi", 24 * GI, "lo", 24 * GI))) {
      assertThat(openAi.chat().completions().create(E2e.chat("pre-lo", 2)).choices()).hasSize(1);
      // Idle means: nothing in flight and no request for a while, as the controller sees it.
      await()
          .atMost(PATIENCE)
          .until(
              () -> {
                LoadAggregator.ModelLoadView load =
                    system.controller().loads().snapshot().get("preempt/lo");
                return load != null
                    && load.inFlight() == 0
                    && load.lastRequest() != null
                    && load.lastRequest().isBefore(Instant.now().minusSeconds(1));
              });

      ChatCompletion served = openAi.chat().completions().create(E2e.chat("pre-hi", 2));

      assertThat(served.choices()).hasSize(1);
      assertThat(tenant.replicas("lo")).isZero();
      assertThat(tenant.pods("lo")).isZero();
      assertThat(tenant.replicas("hi")).isEqualTo(1);
      assertThat(events("preempt", "lo")).extracting(Event::getReason).contains("Preempted");
      assertThat(watch.violations()).as("moments over the budget").isEmpty();
    }
  }

  private static List<Event> events(String namespace, String involved) {
    return system.client().v1().events().inNamespace(namespace).list().getItems().stream()
        .filter(e -> involved.equals(e.getInvolvedObject().getName()))
        .toList();
  }
}

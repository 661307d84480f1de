package dev.inferencebudget.harness.replay;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.IdleGapHistogram;
import dev.inferencebudget.harness.fleet.KeepAlivePolicy;
import dev.inferencebudget.harness.fleet.PolicyResult;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * One replay run: creates the scenario's objects in the target's cluster, waits until the proxy
 * knows every model, watches the pods while the load generator sends the plan, and builds the
 * report. The wiring ({@link ReplayCommand}, tests) chooses the target and passes the clock.
 */
public final class Replay {
  private static final Duration MODELS_KNOWN_TIMEOUT = Duration.ofSeconds(30);

  private final ReplayScenario scenario;
  private final ReplayPlan plan;
  private final String namespace;
  private final int maxConcurrency;
  private final LongSupplier nanoTime;

  /**
   * @param namespace where the scenario's objects are created (it must not hold them already)
   * @param maxConcurrency the most requests in flight at once
   * @param nanoTime the wall clock
   */
  public Replay(
      ReplayScenario scenario,
      ReplayPlan plan,
      String namespace,
      int maxConcurrency,
      LongSupplier nanoTime) {
    this.scenario = Objects.requireNonNull(scenario, "scenario");
    this.plan = Objects.requireNonNull(plan, "plan");
    this.namespace = Objects.requireNonNull(namespace, "namespace");
    this.maxConcurrency = maxConcurrency;
    this.nanoTime = Objects.requireNonNull(nanoTime, "nanoTime");
  }

  /**
   * Runs the replay against {@code target}.
   *
   * @param withSimulation also run the fleet simulator on the same window for the report
   * @param onGenerator receives the load generator before it starts (for a progress display)
   */
  public ReplayReport run(
      ReplayTarget target, boolean withSimulation, Consumer<LoadGenerator> onGenerator)
      throws InterruptedException {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(onGenerator, "onGenerator");
    List<PolicyResult> simulated =
        withSimulation ? WindowSimulation.run(scenario, plan) : List.of();
    Optional<KubernetesClient> client = target.kubernetes();
    FleetMeter meter = new FleetMeter(scenario.fleet().models(), nanoTime);
    try {
      if (client.isPresent()) {
        new ScenarioObjects(namespace, scenario).apply(client.get());
        meter.watch(client.get(), namespace);
      }
      awaitModelsKnown(target.openAiBaseUrl());
      LoadGenerator generator =
          new LoadGenerator(
              target.openAiBaseUrl(),
              maxConcurrency,
              requestTimeout(),
              nanoTime,
              model ->
                  client.isEmpty()
                      ? RequestOutcome.Arrival.UNKNOWN
                      : meter.hasReadyReplica(model)
                          ? RequestOutcome.Arrival.WARM
                          : RequestOutcome.Arrival.COLD);
      onGenerator.accept(generator);
      meter.start();
      long startNanos = nanoTime.getAsLong();
      List<RequestOutcome> outcomes = generator.run(plan.requests());
      long wallNanos = nanoTime.getAsLong() - startNanos;
      Optional<FleetMeter.Usage> usage =
          client.isPresent() ? Optional.of(meter.usage()) : Optional.empty();
      Map<String, IdleGapHistogram> learned = new TreeMap<>();
      if (client.isPresent() && scenario.policy() instanceof KeepAlivePolicy.Adaptive) {
        for (BudgetedModel model :
            client.get().resources(BudgetedModel.class).inNamespace(namespace).list().getItems()) {
          if (model.getStatus() != null && model.getStatus().idleGaps() != null) {
            learned.put(model.getMetadata().getName(), model.getStatus().idleGaps());
          }
        }
      }
      return new ReplayReport(scenario, plan, outcomes, usage, simulated, wallNanos, learned);
    } finally {
      meter.close();
    }
  }

  /**
   * A held request waits up to the hold timeout, then is served for up to its service time; the
   * generator gives up well after that (a request it gives up on is reported as failed).
   */
  private Duration requestTimeout() {
    return scenario.wall(scenario.settings().holdTimeout()).multipliedBy(2).plusSeconds(30);
  }

  /**
   * Polls {@code GET /v1/models} (answered by ext-proc from the model states the controller
   * streams) until every model of the fleet is listed: before that a request would be refused with
   * 404 {@code model_not_found} only because the replay started too early.
   */
  private void awaitModelsKnown(URI baseUrl) throws InterruptedException {
    String base = baseUrl.toString();
    URI models = URI.create((base.endsWith("/") ? base : base + "/") + "models");
    HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    Set<String> wanted = new HashSet<>();
    scenario.fleet().models().forEach(m -> wanted.add(m.name()));
    long deadline = nanoTime.getAsLong() + MODELS_KNOWN_TIMEOUT.toNanos();
    String last = "";
    while (nanoTime.getAsLong() < deadline) {
      try {
        HttpResponse<String> response =
            http.send(
                HttpRequest.newBuilder(models).timeout(Duration.ofSeconds(5)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        last = response.statusCode() + " " + response.body();
        if (response.statusCode() == 200 && listsAll(response.body(), wanted)) {
          return;
        }
      } catch (IOException e) {
        last = e.toString();
      }
      // Wiring code polling a live system: nothing to await but the answer itself.
      Thread.sleep(100);
    }
    throw new IllegalStateException(
        "the proxy at "
            + baseUrl
            + " did not list every model of the scenario within "
            + MODELS_KNOWN_TIMEOUT.toSeconds()
            + " s; last answer: "
            + last);
  }

  private static boolean listsAll(String body, Set<String> wanted) {
    for (String name : wanted) {
      if (!body.contains("\"" + name + "\"")) {
        return false;
      }
    }
    return true;
  }
}

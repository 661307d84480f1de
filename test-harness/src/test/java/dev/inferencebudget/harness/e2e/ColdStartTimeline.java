package dev.inferencebudget.harness.e2e;

import dev.inferencebudget.harness.sandbox.Sandbox;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Records when each step of a cold start was first seen, by polling every few milliseconds: where
 * the time between the request and the first response goes. Polling adds up to its period to each
 * figure; it is a breakdown for the report, not an assertion.
 */
final class ColdStartTimeline implements AutoCloseable {
  private final long startNanos = System.nanoTime();
  private final Map<String, BooleanSupplier> steps = new LinkedHashMap<>();
  private final Map<String, Long> seenMillis = new LinkedHashMap<>();
  private final ScheduledExecutorService poller = Executors.newSingleThreadScheduledExecutor();
  private final java.util.List<io.fabric8.kubernetes.client.informers.SharedIndexInformer<?>>
      informers = new java.util.ArrayList<>();

  /** Steps of one model's cold start, from the controller's decision to ext-proc's release. */
  static ColdStartTimeline of(Sandbox system, Tenant tenant, String name) {
    String key = tenant.namespace() + "/" + name;
    ColdStartTimeline t = new ColdStartTimeline();
    // The API server's objects through informers (a watch each, no polling load on the mock).
    var deployments =
        system
            .client()
            .apps()
            .deployments()
            .inNamespace(tenant.namespace())
            .withName(name)
            .inform();
    var pods =
        system.client().pods().inNamespace(tenant.namespace()).withLabel("app", name).inform();
    t.informers.add(deployments);
    t.informers.add(pods);
    t.steps.put("held at ext-proc", () -> system.extProc().engine().holds().held(key) > 0);
    t.steps.put(
        "replicas 1",
        () -> deployments.getStore().list().stream().anyMatch(d -> d.getSpec().getReplicas() == 1));
    t.steps.put("pod created", () -> !pods.getStore().list().isEmpty());
    t.steps.put(
        "pod ready", () -> pods.getStore().list().stream().anyMatch(ColdStartTimeline::ready));
    t.steps.put("xds routable", () -> system.controller().xds().isRoutable(key));
    t.steps.put(
        "stand-in endpoints",
        () ->
            system
                .standInIfRunning()
                .flatMap(
                    envoy ->
                        envoy
                            .clusters()
                            .get("ibc_" + tenant.namespace().replace('.', '_') + "_" + name))
                .map(c -> !c.endpoints().isEmpty())
                .orElse(false));
    t.steps.put(
        "ext-proc routable",
        () -> system.extProcLink().current().byKey(key).map(m -> m.routable()).orElse(false));
    t.poller.scheduleAtFixedRate(t::poll, 0, 5, TimeUnit.MILLISECONDS);
    return t;
  }

  private static boolean ready(Pod pod) {
    return pod.getStatus() != null
        && pod.getStatus().getConditions().stream()
            .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  private void poll() {
    long now = (System.nanoTime() - startNanos) / 1_000_000;
    steps.forEach(
        (name, check) -> {
          if (!seenMillis.containsKey(name)) {
            try {
              if (check.getAsBoolean()) {
                seenMillis.put(name, now);
              }
            } catch (RuntimeException e) {
              // not there yet
            }
          }
        });
  }

  /** "step +N ms" for each step seen, in order. */
  String summary() {
    StringBuilder b = new StringBuilder();
    seenMillis.forEach((name, ms) -> b.append(name).append(" +").append(ms).append(" ms; "));
    return b.toString();
  }

  @Override
  public void close() {
    poller.shutdownNow();
    informers.forEach(io.fabric8.kubernetes.client.informers.SharedIndexInformer::close);
  }
}

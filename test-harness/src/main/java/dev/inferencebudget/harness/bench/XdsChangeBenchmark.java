package dev.inferencebudget.harness.bench;

import dev.inferencebudget.harness.xds.AdsClient;
import dev.inferencebudget.harness.xds.ReceivedResponse;
import dev.inferencebudget.xds.XdsControlPlane;
import dev.inferencebudget.xds.api.Endpoint;
import dev.inferencebudget.xds.api.ModelEndpoints;
import dev.inferencebudget.xds.api.XdsConfig;
import dev.inferencebudget.xds.resources.EnvoyResources;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Endpoint change → ACK through the xDS control plane with 1,000 models and 4,000 endpoints, over
 * loopback gRPC, with the Envoy-like ADS client.
 *
 * <p>Measures, per change: the controller's {@code update()} call with the full model set; the time
 * until the client has ACKed (change → ACK sent); and, for a model coming back from zero replicas,
 * the time until the server has processed the ACK and reports the model routable (change →
 * routable). Verifies that each change sent exactly one ClusterLoadAssignment (the changed model's)
 * and nothing else; exits non-zero otherwise.
 *
 * <p>Arguments (optional): models, endpoints per model, measured changes, warm-up changes.
 */
public final class XdsChangeBenchmark {

  private XdsChangeBenchmark() {}

  public static void main(String[] args) throws Exception {
    int models = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
    int endpointsPerModel = args.length > 1 ? Integer.parseInt(args[1]) : 4;
    int changes = args.length > 2 ? Integer.parseInt(args[2]) : 2000;
    int warmup = args.length > 3 ? Integer.parseInt(args[3]) : 500;

    XdsControlPlane xds =
        XdsControlPlane.create(
                XdsConfig.defaults().withListenAddress("127.0.0.1", 0), new PrometheusRegistry())
            .start();
    List<ModelEndpoints> state = new ArrayList<>();
    for (int m = 0; m < models; m++) {
      List<Endpoint> endpoints = new ArrayList<>();
      for (int e = 0; e < endpointsPerModel; e++) {
        endpoints.add(Endpoint.ready(address(m, e), 8000));
      }
      state.add(new ModelEndpoints(String.format("bench/m%04d", m), endpoints));
    }
    long initialStart = System.nanoTime();
    xds.update(state);
    AdsClient envoy =
        AdsClient.connect(
            "127.0.0.1",
            xds.port(),
            AdsClient.Options.standaloneEnvoy("bench-envoy", "llm_routes"));
    while (xds.routableModels().size() < models) {
      TimeUnit.MILLISECONDS.sleep(5); // polling the initial sync once, outside the measurement
    }
    double initialSyncMs = (System.nanoTime() - initialStart) / 1e6;

    AtomicReference<CompletableFuture<ReceivedResponse>> nextEds = new AtomicReference<>();
    List<ReceivedResponse> unexpected = new CopyOnWriteArrayList<>();
    envoy.addListener(
        response -> {
          CompletableFuture<ReceivedResponse> waiting = nextEds.getAndSet(null);
          if (waiting != null && response.typeUrl().equals(AdsClient.ENDPOINT)) {
            waiting.complete(response);
          } else {
            unexpected.add(response);
          }
        });
    AtomicReference<CompletableFuture<String>> nextRoutable = new AtomicReference<>();
    xds.addRoutabilityListener(
        (model, routable) -> {
          CompletableFuture<String> waiting = nextRoutable.get();
          if (routable && waiting != null && nextRoutable.compareAndSet(waiting, null)) {
            waiting.complete(model);
          }
        });

    Random random = new Random(42);
    long[] updateNanos = new long[changes];
    long[] ackNanos = new long[changes];
    int wrong = 0;
    for (int i = -warmup; i < changes; i++) {
      int m = random.nextInt(models);
      ModelEndpoints before = state.get(m);
      List<Endpoint> endpoints = new ArrayList<>(before.endpoints());
      int replaced = random.nextInt(endpointsPerModel);
      endpoints.set(replaced, Endpoint.ready(address(m, endpointsPerModel + i + warmup), 8000));
      state.set(m, new ModelEndpoints(before.modelKey(), endpoints));

      CompletableFuture<ReceivedResponse> ack = new CompletableFuture<>();
      nextEds.set(ack);
      long start = System.nanoTime();
      xds.update(state);
      long updated = System.nanoTime();
      ReceivedResponse response = ack.get(10, TimeUnit.SECONDS);
      if (i >= 0) {
        updateNanos[i] = updated - start;
        ackNanos[i] = response.handledNanos() - start;
      }
      if (!response.resourceNames().equals(List.of(EnvoyResources.clusterName(before.modelKey())))
          || !response.accepted()) {
        wrong++;
      }
    }

    int coldStarts = Math.max(1, changes / 4);
    long[] routableNanos = new long[coldStarts];
    for (int i = 0; i < coldStarts; i++) {
      int m = random.nextInt(models);
      ModelEndpoints before = state.get(m);
      state.set(m, new ModelEndpoints(before.modelKey(), List.of()));
      CompletableFuture<ReceivedResponse> emptied = new CompletableFuture<>();
      nextEds.set(emptied);
      xds.update(state);
      emptied.get(10, TimeUnit.SECONDS);
      while (xds.isRoutable(before.modelKey())) {
        TimeUnit.MICROSECONDS.sleep(50); // the ACK of the empty assignment, outside the measurement
      }
      CompletableFuture<ReceivedResponse> filled = new CompletableFuture<>();
      nextEds.set(filled);
      CompletableFuture<String> routable = new CompletableFuture<>();
      nextRoutable.set(routable);
      state.set(m, before);
      long start = System.nanoTime();
      xds.update(state);
      String model = routable.get(10, TimeUnit.SECONDS);
      routableNanos[i] = System.nanoTime() - start;
      filled.get(10, TimeUnit.SECONDS);
      if (!model.equals(before.modelKey())) {
        wrong++;
      }
    }

    System.out.printf(
        Locale.ROOT,
        "xDS change benchmark: %d models, %d endpoints, %d changes (+%d warm-up), %d cold starts%n",
        models,
        models * endpointsPerModel,
        changes,
        warmup,
        coldStarts);
    System.out.printf(Locale.ROOT, "initial sync (all routable): %.1f ms%n", initialSyncMs);
    print("update() with the full model set", updateNanos);
    print("endpoint change -> ACK sent by client", ackNanos);
    print("0 -> 1 ready replica -> routable (ACK processed)", routableNanos);
    System.out.printf(
        Locale.ROOT,
        "responses other than the one expected EDS response: %d; wrong EDS responses: %d%n",
        unexpected.size(),
        wrong);
    envoy.close();
    xds.close();
    if (!unexpected.isEmpty() || wrong > 0) {
      System.out.println("FAILED: a change sent more than the changed model's endpoints");
      System.exit(1);
    }
  }

  private static String address(int model, int replica) {
    int host = model * 1_000 + replica;
    return "10." + ((host >> 16) & 0xff) + "." + ((host >> 8) & 0xff) + "." + (host & 0xff);
  }

  private static void print(String what, long[] nanos) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    System.out.printf(
        Locale.ROOT,
        "%-50s p50 %7.3f ms  p90 %7.3f ms  p99 %7.3f ms  max %7.3f ms%n",
        what,
        percentile(sorted, 0.50) / 1e6,
        percentile(sorted, 0.90) / 1e6,
        percentile(sorted, 0.99) / 1e6,
        sorted[sorted.length - 1] / 1e6);
  }

  private static long percentile(long[] sorted, double p) {
    int index = (int) Math.ceil(p * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }
}

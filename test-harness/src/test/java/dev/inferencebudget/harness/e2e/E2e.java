package dev.inferencebudget.harness.e2e;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.models.Model;
import dev.inferencebudget.harness.sandbox.Sandbox;
import dev.inferencebudget.harness.sandbox.SandboxConfig;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.DataPointSnapshot;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** What the scenarios share: clients as an application builds them, and metric reads. */
final class E2e {

  /** The simulated models' load time: short, so that cold starts cost little test time. */
  static final Duration LOAD_TIME = Duration.ofMillis(1500);

  /** Generous ceilings for awaits on a shared 2-core machine; awaits return as soon as true. */
  static final Duration PATIENCE = Duration.ofSeconds(30);

  private E2e() {}

  /**
   * The sandbox as the scenarios run it: no examples (each scenario creates its own tenants), a 300
   * ms termination delay, and {@link SandboxConfig#forTests()}'s short timings (ports 0, no startup
   * grace, 20 ms debounce, 200 ms tick, load reports every 200 ms).
   */
  static SandboxConfig config() {
    return SandboxConfig.forTests()
        .withManifests(List.of())
        .withTerminationDelay(Duration.ofMillis(300));
  }

  /** A sandbox builder that prints each start-up step with the time since the start. */
  static Sandbox.Builder sandbox(SandboxConfig config) {
    long startNanos = System.nanoTime();
    return Sandbox.builder(config)
        .progress(
            step ->
                System.out.printf(
                    "sandbox: [%5d ms] %s%n", (System.nanoTime() - startNanos) / 1_000_000, step));
  }

  /** The sandbox on the embedded API server and the Envoy stand-in. */
  static Sandbox start(SandboxConfig config) {
    long startNanos = System.nanoTime();
    Sandbox started = sandbox(config).start();
    System.out.printf("sandbox started in %d ms%n", (System.nanoTime() - startNanos) / 1_000_000);
    return started;
  }

  /** The one-minute load average (negative where the platform has none). */
  static double loadAverage() {
    return java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  /**
   * Whether latency figures mean anything now: no more runnable work than cores. On the shared
   * 2-core build machine the load average often reaches 20 (other engineers' builds); there a 300
   * ms latency bound would measure the neighbours, so tests assert it only when quiet and otherwise
   * print the figure and assert a loose bound.
   */
  static boolean quietMachine() {
    double load = loadAverage();
    return load >= 0 && load <= Runtime.getRuntime().availableProcessors();
  }

  /** An OpenAI client as an application configures it, but without retries (we count them). */
  static OpenAIClient openAi(String baseUrl, String apiKey) {
    return OpenAIOkHttpClient.builder()
        .baseUrl(baseUrl)
        .apiKey(apiKey)
        .maxRetries(0)
        .timeout(Duration.ofSeconds(60))
        .build();
  }

  static ChatCompletionCreateParams chat(String model, long maxTokens) {
    return ChatCompletionCreateParams.builder()
        .model(model)
        .addUserMessage("Say something about foxes.")
        .maxCompletionTokens(maxTokens)
        .build();
  }

  /** True once the data plane lists the model (ext-proc learned it from the controller). */
  static boolean listed(OpenAIClient client, String model) {
    return client.models().list().data().stream().map(Model::id).anyMatch(model::equals);
  }

  /** A gauge or counter's value for the given labels (0 when the series does not exist yet). */
  static double metric(PrometheusRegistry registry, String name, Map<String, String> labels) {
    Labels wanted =
        Labels.of(labels.keySet().toArray(String[]::new), labels.values().toArray(String[]::new));
    for (MetricSnapshot snapshot : registry.scrape()) {
      String metricName = snapshot.getMetadata().getPrometheusName();
      if (!metricName.equals(name) && !(metricName + "_total").equals(name)) {
        continue;
      }
      double sum = 0;
      for (DataPointSnapshot point : snapshot.getDataPoints()) {
        if (!containsAll(point.getLabels(), wanted)) {
          continue;
        }
        if (point instanceof GaugeSnapshot.GaugeDataPointSnapshot g) {
          sum += g.getValue();
        } else if (point instanceof CounterSnapshot.CounterDataPointSnapshot c) {
          sum += c.getValue();
        }
      }
      return sum;
    }
    return 0;
  }

  private static boolean containsAll(Labels have, Labels wanted) {
    for (int i = 0; i < wanted.size(); i++) {
      if (!wanted.getValue(i).equals(have.get(wanted.getName(i)))) {
        return false;
      }
    }
    return true;
  }
}

package dev.inferencebudget.harness.cluster;

import dev.inferencebudget.harness.vllm.VllmSimulatorConfig;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How one Deployment is simulated, read from its annotations over the kubelet's defaults.
 *
 * <p>Annotations (all optional):
 *
 * <ul>
 *   <li>{@value #SERVED_MODEL_NAMES}: comma-separated names the simulator serves (default: the
 *       Deployment's name)
 *   <li>{@value #LOAD_TIME}: time until a replica is ready, e.g. {@code 200ms}, {@code 30s}, {@code
 *       2m} or ISO-8601 {@code PT30S}
 *   <li>{@value #PREFILL_TOKENS_PER_SECOND}, {@value #DECODE_TOKENS_PER_SECOND}: speeds per
 *       sequence
 *   <li>{@value #MAX_NUM_SEQS}: sequences per replica before requests queue
 *   <li>{@value #MAX_MODEL_LEN}: context length
 *   <li>{@value #GPU_MEMORY_BYTES}: GPU memory a replica occupies (its metric)
 *   <li>{@value #TERMINATION_DELAY}: how long a pod stays terminating after a scale-down
 *   <li>{@value #SERVICE_NAME}: the Service whose EndpointSlices list the pods (default: the
 *       Deployment's name)
 * </ul>
 *
 * @param simulator the settings of each replica's simulator
 * @param terminationDelay how long a pod stays terminating
 * @param serviceName the {@code kubernetes.io/service-name} of the pods' EndpointSlices
 * @param problems annotations that could not be read (their defaults were used instead)
 */
public record DeploymentSimulation(
    VllmSimulatorConfig simulator,
    Duration terminationDelay,
    String serviceName,
    List<String> problems) {

  public static final String PREFIX = "sim.inferencebudget.dev/";
  public static final String SERVED_MODEL_NAMES = PREFIX + "served-model-names";
  public static final String LOAD_TIME = PREFIX + "load-time";
  public static final String PREFILL_TOKENS_PER_SECOND = PREFIX + "prefill-tokens-per-second";
  public static final String DECODE_TOKENS_PER_SECOND = PREFIX + "decode-tokens-per-second";
  public static final String MAX_NUM_SEQS = PREFIX + "max-num-seqs";
  public static final String MAX_MODEL_LEN = PREFIX + "max-model-len";
  public static final String GPU_MEMORY_BYTES = PREFIX + "gpu-memory-bytes";
  public static final String TERMINATION_DELAY = PREFIX + "termination-delay";
  public static final String SERVICE_NAME = PREFIX + "service-name";

  private static final Pattern SIMPLE_DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

  public DeploymentSimulation {
    Objects.requireNonNull(simulator, "simulator");
    Objects.requireNonNull(terminationDelay, "terminationDelay");
    Objects.requireNonNull(serviceName, "serviceName");
    problems = List.copyOf(Objects.requireNonNull(problems, "problems"));
  }

  /** Reads {@code deployment}'s annotations over {@code defaults}. */
  public static DeploymentSimulation of(Deployment deployment, SimulatedKubeletConfig defaults) {
    String name = deployment.getMetadata().getName();
    Map<String, String> annotations =
        deployment.getMetadata().getAnnotations() == null
            ? Map.of()
            : deployment.getMetadata().getAnnotations();
    Reader r = new Reader(annotations);
    VllmSimulatorConfig.Builder b =
        defaults.simulatorDefaults().toBuilder().servedModelNames(List.of(name));
    r.read(SERVED_MODEL_NAMES, v -> Arrays.stream(v.split(",")).map(String::trim).toList())
        .ifPresent(b::servedModelNames);
    r.read(LOAD_TIME, DeploymentSimulation::parseDuration).ifPresent(b::loadTime);
    r.read(PREFILL_TOKENS_PER_SECOND, Double::parseDouble).ifPresent(b::prefillTokensPerSecond);
    r.read(DECODE_TOKENS_PER_SECOND, Double::parseDouble).ifPresent(b::decodeTokensPerSecond);
    r.read(MAX_NUM_SEQS, Integer::parseInt).ifPresent(b::maxNumSeqs);
    r.read(MAX_MODEL_LEN, Integer::parseInt).ifPresent(b::maxModelLen);
    r.read(GPU_MEMORY_BYTES, Long::parseLong).ifPresent(b::gpuMemoryBytes);
    Duration terminationDelay =
        r.read(TERMINATION_DELAY, DeploymentSimulation::parseDuration)
            .orElse(defaults.terminationDelay());
    String serviceName = r.read(SERVICE_NAME, String::trim).orElse(name);
    VllmSimulatorConfig simulator;
    try {
      simulator = b.build();
    } catch (IllegalArgumentException e) {
      r.problems.add(e.getMessage() + " (using the kubelet's defaults)");
      simulator = defaults.simulatorDefaults().withServedModelNames(List.of(name));
    }
    return new DeploymentSimulation(simulator, terminationDelay, serviceName, r.problems);
  }

  /** {@code 200ms}, {@code 30s}, {@code 2m}, {@code 1h}, or ISO-8601 ({@code PT0.2S}). */
  static Duration parseDuration(String text) {
    Matcher m = SIMPLE_DURATION.matcher(text.trim());
    if (m.matches()) {
      long amount = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> Duration.ofMillis(amount);
        case "s" -> Duration.ofSeconds(amount);
        case "m" -> Duration.ofMinutes(amount);
        default -> Duration.ofHours(amount);
      };
    }
    try {
      return Duration.parse(text.trim());
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("not a duration (200ms, 30s, 2m, PT30S): " + text, e);
    }
  }

  /** Reads annotations, collecting the unreadable ones instead of failing. */
  private static final class Reader {
    private final Map<String, String> annotations;
    private final List<String> problems = new ArrayList<>();

    Reader(Map<String, String> annotations) {
      this.annotations = annotations;
    }

    <T> java.util.Optional<T> read(String key, Function<String, T> parse) {
      String value = annotations.get(key);
      if (value == null) {
        return java.util.Optional.empty();
      }
      try {
        return java.util.Optional.of(parse.apply(value));
      } catch (RuntimeException e) {
        problems.add(key + " = \"" + value + "\": " + e.getMessage());
        return java.util.Optional.empty();
      }
    }
  }
}

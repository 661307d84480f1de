package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.inferencebudget.controller.api.GoDurations;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.ValidationRule;
import java.time.Duration;
import java.util.Optional;

/**
 * How load sets the replica count (the load layer; modelled on Knative's KPA).
 *
 * @param targetInFlightPerReplica requests in flight one replica should carry (default 16)
 * @param targetQueueDepthPerReplica requests waiting in vLLM's queue one replica may have (default
 *     4)
 * @param targetTimeToFirstToken optional latency target; above it the model scales up
 * @param stableWindow the window load is averaged over for ordinary decisions (default {@code 60s})
 * @param panicWindow the short window that detects bursts (default {@code 6s}); at most {@code
 *     stableWindow}
 * @param panicThreshold percent of current capacity the panic window must ask for to enter panic
 *     mode (default 200)
 * @param scaleDownDelay how long a lower replica count must hold before replicas are removed
 *     (default {@code 5m})
 * @param maxScaleUpRate the most the replica count may be multiplied by in one decision (default
 *     2.0, above 1)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "duration(self.panicWindow) <= duration(self.stableWindow)",
    reason = "FieldValueInvalid",
    fieldPath = ".panicWindow",
    message = "scaling.panicWindow must not be longer than scaling.stableWindow")
public record Scaling(
    @Min(1)
        @Default("" + Defaults.TARGET_IN_FLIGHT_PER_REPLICA)
        @JsonPropertyDescription("Requests in flight one replica should carry.")
        Integer targetInFlightPerReplica,
    @Min(0)
        @Default("" + Defaults.TARGET_QUEUE_DEPTH_PER_REPLICA)
        @JsonPropertyDescription("Requests waiting in the engine's queue one replica may have.")
        Integer targetQueueDepthPerReplica,
    @Pattern(GoDurations.PATTERN)
        @JsonPropertyDescription(
            "Optional time-to-first-token target (Go duration, e.g. 2s); above it the model scales up.")
        String targetTimeToFirstToken,
    @Pattern(GoDurations.PATTERN)
        @Default(Defaults.STABLE_WINDOW)
        @JsonPropertyDescription("The window load is averaged over for ordinary decisions.")
        String stableWindow,
    @Pattern(GoDurations.PATTERN)
        @Default(Defaults.PANIC_WINDOW)
        @JsonPropertyDescription("The short window that detects bursts; at most stableWindow.")
        String panicWindow,
    @Min(100)
        @Default("" + Defaults.PANIC_THRESHOLD_PERCENT)
        @JsonPropertyDescription(
            "Percent of current capacity the panic window must ask for before the model enters panic mode.")
        Integer panicThreshold,
    @Pattern(GoDurations.PATTERN)
        @Default(Defaults.SCALE_DOWN_DELAY)
        @JsonPropertyDescription(
            "How long a lower replica count must hold before replicas are removed.")
        String scaleDownDelay,
    @Min(value = 1, inclusive = false)
        @Default("" + Defaults.MAX_SCALE_UP_RATE)
        @JsonPropertyDescription(
            "The most the replica count may be multiplied by in one decision (greater than 1).")
        Double maxScaleUpRate) {

  public static final Scaling DEFAULTS =
      new Scaling(null, null, null, null, null, null, null, null);

  public Scaling {
    targetInFlightPerReplica =
        targetInFlightPerReplica == null
            ? Defaults.TARGET_IN_FLIGHT_PER_REPLICA
            : targetInFlightPerReplica;
    targetQueueDepthPerReplica =
        targetQueueDepthPerReplica == null
            ? Defaults.TARGET_QUEUE_DEPTH_PER_REPLICA
            : targetQueueDepthPerReplica;
    stableWindow = stableWindow == null ? Defaults.STABLE_WINDOW : stableWindow;
    panicWindow = panicWindow == null ? Defaults.PANIC_WINDOW : panicWindow;
    panicThreshold = panicThreshold == null ? Defaults.PANIC_THRESHOLD_PERCENT : panicThreshold;
    scaleDownDelay = scaleDownDelay == null ? Defaults.SCALE_DOWN_DELAY : scaleDownDelay;
    maxScaleUpRate = maxScaleUpRate == null ? Defaults.MAX_SCALE_UP_RATE : maxScaleUpRate;
  }

  public Optional<Duration> targetTimeToFirstTokenDuration() {
    return Optional.ofNullable(targetTimeToFirstToken)
        .map(text -> GoDurations.parse(text, "spec.scaling.targetTimeToFirstToken"));
  }

  public Duration stableWindowDuration() {
    return GoDurations.parse(stableWindow, "spec.scaling.stableWindow");
  }

  public Duration panicWindowDuration() {
    return GoDurations.parse(panicWindow, "spec.scaling.panicWindow");
  }

  public Duration scaleDownDelayDuration() {
    return GoDurations.parse(scaleDownDelay, "spec.scaling.scaleDownDelay");
  }
}

package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.inferencebudget.controller.api.GoDurations;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import java.time.Duration;

/**
 * When an idle model releases its GPU. Applies only when {@code replicas.min} is 0 and no schedule
 * holds a minimum.
 *
 * @param idleTimeout how long without requests before scaling to zero (default {@code 10m}); with
 *     {@code Adaptive}, the longest a replica is kept
 * @param keepAlive {@code Fixed} (default) or {@code Adaptive}
 */
public record ScaleToZero(
    @Pattern(GoDurations.PATTERN)
        @Default(Defaults.IDLE_TIMEOUT)
        @JsonPropertyDescription(
            "How long without requests before the model is scaled to zero (Go duration, e.g. 10m). With Adaptive,"
                + " the longest a replica is kept.")
        String idleTimeout,
    @Default(Defaults.KEEP_ALIVE)
        @JsonPropertyDescription(
            "Fixed: scale to zero after idleTimeout. Adaptive: keep a replica only while a request is likely soon,"
                + " learned from the model's inter-arrival times.")
        KeepAlivePolicy keepAlive) {

  public static final ScaleToZero DEFAULTS = new ScaleToZero(null, null);

  public ScaleToZero {
    idleTimeout = idleTimeout == null ? Defaults.IDLE_TIMEOUT : idleTimeout;
    keepAlive = keepAlive == null ? KeepAlivePolicy.FIXED : keepAlive;
  }

  public Duration idleTimeoutDuration() {
    return GoDurations.parse(idleTimeout, "spec.scaleToZero.idleTimeout");
  }
}

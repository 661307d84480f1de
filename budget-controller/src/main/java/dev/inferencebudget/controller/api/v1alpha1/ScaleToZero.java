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
 *     {@code Adaptive}, the keep-alive until the learned histogram is representative
 * @param keepAlive {@code Fixed} (default) or {@code Adaptive}
 * @param adaptive the time scale of the adaptive histogram (default {@code 1m} buckets over {@code
 *     4h}); ignored with {@code Fixed}
 */
public record ScaleToZero(
    @Pattern(GoDurations.PATTERN)
        @Default(Defaults.IDLE_TIMEOUT)
        @JsonPropertyDescription(
            "How long without requests before the model is scaled to zero (Go duration, e.g. 10m). With Adaptive,"
                + " the keep-alive used until enough idle gaps have been learned.")
        String idleTimeout,
    @Default(Defaults.KEEP_ALIVE)
        @JsonPropertyDescription(
            "Fixed: scale to zero after idleTimeout. Adaptive: keep a replica only while a request is likely soon,"
                + " learned from the model's idle gaps.")
        KeepAlivePolicy keepAlive,
    @Default("{}")
        @JsonPropertyDescription(
            "Time scale of the Adaptive keep-alive's histogram of idle gaps; ignored with Fixed.")
        AdaptiveKeepAlive adaptive) {

  public static final ScaleToZero DEFAULTS = new ScaleToZero(null, null, null);

  public ScaleToZero {
    idleTimeout = idleTimeout == null ? Defaults.IDLE_TIMEOUT : idleTimeout;
    keepAlive = keepAlive == null ? KeepAlivePolicy.FIXED : keepAlive;
    adaptive = adaptive == null ? AdaptiveKeepAlive.DEFAULTS : adaptive;
  }

  /** With the default time scale of the adaptive histogram. */
  public ScaleToZero(String idleTimeout, KeepAlivePolicy keepAlive) {
    this(idleTimeout, keepAlive, null);
  }

  public Duration idleTimeoutDuration() {
    return GoDurations.parse(idleTimeout, "spec.scaleToZero.idleTimeout");
  }
}

package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.inferencebudget.controller.api.GoDurations;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import java.time.Duration;

/**
 * How requests for a model at zero are held at the proxy while it starts.
 *
 * @param holdTimeout the longest a request is held before a 503 with {@code Retry-After} (default
 *     {@code 5m})
 * @param maxHeldRequests the most requests held at once per ext-proc replica; more are refused
 *     (default 100)
 */
public record ColdStart(
    @Pattern(GoDurations.PATTERN)
        @Default(Defaults.HOLD_TIMEOUT)
        @JsonPropertyDescription(
            "The longest a request waits for the model to become routable before a 503 (Go duration, e.g. 5m).")
        String holdTimeout,
    @Min(0)
        @Default("" + Defaults.MAX_HELD_REQUESTS)
        @JsonPropertyDescription(
            "The most requests held at once while the model starts; more are refused.")
        Integer maxHeldRequests) {

  public static final ColdStart DEFAULTS = new ColdStart(null, null);

  public ColdStart {
    holdTimeout = holdTimeout == null ? Defaults.HOLD_TIMEOUT : holdTimeout;
    maxHeldRequests = maxHeldRequests == null ? Defaults.MAX_HELD_REQUESTS : maxHeldRequests;
  }

  public Duration holdTimeoutDuration() {
    return GoDurations.parse(holdTimeout, "spec.coldStart.holdTimeout");
  }
}

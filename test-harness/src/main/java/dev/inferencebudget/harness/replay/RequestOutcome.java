package dev.inferencebudget.harness.replay;

import java.util.Objects;
import java.util.Optional;

/**
 * What happened to one replayed request, in wall time.
 *
 * @param index the request's {@link PlannedRequest#index()}
 * @param model its model's index
 * @param arrival whether its model had a ready replica when it was sent
 * @param status the HTTP status; 0 when no response came (connection refused, reset, timeout)
 * @param errorCode the OpenAI error's {@code code} (or {@code type}) of a refusal, or what failed
 *     in the transport
 * @param sendLagNanos how late it was sent against its planned time (the generator's own delay)
 * @param timeToFirstTokenNanos send to the first streamed chunk; empty when none came
 * @param latencyNanos send to the end of the response (or of the failure)
 * @param completionTokens completion tokens the response's {@code usage} reported (0 if none)
 */
public record RequestOutcome(
    int index,
    int model,
    Arrival arrival,
    int status,
    Optional<String> errorCode,
    long sendLagNanos,
    Optional<Long> timeToFirstTokenNanos,
    long latencyNanos,
    long completionTokens) {
  public RequestOutcome {
    Objects.requireNonNull(arrival, "arrival");
    Objects.requireNonNull(errorCode, "errorCode");
    Objects.requireNonNull(timeToFirstTokenNanos, "timeToFirstTokenNanos");
  }

  /** Whether the request's model could serve it when it arrived (as the cluster showed). */
  public enum Arrival {
    /** A ready replica existed. */
    WARM,
    /**
     * No ready replica: the request waited for a cold start (held at the proxy), or was refused.
     */
    COLD,
    /** Not known: the replay does not watch the cluster. */
    UNKNOWN
  }

  /** A 200 with a complete body. */
  public boolean served() {
    return status == 200 && errorCode.isEmpty();
  }

  /** The refusal's reason as "status code" (for example {@code 503 hold_timeout}). */
  public String reason() {
    return status + " " + errorCode.orElse("-");
  }
}

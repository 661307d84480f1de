package dev.inferencebudget.controller.decision;

import java.time.Instant;
import java.util.Objects;

/**
 * Requests held at the proxy for a model with no routable replica.
 *
 * @param heldRequests how many are held now
 * @param requestedAt when the first of them arrived
 */
public record PendingActivation(int heldRequests, Instant requestedAt) {
  public PendingActivation {
    Objects.requireNonNull(requestedAt, "requestedAt");
    if (heldRequests < 0) {
      throw new IllegalArgumentException("heldRequests = " + heldRequests + ", must be >= 0");
    }
  }
}

package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** How long an idle model keeps a replica before it is scaled to zero. */
public enum KeepAlivePolicy {
  /** Scale to zero after {@code idleTimeout} without requests. */
  @JsonProperty("Fixed")
  FIXED,

  /**
   * Learn the model's inter-arrival times and keep a replica only while a request is likely soon
   * (Shahrad et al., ATC 2020); {@code idleTimeout} applies until enough idle gaps were learned.
   */
  @JsonProperty("Adaptive")
  ADAPTIVE
}

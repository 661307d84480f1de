package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Bounds on the target's replicas. A model scales to zero only when {@code min} is 0.
 *
 * @param min the fewest replicas (default 0)
 * @param max the most replicas (default 1)
 */
@ValidationRule(
    value = "self.min <= self.max",
    reason = "FieldValueInvalid",
    message = "replicas.min must be less than or equal to replicas.max")
public record Replicas(
    @Min(0)
        @Default("" + Defaults.REPLICAS_MIN)
        @JsonPropertyDescription("The fewest replicas; 0 lets the model scale to zero when idle.")
        Integer min,
    @Min(1)
        @Default("" + Defaults.REPLICAS_MAX)
        @JsonPropertyDescription("The most replicas, whatever the load.")
        Integer max) {

  public static final Replicas DEFAULTS = new Replicas(null, null);

  public Replicas {
    min = min == null ? Defaults.REPLICAS_MIN : min;
    max = max == null ? Defaults.REPLICAS_MAX : max;
  }
}

package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.inferencebudget.controller.api.Quantities;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Quantity;

/**
 * The desired budget of a namespace.
 *
 * @param gpuMemory the most GPU memory the namespace's models may reserve together, e.g. {@code
 *     160Gi}
 * @param protectionThreshold percent of {@code gpuMemory}; above it only models at or above {@code
 *     protectedPriority} may scale up (default 90)
 * @param protectedPriority the lowest priority that may still grow above the threshold (default
 *     500)
 * @param preemption whether an idle lower-priority model may be scaled to zero to make room
 *     (default {@code Never})
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value =
        "type(self.gpuMemory) == int ? self.gpuMemory >= 0 : self.gpuMemory.matches('"
            + Quantities.BYTES_PATTERN
            + "')",
    fieldPath = ".gpuMemory",
    reason = "FieldValueInvalid",
    message = "gpuMemory must be a byte quantity such as 160Gi or 80G")
public record InferenceBudgetSpec(
    @Required
        @JsonPropertyDescription(
            "The most GPU memory the namespace's models may reserve together (quantity, e.g. 160Gi).")
        Quantity gpuMemory,
    @Min(0)
        @Max(100)
        @Default("" + Defaults.PROTECTION_THRESHOLD_PERCENT)
        @JsonPropertyDescription(
            "Percent of gpuMemory above which only models at or above protectedPriority may scale up.")
        Integer protectionThreshold,
    @Min(Defaults.MIN_PRIORITY)
        @Max(Defaults.MAX_PRIORITY)
        @Default("" + Defaults.PROTECTED_PRIORITY)
        @JsonPropertyDescription(
            "The lowest model priority that may still grow above protectionThreshold.")
        Integer protectedPriority,
    @Default(Defaults.PREEMPTION)
        @JsonPropertyDescription(
            "Never: refuse a scale-up that does not fit. IdleLowerPriority: scale an idle model of lower priority to"
                + " zero to make room.")
        Preemption preemption) {

  public InferenceBudgetSpec {
    protectionThreshold =
        protectionThreshold == null ? Defaults.PROTECTION_THRESHOLD_PERCENT : protectionThreshold;
    protectedPriority = protectedPriority == null ? Defaults.PROTECTED_PRIORITY : protectedPriority;
    preemption = preemption == null ? Preemption.NEVER : preemption;
  }

  /**
   * The budget in bytes, exactly.
   *
   * @throws IllegalArgumentException if {@code gpuMemory} is absent or not a whole, non-negative
   *     number of bytes
   */
  public long gpuMemoryBytes() {
    if (gpuMemory == null) {
      throw new IllegalArgumentException("spec.gpuMemory is required");
    }
    return Quantities.toBytes(gpuMemory, "spec.gpuMemory");
  }
}

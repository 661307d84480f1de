package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;

/**
 * What the controller last decided and observed for a budget. Written only by the controller,
 * through the status subresource.
 *
 * @param observedGeneration the {@code metadata.generation} this status was computed from
 * @param state {@code Available}, {@code Protecting} or {@code Exhausted}
 * @param reservedGpuMemory memory reserved by replicas that exist, are starting, or are terminating
 *     but still hold their GPU
 * @param observedGpuMemory memory the ready replicas report using (vLLM or DCGM metrics), when
 *     known
 * @param reservedPercent {@code reservedGpuMemory} as a whole percentage of {@code spec.gpuMemory}
 * @param models the reservation of each model that draws from this budget
 * @param conditions standard Kubernetes conditions (for example {@code Ready})
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record InferenceBudgetStatus(
    @JsonPropertyDescription("The metadata.generation this status was computed from.")
        Long observedGeneration,
    @JsonPropertyDescription("Available, Protecting (above protectionThreshold) or Exhausted.")
        BudgetState state,
    @JsonPropertyDescription(
            "GPU memory reserved by replicas that exist, are starting, or still hold their GPU while terminating.")
        Quantity reservedGpuMemory,
    @JsonPropertyDescription("GPU memory the ready replicas report using, when known.")
        Quantity observedGpuMemory,
    @JsonPropertyDescription("reservedGpuMemory as a whole percentage of spec.gpuMemory.")
        Integer reservedPercent,
    @JsonPropertyDescription("The reservation of each model that draws from this budget.")
        List<ModelReservation> models,
    @JsonPropertyDescription("Standard Kubernetes conditions.") List<Condition> conditions) {

  public InferenceBudgetStatus {
    models = models == null ? List.of() : List.copyOf(models);
    conditions = conditions == null ? List.of() : List.copyOf(conditions);
  }
}

package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.Quantity;
import java.time.Instant;
import java.util.List;

/**
 * What the controller last decided and observed for a model. Written only by the controller,
 * through the status subresource. Everything the controller must remember across a restart (last
 * request, cold-start start, idle timer, reservation, last nodes) lives here, not only in memory.
 *
 * @param observedGeneration the {@code metadata.generation} this status was computed from
 * @param state the model's state
 * @param replicas replicas of the target that exist or are starting
 * @param readyReplicas replicas that serve requests
 * @param desiredReplicas the replicas the controller last asked the target for
 * @param reservedGpuMemory memory reserved from the budget ({@code replicas holding a GPU ×
 *     gpuMemoryPerReplica})
 * @param observedGpuMemory memory the ready replicas report using, when known
 * @param lastRequestTime when the last request for the model arrived (as reported by ext-proc)
 * @param coldStartTime when the current scale-from-zero began (the activation); absent unless
 *     cold-starting
 * @param idleSince when the model last became idle (no request in flight or queued); absent while
 *     busy
 * @param scaleToZeroTime when the idle timer will scale the model to zero under its keep-alive
 *     policy; absent when no timer runs
 * @param idleGaps the adaptive keep-alive's learned idle gaps (absent for a fixed keep-alive)
 * @param lastScaleTime when the controller last changed the target's replicas
 * @param lastNodes the nodes the model's replicas last ran on, for node warmth (most recent first)
 * @param conditions standard Kubernetes conditions (for example {@code Ready}, {@code
 *     BudgetBlocked})
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record BudgetedModelStatus(
    @JsonPropertyDescription("The metadata.generation this status was computed from.")
        Long observedGeneration,
    @JsonPropertyDescription("ScaledToZero, ColdStarting, Ready, Scaling or BudgetBlocked.")
        ModelState state,
    @JsonPropertyDescription("Replicas of the target that exist or are starting.") Integer replicas,
    @JsonPropertyDescription("Replicas that serve requests.") Integer readyReplicas,
    @JsonPropertyDescription("The replicas the controller last asked the target for.")
        Integer desiredReplicas,
    @JsonPropertyDescription("GPU memory reserved from the budget.") Quantity reservedGpuMemory,
    @JsonPropertyDescription("GPU memory the ready replicas report using, when known.")
        Quantity observedGpuMemory,
    @JsonPropertyDescription("When the last request for the model arrived.")
        Instant lastRequestTime,
    @JsonPropertyDescription("When the current scale-from-zero began; absent unless cold-starting.")
        Instant coldStartTime,
    @JsonPropertyDescription(
            "When the model last became idle; absent while requests are in flight.")
        Instant idleSince,
    @JsonPropertyDescription(
            "When the idle timer will scale the model to zero; absent when no timer runs.")
        Instant scaleToZeroTime,
    @JsonPropertyDescription(
            "The adaptive keep-alive's learned idle gaps (restored after a controller restart).")
        IdleGapHistogram idleGaps,
    @JsonPropertyDescription("When the controller last changed the target's replicas.")
        Instant lastScaleTime,
    @JsonPropertyDescription(
            "Nodes the model's replicas last ran on, most recent first (node warmth).")
        List<String> lastNodes,
    @JsonPropertyDescription("Standard Kubernetes conditions.") List<Condition> conditions) {

  public BudgetedModelStatus {
    lastNodes = lastNodes == null ? List.of() : List.copyOf(lastNodes);
    conditions = conditions == null ? List.of() : List.copyOf(conditions);
  }

  /** This status with {@code conditions} instead of its own. */
  public BudgetedModelStatus withConditions(List<Condition> conditions) {
    return new BudgetedModelStatus(
        observedGeneration,
        state,
        replicas,
        readyReplicas,
        desiredReplicas,
        reservedGpuMemory,
        observedGpuMemory,
        lastRequestTime,
        coldStartTime,
        idleSince,
        scaleToZeroTime,
        idleGaps,
        lastScaleTime,
        lastNodes,
        conditions);
  }
}

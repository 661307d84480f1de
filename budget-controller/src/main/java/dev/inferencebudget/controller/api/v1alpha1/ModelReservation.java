package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Quantity;

/**
 * One model's share of a budget, as listed in {@link InferenceBudgetStatus#models()}.
 *
 * @param name the BudgetedModel's name (same namespace as the budget)
 * @param priority its {@code spec.priority}
 * @param replicas replicas that hold GPU memory (existing, starting, or terminating but not yet
 *     gone)
 * @param reservedGpuMemory {@code replicas × spec.gpuMemoryPerReplica}
 * @param state the model's state
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelReservation(
    String name,
    Integer priority,
    Integer replicas,
    Quantity reservedGpuMemory,
    ModelState state) {}

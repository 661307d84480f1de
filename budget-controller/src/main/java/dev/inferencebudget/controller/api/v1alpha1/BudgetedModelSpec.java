package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import dev.inferencebudget.controller.api.Quantities;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;

/**
 * The desired behaviour of a budgeted model. Absent optional sections take their documented
 * defaults (see {@link Defaults}); {@code route} and {@code admission}'s limits stay absent when
 * not given.
 *
 * @param modelNames the OpenAI {@code model} values that route here (aliases, LoRA adapters);
 *     unique, at least one
 * @param targetRef the vLLM Deployment to scale
 * @param budgetRef the InferenceBudget to reserve memory from
 * @param gpuMemoryPerReplica GPU memory one replica reserves, e.g. {@code 24Gi}
 * @param priority 0..1000, higher wins when the budget is short (default 100)
 * @param replicas bounds on replicas (default min 0, max 1)
 * @param scaleToZero idle policy (default {@code 10m}, {@code Fixed})
 * @param scaling the load layer's targets, windows and rates
 * @param coldStart how requests are held while the model starts from zero
 * @param schedules time windows with a minimum replica count
 * @param admission limits and queueing at the proxy
 * @param nodeWarmth prefer the nodes the model last ran on when scaling from zero (default false)
 * @param route generate an HTTPRoute for the model when present
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
@ValidationRule(
    value =
        "type(self.gpuMemoryPerReplica) == int ? self.gpuMemoryPerReplica > 0 :"
            + " self.gpuMemoryPerReplica.matches('"
            + Quantities.BYTES_PATTERN
            + "')",
    fieldPath = ".gpuMemoryPerReplica",
    reason = "FieldValueInvalid",
    message = "gpuMemoryPerReplica must be a byte quantity such as 24Gi or 80G")
@ValidationRule(
    value = "self.modelNames.all(n, self.modelNames.exists_one(m, m == n))",
    fieldPath = ".modelNames",
    reason = "FieldValueDuplicate",
    message = "modelNames must be unique")
@ValidationRule(
    value = "!has(self.schedules) || self.schedules.all(s, s.minReplicas <= self.replicas.max)",
    fieldPath = ".schedules",
    reason = "FieldValueInvalid",
    message = "a schedule's minReplicas must not exceed replicas.max")
public record BudgetedModelSpec(
    @Required
        @Size(min = 1, max = 64)
        @JsonPropertyDescription(
            "The OpenAI model values that route to this model (aliases, LoRA adapters); unique.")
        List<@Size(min = 1, max = 256) @Pattern(Patterns.MODEL_NAME) String> modelNames,
    @Required @JsonPropertyDescription("The vLLM Deployment to scale.") TargetRef targetRef,
    @Required @JsonPropertyDescription("The InferenceBudget to reserve GPU memory from.")
        BudgetRef budgetRef,
    @Required
        @JsonPropertyDescription(
            "GPU memory one replica reserves from the budget (quantity, e.g. 24Gi).")
        Quantity gpuMemoryPerReplica,
    @Min(Defaults.MIN_PRIORITY)
        @Max(Defaults.MAX_PRIORITY)
        @Default("" + Defaults.PRIORITY)
        @JsonPropertyDescription(
            "0..1000; higher priorities are served first when the budget is short.")
        Integer priority,
    @Default("{}") @JsonPropertyDescription("Bounds on the target's replicas.") Replicas replicas,
    @Default("{}") @JsonPropertyDescription("When an idle model releases its GPU.")
        ScaleToZero scaleToZero,
    @Default("{}") @JsonPropertyDescription("How load sets the replica count.") Scaling scaling,
    @Default("{}")
        @JsonPropertyDescription("How requests are held while the model starts from zero.")
        ColdStart coldStart,
    @Size(max = 32)
        @JsonPropertyDescription(
            "Time windows in which the model keeps a minimum number of replicas.")
        List<Schedule> schedules,
    @Default("{}") @JsonPropertyDescription("Limits and queueing at the proxy.")
        Admission admission,
    @Default("" + Defaults.NODE_WARMTH)
        @JsonPropertyDescription(
            "Prefer the nodes the model last ran on when scaling from zero, to reuse their model cache.")
        Boolean nodeWarmth,
    @JsonPropertyDescription("When present, the controller generates an HTTPRoute for the model.")
        Route route) {

  public BudgetedModelSpec {
    modelNames = modelNames == null ? List.of() : List.copyOf(modelNames);
    priority = priority == null ? Defaults.PRIORITY : priority;
    replicas = replicas == null ? Replicas.DEFAULTS : replicas;
    scaleToZero = scaleToZero == null ? ScaleToZero.DEFAULTS : scaleToZero;
    scaling = scaling == null ? Scaling.DEFAULTS : scaling;
    coldStart = coldStart == null ? ColdStart.DEFAULTS : coldStart;
    schedules = schedules == null ? List.of() : List.copyOf(schedules);
    admission = admission == null ? Admission.DEFAULTS : admission;
    nodeWarmth = nodeWarmth == null ? Defaults.NODE_WARMTH : nodeWarmth;
  }

  /**
   * GPU memory one replica reserves, in bytes, exactly.
   *
   * @throws IllegalArgumentException if {@code gpuMemoryPerReplica} is absent, zero, or not a
   *     whole, non-negative number of bytes
   */
  public long gpuMemoryPerReplicaBytes() {
    if (gpuMemoryPerReplica == null) {
      throw new IllegalArgumentException("spec.gpuMemoryPerReplica is required");
    }
    long bytes = Quantities.toBytes(gpuMemoryPerReplica, "spec.gpuMemoryPerReplica");
    if (bytes == 0) {
      throw new IllegalArgumentException(
          "spec.gpuMemoryPerReplica = 0, must be more than zero bytes");
    }
    return bytes;
  }
}

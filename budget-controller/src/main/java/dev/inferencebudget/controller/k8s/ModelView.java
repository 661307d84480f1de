package dev.inferencebudget.controller.k8s;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.decision.ModelSpec;
import dev.inferencebudget.controller.decision.ReplicaCounts;
import dev.inferencebudget.controller.observe.GpuMemoryObserver;
import dev.inferencebudget.xds.api.Endpoint;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.List;
import java.util.Optional;

/**
 * One BudgetedModel as read from the caches in one cycle, with what stops the controller from
 * scaling it.
 *
 * @param key namespace/name
 * @param resource the cached resource (not to be mutated)
 * @param spec the decision core's spec, or empty when the resource's spec cannot be converted
 * @param deployment the target, when it exists
 * @param replicas counts of the target's pods
 * @param endpoints the target's pods with an IP
 * @param nodes nodes of the live pods
 * @param externalWriter who else writes the target's replicas, if anyone
 * @param problem why the model is not decided (spec invalid, target missing), if so
 * @param conflictingNames model names another model claimed first
 * @param readyReplicas the ready pods, for observing their GPU memory
 */
record ModelView(
    String key,
    BudgetedModel resource,
    Optional<ModelSpec> spec,
    Optional<Deployment> deployment,
    ReplicaCounts replicas,
    List<Endpoint> endpoints,
    List<String> nodes,
    Optional<String> externalWriter,
    Optional<Problem> problem,
    List<String> conflictingNames,
    List<GpuMemoryObserver.Target> readyReplicas) {

  /** Why the model is left out of the decision. */
  record Problem(String conditionType, String reason, String message) {}

  boolean decided() {
    return problem.isEmpty() && spec.isPresent();
  }
}

package dev.inferencebudget.controller.k8s;

import io.fabric8.kubernetes.api.model.Affinity;
import io.fabric8.kubernetes.api.model.NodeAffinity;
import io.fabric8.kubernetes.api.model.NodeSelectorRequirement;
import io.fabric8.kubernetes.api.model.NodeSelectorTermBuilder;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.PreferredSchedulingTerm;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Node warmth: a model scaled from zero prefers the nodes it last ran on, whose disks (or page
 * cache) still hold its weights. The desired Deployment is computed here, without I/O: a preferred
 * node affinity on {@code kubernetes.io/hostname}, the controller's own term recorded in an
 * annotation so it is replaced (not stacked) next time and the user's own affinity is kept.
 */
final class NodeWarmth {

  /** The nodes the controller's preferred term names, comma-separated. */
  static final String ANNOTATION = "inferencebudget.dev/preferred-nodes";

  static final String HOSTNAME = "kubernetes.io/hostname";

  /**
   * A preference, not a requirement: the scheduler still places the pod when those nodes are full.
   */
  static final int WEIGHT = 100;

  private NodeWarmth() {}

  /**
   * The Deployment with a preferred affinity for {@code nodes}, or empty when it already has it.
   */
  static Optional<Deployment> preferring(Deployment deployment, List<String> nodes) {
    Objects.requireNonNull(deployment, "deployment");
    List<String> wanted = List.copyOf(nodes);
    Map<String, String> annotations =
        deployment.getMetadata().getAnnotations() == null
            ? new HashMap<>()
            : new HashMap<>(deployment.getMetadata().getAnnotations());
    String previous = annotations.get(ANNOTATION);
    List<String> previousNodes =
        previous == null || previous.isEmpty() ? List.of() : Arrays.asList(previous.split(","));
    PodSpec pod =
        deployment.getSpec() == null || deployment.getSpec().getTemplate() == null
            ? null
            : deployment.getSpec().getTemplate().getSpec();
    if (pod == null) {
      return Optional.empty();
    }
    List<PreferredSchedulingTerm> terms = new ArrayList<>();
    NodeAffinity nodeAffinity =
        pod.getAffinity() == null ? null : pod.getAffinity().getNodeAffinity();
    if (nodeAffinity != null
        && nodeAffinity.getPreferredDuringSchedulingIgnoredDuringExecution() != null) {
      for (PreferredSchedulingTerm t :
          nodeAffinity.getPreferredDuringSchedulingIgnoredDuringExecution()) {
        if (!isOurs(t, previousNodes)) {
          terms.add(t);
        }
      }
    }
    if (wanted.equals(previousNodes) && terms.size() + 1 == count(nodeAffinity)) {
      return Optional.empty(); // our term is there, unchanged
    }
    if (!wanted.isEmpty()) {
      terms.add(ours(wanted));
    }
    annotations.put(ANNOTATION, String.join(",", wanted));
    Affinity affinity = pod.getAffinity() == null ? new Affinity() : pod.getAffinity();
    NodeAffinity next = nodeAffinity == null ? new NodeAffinity() : nodeAffinity;
    next.setPreferredDuringSchedulingIgnoredDuringExecution(terms);
    affinity.setNodeAffinity(next);
    return Optional.of(
        new DeploymentBuilder(deployment)
            .editMetadata()
            .withAnnotations(annotations)
            .endMetadata()
            .editSpec()
            .editTemplate()
            .editSpec()
            .withAffinity(affinity)
            .endSpec()
            .endTemplate()
            .endSpec()
            .build());
  }

  private static int count(NodeAffinity a) {
    return a == null || a.getPreferredDuringSchedulingIgnoredDuringExecution() == null
        ? 0
        : a.getPreferredDuringSchedulingIgnoredDuringExecution().size();
  }

  private static PreferredSchedulingTerm ours(List<String> nodes) {
    return new PreferredSchedulingTerm(
        new NodeSelectorTermBuilder()
            .addNewMatchExpression()
            .withKey(HOSTNAME)
            .withOperator("In")
            .withValues(nodes)
            .endMatchExpression()
            .build(),
        WEIGHT);
  }

  private static boolean isOurs(PreferredSchedulingTerm t, List<String> previousNodes) {
    if (previousNodes.isEmpty() || t.getPreference() == null) {
      return false;
    }
    List<NodeSelectorRequirement> e = t.getPreference().getMatchExpressions();
    return e != null
        && e.size() == 1
        && HOSTNAME.equals(e.get(0).getKey())
        && "In".equals(e.get(0).getOperator())
        && previousNodes.equals(e.get(0).getValues());
  }
}

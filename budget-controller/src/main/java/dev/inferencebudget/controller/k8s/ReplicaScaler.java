package dev.inferencebudget.controller.k8s;

/** Sets the replicas of a model's target workload; the only way the controller scales. */
@FunctionalInterface
public interface ReplicaScaler {

  /**
   * Sets {@code replicas} on the Deployment {@code namespace/name}.
   *
   * @throws io.fabric8.kubernetes.client.KubernetesClientException when the write fails after
   *     conflict retries (404 when the Deployment is gone)
   */
  void scale(String namespace, String name, int replicas);

  /**
   * Makes the Deployment's pods prefer {@code nodes} (node warmth), before a scale from zero. Does
   * nothing by default (a target kind without a pod template).
   */
  default void preferNodes(String namespace, String name, java.util.List<String> nodes) {}
}

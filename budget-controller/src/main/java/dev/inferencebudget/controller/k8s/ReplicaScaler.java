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
}

package dev.inferencebudget.harness.e2e;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Checks a budget at every change a client can watch: on each Pod event, the GPU memory held by the
 * namespace's pods (terminating ones included: they still hold their GPU); on each Deployment
 * event, the memory the Deployments' {@code spec.replicas} ask for. Each sum is taken from one
 * watch's store, so it is a consistent view of that resource at that event.
 */
final class BudgetWatch implements AutoCloseable {

  /** One moment where a sum went over the budget. */
  record Violation(String what, long bytes, String objects) {}

  private final long budgetBytes;
  private final Map<String, Long> bytesPerReplicaByApp;
  private final SharedIndexInformer<Pod> pods;
  private final SharedIndexInformer<Deployment> deployments;
  private final List<Violation> violations = new CopyOnWriteArrayList<>();
  private volatile long maxPodBytes;
  private volatile long maxDeploymentBytes;
  private volatile int changes;

  /**
   * @param bytesPerReplicaByApp each model's {@code gpuMemoryPerReplica} by its pods' {@code app}
   *     label (the Deployment name)
   */
  BudgetWatch(
      KubernetesClient client,
      String namespace,
      long budgetBytes,
      Map<String, Long> bytesPerReplicaByApp) {
    this.budgetBytes = budgetBytes;
    this.bytesPerReplicaByApp = Map.copyOf(bytesPerReplicaByApp);
    this.pods = client.pods().inNamespace(namespace).inform(handler(this::checkPods));
    this.deployments =
        client.apps().deployments().inNamespace(namespace).inform(handler(this::checkDeployments));
  }

  private <T extends HasMetadata> ResourceEventHandler<T> handler(Runnable check) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        check.run();
      }

      @Override
      public void onUpdate(T oldObj, T newObj) {
        check.run();
      }

      @Override
      public void onDelete(T obj, boolean deletedFinalStateUnknown) {
        check.run();
      }
    };
  }

  private synchronized void checkPods() {
    changes++;
    long sum = 0;
    StringBuilder objects = new StringBuilder();
    for (Pod pod : pods.getStore().list()) {
      String app = pod.getMetadata().getLabels().getOrDefault("app", "");
      sum += bytesPerReplicaByApp.getOrDefault(app, 0L);
      objects.append(pod.getMetadata().getName()).append(' ');
    }
    maxPodBytes = Math.max(maxPodBytes, sum);
    if (sum > budgetBytes) {
      violations.add(new Violation("pods", sum, objects.toString()));
    }
  }

  private synchronized void checkDeployments() {
    changes++;
    long sum = 0;
    StringBuilder objects = new StringBuilder();
    for (Deployment d : deployments.getStore().list()) {
      int replicas = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
      sum += replicas * bytesPerReplicaByApp.getOrDefault(d.getMetadata().getName(), 0L);
      objects.append(d.getMetadata().getName()).append('=').append(replicas).append(' ');
    }
    maxDeploymentBytes = Math.max(maxDeploymentBytes, sum);
    if (sum > budgetBytes) {
      violations.add(new Violation("deployments", sum, objects.toString()));
    }
  }

  List<Violation> violations() {
    return List.copyOf(violations);
  }

  long maxPodBytes() {
    return maxPodBytes;
  }

  long maxDeploymentBytes() {
    return maxDeploymentBytes;
  }

  /** Events checked so far. */
  int changes() {
    return changes;
  }

  @Override
  public void close() {
    pods.close();
    deployments.close();
  }
}

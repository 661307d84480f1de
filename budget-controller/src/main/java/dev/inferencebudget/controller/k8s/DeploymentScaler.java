package dev.inferencebudget.controller.k8s;

import io.fabric8.kubernetes.api.model.autoscaling.v1.Scale;
import io.fabric8.kubernetes.api.model.autoscaling.v1.ScaleBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.Objects;

/**
 * Scales a Deployment through its scale subresource: GET /scale, then PUT it back with the new
 * replicas and the resourceVersion just read, so a concurrent writer makes the PUT fail with 409
 * and the retry starts from fresh state.
 */
public final class DeploymentScaler implements ReplicaScaler {

  private final KubernetesClient client;
  private final int conflictRetries;
  private final Runnable onConflict;

  public DeploymentScaler(KubernetesClient client, int conflictRetries, Runnable onConflict) {
    this.client = Objects.requireNonNull(client, "client");
    this.conflictRetries = conflictRetries;
    this.onConflict = Objects.requireNonNull(onConflict, "onConflict");
  }

  @Override
  public void scale(String namespace, String name, int replicas) {
    Conflicts.retry(
        conflictRetries,
        onConflict,
        () -> {
          var deployment = client.apps().deployments().inNamespace(namespace).withName(name);
          Scale current = deployment.scale();
          if (current == null) {
            throw new io.fabric8.kubernetes.client.KubernetesClientException(
                "deployment " + namespace + "/" + name + " not found", 404, null);
          }
          Scale desired =
              new ScaleBuilder(current).editOrNewSpec().withReplicas(replicas).endSpec().build();
          return deployment.scale(desired);
        });
  }

  @Override
  public void preferNodes(String namespace, String name, java.util.List<String> nodes) {
    // edit() reads, applies and writes with the resourceVersion it read: a 409 means fresh state.
    Conflicts.retry(
        conflictRetries,
        onConflict,
        () ->
            client
                .apps()
                .deployments()
                .inNamespace(namespace)
                .withName(name)
                .edit(d -> NodeWarmth.preferring(d, nodes).orElse(d)));
  }
}

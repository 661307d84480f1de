package dev.inferencebudget.harness.sandbox;

import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * A Kubernetes API server the caller runs instead of the sandbox's embedded one (the Testcontainers
 * scenarios run K3s). The sandbox registers the CRDs on it, runs the simulated kubelet against it
 * and closes it with itself.
 */
public interface ApiServer extends AutoCloseable {

  /** A client of it, shared by the sandbox's components. */
  KubernetesClient client();

  /** Stops it (and closes the client). */
  @Override
  void close();

  /** An API server the caller already started; {@code stop} closes the client and stops it. */
  static ApiServer of(KubernetesClient client, Runnable stop) {
    java.util.Objects.requireNonNull(client, "client");
    java.util.Objects.requireNonNull(stop, "stop");
    return new ApiServer() {
      @Override
      public KubernetesClient client() {
        return client;
      }

      @Override
      public void close() {
        stop.run();
      }
    };
  }
}

package dev.inferencebudget.harness.cluster;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.time.InstantSource;
import java.util.Objects;

/**
 * An embedded API server with a simulated kubelet and the Vert.x instance its simulators share: the
 * one-call cluster for tests and the sandbox. Create Deployments through {@link #client()}; their
 * replicas become vLLM simulators, Pods and EndpointSlices.
 */
public final class SimulatedCluster implements AutoCloseable {
  private final EmbeddedApiServer apiServer;
  private final Vertx vertx;
  private final SimulatedKubelet kubelet;

  private SimulatedCluster(EmbeddedApiServer apiServer, Vertx vertx, SimulatedKubelet kubelet) {
    this.apiServer = apiServer;
    this.vertx = vertx;
    this.kubelet = kubelet;
  }

  /** Starts an API server on loopback and a kubelet watching it, in real time. */
  public static SimulatedCluster start(SimulatedKubeletConfig config) {
    Objects.requireNonNull(config, "config").validate();
    EmbeddedApiServer apiServer = EmbeddedApiServer.start();
    Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setWorkerPoolSize(1));
    try {
      SimulatedKubelet kubelet =
          SimulatedKubelet.start(apiServer.client(), vertx, config, InstantSource.system());
      return new SimulatedCluster(apiServer, vertx, kubelet);
    } catch (RuntimeException e) {
      vertx.close();
      apiServer.close();
      throw e;
    }
  }

  public EmbeddedApiServer apiServer() {
    return apiServer;
  }

  /** A client of the embedded API server (shared; closed with the cluster). */
  public KubernetesClient client() {
    return apiServer.client();
  }

  public SimulatedKubelet kubelet() {
    return kubelet;
  }

  @Override
  public void close() {
    kubelet.close();
    vertx.close().toCompletionStage().toCompletableFuture().join();
    apiServer.close();
  }
}

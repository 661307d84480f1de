package dev.inferencebudget.harness.e2e;

import dev.inferencebudget.harness.sandbox.ApiServer;
import dev.inferencebudget.harness.sandbox.DataPlane;
import dev.inferencebudget.harness.sandbox.Sandbox;
import dev.inferencebudget.harness.sandbox.SandboxConfig;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;
import org.testcontainers.utility.MountableFile;

/**
 * The scenarios' system on real parts where Docker exists: K3s as the API server (a real
 * kube-apiserver: CRD schema validation, status subresources, watches) and the {@code
 * envoyproxy/envoy} image started with the repository's standalone bootstrap ({@code
 * envoy/envoy.yaml}), given to {@link Sandbox#builder} as its API server and data plane. The
 * controller, ext-proc and the simulated kubelet (vLLM simulators on loopback) run in the test JVM
 * as with the stand-in.
 *
 * <p>K3s runs without its controller manager and scheduler: the simulated kubelet plays the nodes
 * and turns Deployment replicas into Pods and EndpointSlices itself (a real Deployment controller
 * would create ReplicaSets and pods that no node could run). Envoy runs with the host's network so
 * that it reaches the simulators, the controller's ADS and ext-proc on 127.0.0.1 (Docker on Linux).
 *
 * <p>Not run on the development and CI machines (no Docker there): these classes compile and are
 * skipped ({@code @Testcontainers(disabledWithoutDocker = true)}).
 */
final class Containers {

  /** K3s of the Kubernetes minor the chart targets. */
  static final DockerImageName K3S = DockerImageName.parse("rancher/k3s:v1.31.5-k3s1");

  /** The Envoy the chart deploys ({@code charts/.../values.yaml}, {@code envoy.image.tag}). */
  static final DockerImageName ENVOY = DockerImageName.parse("envoyproxy/envoy:v1.36.2");

  private Containers() {}

  /**
   * The sandbox on K3s with the Envoy image as its data plane: K3s starts first, then the
   * controller, ext-proc and the simulated kubelet on it, then Envoy pointed at their ports.
   */
  static Sandbox start(SandboxConfig config) {
    long startNanos = System.nanoTime();
    Sandbox started =
        E2e.sandbox(config).apiServer(Containers::k3s).dataPlane(Containers::envoy).start();
    System.out.printf(
        "sandbox on K3s and Envoy started in %d ms%n",
        (System.nanoTime() - startNanos) / 1_000_000);
    return started;
  }

  private static ApiServer k3s() {
    K3sContainer k3s =
        new K3sContainer(K3S)
            .withCommand(
                "server",
                "--disable=traefik,servicelb,metrics-server,local-storage",
                "--disable-controller-manager",
                "--disable-scheduler",
                "--tls-san=" + DockerClientFactory.instance().dockerHostIpAddress());
    k3s.start();
    KubernetesClient client =
        new KubernetesClientBuilder()
            .withConfig(Config.fromKubeconfig(k3s.getKubeConfigYaml()))
            .build();
    return ApiServer.of(
        client,
        () -> {
          client.close();
          k3s.stop();
        });
  }

  /** The standalone bootstrap with the sandbox's loopback ports, in a host-network container. */
  private static DataPlane envoy(DataPlane.Ports ports) {
    int listenerPort = ports.dataPlanePort() != 0 ? ports.dataPlanePort() : freePort();
    Path bootstrap;
    try {
      bootstrap = Files.createTempFile("ibc-e2e-envoy", ".yaml");
      Files.writeString(
          bootstrap,
          ports
              .withDataPlanePort(listenerPort)
              .rewriteEnvoyBootstrap(
                  Files.readString(SandboxConfig.repositoryPath("envoy/envoy.yaml"))));
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    GenericContainer<?> envoy =
        new GenericContainer<>(ENVOY)
            .withNetworkMode("host")
            .withCopyFileToContainer(MountableFile.forHostPath(bootstrap), "/etc/envoy/envoy.yaml")
            .withCommand("-c", "/etc/envoy/envoy.yaml", "--log-level", "warn")
            .waitingFor(
                Wait.forLogMessage(".*starting main dispatch loop.*", 1)
                    .withStartupTimeout(Duration.ofSeconds(60)));
    envoy.start();
    return new DataPlane() {
      @Override
      public int port() {
        return listenerPort;
      }

      @Override
      public Optional<String> failure() {
        return envoy.isRunning()
            ? Optional.empty()
            : Optional.of("the Envoy container stopped; its log:\n" + envoy.getLogs());
      }

      @Override
      public void close() {
        envoy.stop();
      }
    };
  }

  private static int freePort() {
    try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}

package dev.inferencebudget.harness.e2e;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * envoy/envoy.yaml}). The controller, ext-proc and the simulated kubelet (vLLM simulators on
 * loopback) run in the test JVM as with the stand-in.
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

  /** Starts K3s, then the system on it, then Envoy pointed at the system's ports. */
  static E2eSystem start(E2eSystem.Timings timings) throws Exception {
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
    AutoCloseable apiServer =
        () -> {
          client.close();
          k3s.stop();
        };
    try {
      return E2eSystem.start(timings, client, apiServer, Containers::envoy);
    } catch (Exception | Error e) {
      apiServer.close();
      throw e;
    }
  }

  private static E2eSystem.DataPlane envoy(E2eSystem.Ports ports) {
    int listenerPort = freePort();
    Path bootstrap;
    try {
      bootstrap = Files.createTempFile("ibc-e2e-envoy", ".yaml");
      Files.writeString(
          bootstrap,
          rewrite(
              Files.readString(Path.of("..", "envoy", "envoy.yaml")),
              ports.xdsPort(),
              ports.extProcPort(),
              listenerPort));
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
    return new E2eSystem.DataPlane() {
      @Override
      public String baseUrl() {
        return "http://127.0.0.1:" + listenerPort + "/v1";
      }

      @Override
      public void close() {
        envoy.stop();
      }
    };
  }

  /**
   * The standalone bootstrap with the Helm Services' addresses replaced by loopback ports, as
   * {@code harness.sandbox.EnvoyProcess} does for an {@code envoy} binary.
   */
  static String rewrite(String bootstrap, int xdsPort, int extProcPort, int listenerPort) {
    return replaceOnce(
        replaceOnce(
            replaceOnce(
                bootstrap,
                "{address: ibc-controller, port_value: 18000}",
                "{address: 127.0.0.1, port_value: " + xdsPort + "}"),
            "{address: ext-proc, port_value: 9002}",
            "{address: 127.0.0.1, port_value: " + extProcPort + "}"),
        "{address: 0.0.0.0, port_value: 8080}",
        "{address: 127.0.0.1, port_value: " + listenerPort + "}");
  }

  private static String replaceOnce(String text, String target, String replacement) {
    int at = text.indexOf(target);
    if (at < 0 || text.indexOf(target, at + 1) >= 0) {
      throw new IllegalArgumentException("envoy/envoy.yaml must contain " + target + " once");
    }
    return text.replace(target, replacement);
  }

  private static int freePort() {
    try (var socket = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}

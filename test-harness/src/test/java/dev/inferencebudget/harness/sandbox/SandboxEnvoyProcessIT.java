package dev.inferencebudget.harness.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.util.JsonFormat;
import dev.inferencebudget.harness.xds.AdsClient;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sandbox's real-Envoy path ({@code --data-plane envoy}, {@link EnvoyProcess}) with a fake
 * {@code envoy}: a shell script that records its command line and copies the bootstrap it was
 * given, then exits or stays up. No Envoy binary can be installed here, so what a real Envoy does
 * with the bootstrap is not tested; what the sandbox gives it and how it waits for it are.
 */
class SandboxEnvoyProcessIT {

  private static final Duration PATIENCE = Duration.ofSeconds(60);

  /** Every typed_config envoy/envoy.yaml uses; parsing fails on any other. */
  private static final JsonFormat.TypeRegistry TYPES =
      JsonFormat.TypeRegistry.newBuilder()
          .add(HttpConnectionManager.getDescriptor())
          .add(ExternalProcessor.getDescriptor())
          .add(Router.getDescriptor())
          .add(HttpProtocolOptions.getDescriptor())
          .build();

  @TempDir Path dir;

  @Test
  void anEnvoyThatExitsAtOnceFailsTheStartWithItsExitCodeAndItsLogFile() throws Exception {
    Path envoy =
        fakeEnvoy("echo 'fake envoy: cannot load the bootstrap' >&2", "exit 3"); // then exits
    SandboxConfig config =
        SandboxConfig.forTests()
            .withManifests(List.of())
            .withPorts(freePort(), 0, 0, 0)
            .withEnvoyBinary(envoy);

    assertThatThrownBy(() -> Sandbox.start(config, step -> {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("envoy exited with code 3")
        .satisfies(
            e -> {
              String message = e.getMessage();
              Path log = Path.of(message.substring(message.indexOf("its log: ") + 9).trim());
              assertThat(log.getFileName()).hasToString("envoy.log");
              assertThat(log).content().contains("fake envoy: cannot load the bootstrap");
            });
  }

  @Test
  void anEnvoyThatStaysUpGetsTheRewrittenBootstrapAndTheSandboxWaitsForItsAdsSync()
      throws Exception {
    Path envoy = fakeEnvoy("exec sleep 300"); // stays up until the sandbox stops it
    int listenerPort = freePort();
    SandboxConfig config =
        SandboxConfig.forTests().withPorts(listenerPort, 0, 0, 0).withEnvoyBinary(envoy);

    CompletableFuture<Sandbox> starting =
        CompletableFuture.supplyAsync(() -> Sandbox.start(config, step -> {}));
    Sandbox sandbox = null;
    try {
      await().atMost(PATIENCE).until(() -> Files.exists(dir.resolve("argv")));

      // the command line
      List<String> argv = Files.readAllLines(dir.resolve("argv"));
      assertThat(argv)
          .hasSize(6)
          .startsWith("-c")
          .endsWith(
              "--log-level", "warn", "--base-id", Long.toString(ProcessHandle.current().pid()));
      Path given = Path.of(argv.get(1));
      assertThat(given.resolveSibling("envoy.log")).as("its log, next to its bootstrap").exists();

      // the bootstrap: envoy/envoy.yaml with exactly the three addresses replaced
      String bootstrapText = Files.readString(dir.resolve("bootstrap.yaml"));
      Bootstrap bootstrap = parse(bootstrapText);
      int xdsPort = port(staticCluster(bootstrap, adsClusterName(bootstrap)));
      int extProcPort = port(staticCluster(bootstrap, extProcClusterName(bootstrap)));
      String original = Files.readString(config.envoyBootstrap());
      assertThat(bootstrapText)
          .isEqualTo(
              original
                  .replace(
                      "{address: ibc-controller, port_value: 18000}",
                      "{address: 127.0.0.1, port_value: " + xdsPort + "}")
                  .replace(
                      "{address: ext-proc, port_value: 9002}",
                      "{address: 127.0.0.1, port_value: " + extProcPort + "}")
                  .replace(
                      "{address: 0.0.0.0, port_value: 8080}",
                      "{address: 127.0.0.1, port_value: " + listenerPort + "}"));
      assertThat(bootstrapText)
          .as("no address outside the sandbox's loopback")
          .doesNotContain("address: ibc-controller")
          .doesNotContain("address: ext-proc")
          .doesNotContain("address: 0.0.0.0");

      // The fake never speaks ADS, so the sandbox is still waiting for it to sync.
      assertThat(starting).as("waiting for Envoy's ADS sync").isNotDone();
      // The test connects to the xDS address of the bootstrap, as Envoy would, with its node and
      // route table names: the sandbox is ready once that stream has synced.
      HttpConnectionManager hcm = hcm(bootstrap);
      try (AdsClient ads =
          AdsClient.connect(
              "127.0.0.1",
              xdsPort,
              AdsClient.Options.standaloneEnvoy(
                  bootstrap.getNode().getId(), hcm.getRds().getRouteConfigName()))) {
        sandbox = starting.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);

        assertThat(sandbox.xdsPort()).as("the bootstrap's xDS port").isEqualTo(xdsPort);
        assertThat(sandbox.extProcPort())
            .as("the bootstrap's ext_proc port")
            .isEqualTo(extProcPort);
        assertThat(sandbox.dataPlanePort()).isEqualTo(listenerPort);
        assertThat(sandbox.baseUrl()).isEqualTo("http://127.0.0.1:" + listenerPort + "/v1");
        assertThat(sandbox.standInIfRunning()).isEmpty();
        assertThat(sandbox.controller().xds().syncedClients()).isEqualTo(1);
      }

      long pid = Long.parseLong(Files.readString(dir.resolve("pid")).trim());
      assertThat(ProcessHandle.of(pid)).hasValueSatisfying(p -> assertThat(p.isAlive()).isTrue());
      sandbox.close();
      assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive))
          .as("Envoy stopped with the sandbox")
          .isEmpty();
    } finally {
      if (sandbox != null) {
        sandbox.close();
      }
      // a failed assertion before the sandbox was ready: stop it when it is
      starting.thenAccept(Sandbox::close);
    }
  }

  /**
   * A fake {@code envoy} in {@link #dir}: records its pid, its arguments ({@code argv}, one per
   * line) and a copy of the file after {@code -c} ({@code bootstrap.yaml}), then runs {@code
   * behaviour}.
   */
  private Path fakeEnvoy(String... behaviour) throws IOException {
    Path script = dir.resolve("envoy");
    String body =
        String.join(
            "\n",
            "#!/bin/sh",
            "out=$(dirname \"$0\")",
            "echo $$ > \"$out/pid\"",
            "printf '%s\\n' \"$@\" > \"$out/argv.tmp\"",
            "while [ $# -gt 0 ]; do",
            "  if [ \"$1\" = -c ]; then cp \"$2\" \"$out/bootstrap.yaml\"; fi",
            "  shift",
            "done",
            "mv \"$out/argv.tmp\" \"$out/argv\"",
            String.join("\n", behaviour),
            "");
    Files.writeString(script, body);
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwx------"));
    return script;
  }

  /** A port free now, for the listener Envoy would bind (the fake binds nothing). */
  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }

  /** As {@code EnvoyBootstrapTest} (xds-control-plane) parses envoy/envoy.yaml. */
  private static Bootstrap parse(String yaml) throws IOException {
    String json =
        new ObjectMapper().writeValueAsString(new ObjectMapper(new YAMLFactory()).readTree(yaml));
    Bootstrap.Builder builder = Bootstrap.newBuilder();
    // not ignoringUnknownFields: a misspelt field fails here as it would fail Envoy
    JsonFormat.parser().usingTypeRegistry(TYPES).merge(json, builder);
    return builder.build();
  }

  private static String adsClusterName(Bootstrap bootstrap) {
    return bootstrap
        .getDynamicResources()
        .getAdsConfig()
        .getGrpcServices(0)
        .getEnvoyGrpc()
        .getClusterName();
  }

  private static HttpConnectionManager hcm(Bootstrap bootstrap) throws IOException {
    return bootstrap
        .getStaticResources()
        .getListeners(0)
        .getFilterChains(0)
        .getFilters(0)
        .getTypedConfig()
        .unpack(HttpConnectionManager.class);
  }

  private static String extProcClusterName(Bootstrap bootstrap) throws IOException {
    return hcm(bootstrap)
        .getHttpFilters(0)
        .getTypedConfig()
        .unpack(ExternalProcessor.class)
        .getGrpcService()
        .getEnvoyGrpc()
        .getClusterName();
  }

  private static Cluster staticCluster(Bootstrap bootstrap, String name) {
    return bootstrap.getStaticResources().getClustersList().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no static cluster " + name));
  }

  private static int port(Cluster cluster) {
    var address =
        cluster
            .getLoadAssignment()
            .getEndpoints(0)
            .getLbEndpoints(0)
            .getEndpoint()
            .getAddress()
            .getSocketAddress();
    assertThat(address.getAddress()).as(cluster.getName() + "'s host").isEqualTo("127.0.0.1");
    return address.getPortValue();
  }
}

package dev.inferencebudget.harness.tls;

import static dev.inferencebudget.harness.tls.HealthProbe.assertRefused;
import static dev.inferencebudget.harness.tls.HealthProbe.health;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.controller.k8s.BudgetController;
import dev.inferencebudget.extproc.Main;
import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.grpc.ExtProcServer;
import dev.inferencebudget.extproc.local.InMemoryControllerLink;
import dev.inferencebudget.extproc.local.InMemoryModelStates;
import dev.inferencebudget.harness.cluster.Crds;
import dev.inferencebudget.harness.cluster.EmbeddedApiServer;
import dev.inferencebudget.proto.tls.GrpcTls;
import dev.inferencebudget.xds.api.XdsConfig;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code IBC_TLS_DIR} turns on TLS for every gRPC port of both processes: ext-proc's ext_proc
 * server, the controller's xDS and link API servers, and ext-proc's client to the controller. A
 * certificate authority is generated per test run; a client with a certificate from it connects, a
 * plaintext client and clients without (or with a foreign) certificate are refused.
 */
class GrpcTlsIT {

  @TempDir Path temp;

  private final List<AutoCloseable> closing = new ArrayList<>();
  private Path secret;
  private GrpcTls tls;

  @BeforeEach
  void issueCertificates() throws Exception {
    // TLS checks validity against the system clock, so the certificates start shortly before now
    Instant notBefore = Instant.now().minus(Duration.ofHours(1));
    secret = new TestPki("ibc test CA", notBefore).writeSecret(temp.resolve("tls"), true);
    tls = GrpcTls.fromEnvironment(Map.of(GrpcTls.ENV, secret.toString()));
  }

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  @Test
  void extProcServesMutualTlsOnlyToClientsWithACertificateFromTheCa() throws Exception {
    int port = startExtProc(tls);

    assertThat(health(port, tls.channelCredentials())).isEqualTo(ServingStatus.SERVING);
    assertRefused(port, InsecureChannelCredentials.create());
    assertRefused(
        port,
        TlsChannelCredentials.newBuilder().trustManager(secret.resolve("ca.crt").toFile()).build());
    Path foreign =
        new TestPki("another CA", Instant.now().minus(Duration.ofHours(1)))
            .writeSecret(temp.resolve("foreign"), false);
    assertRefused(
        port,
        TlsChannelCredentials.newBuilder()
            .trustManager(secret.resolve("ca.crt").toFile())
            .keyManager(foreign.resolve("tls.crt").toFile(), foreign.resolve("tls.key").toFile())
            .build());
  }

  @Test
  void controllerServesXdsAndTheLinkApiOverTlsAndExtProcsControllerChannelConnects()
      throws Exception {
    EmbeddedApiServer api = EmbeddedApiServer.start();
    closing.add(api);
    Crds.register(api.client(), Duration.ofSeconds(30));
    ControllerConfig defaults = ControllerConfig.defaults();
    BudgetController controller =
        new BudgetController(
                api.client(),
                defaults
                    .withPorts("127.0.0.1", 0, 0, 0)
                    .withLeaderElection(defaults.leaderElection().withEnabled(false)),
                XdsConfig.defaults().withListenAddress("127.0.0.1", 0),
                Clock.systemUTC(),
                new PrometheusRegistry())
            .serverCredentials(tls.serverCredentials())
            .start();
    closing.add(controller);

    // the channel ext-proc's Main opens to IBC_EXTPROC_CONTROLLER
    ManagedChannel link = Main.controllerChannel("127.0.0.1:" + controller.linkApiPort(), tls);
    closing.add(link::shutdownNow);
    assertThat(
            HealthGrpc.newBlockingStub(link)
                .withDeadlineAfter(20, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance())
                .getStatus())
        .isEqualTo(ServingStatus.SERVING);
    assertRefused(controller.linkApiPort(), InsecureChannelCredentials.create());
    // the ADS port serves no health service: UNIMPLEMENTED proves the TLS connection was made
    assertThatThrownBy(() -> health(controller.xdsPort(), tls.channelCredentials()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED));
    assertRefused(controller.xdsPort(), InsecureChannelCredentials.create());
  }

  @Test
  void withClientAuthenticationOffTlsClientsWithoutACertificateConnectButPlaintextStillFails()
      throws Exception {
    GrpcTls serverOnly =
        GrpcTls.fromEnvironment(
            Map.of(GrpcTls.ENV, secret.toString(), GrpcTls.CLIENT_AUTH_ENV, "none"));
    int port = startExtProc(serverOnly);

    assertThat(
            health(
                port,
                TlsChannelCredentials.newBuilder()
                    .trustManager(secret.resolve("ca.crt").toFile())
                    .build()))
        .isEqualTo(ServingStatus.SERVING);
    assertRefused(port, InsecureChannelCredentials.create());
  }

  @Test
  void theEnvironmentSelectsPlaintextTlsOrAnErrorThatNamesTheProblem() throws Exception {
    assertThat(GrpcTls.fromEnvironment(Map.of()).enabled()).isFalse();
    assertThat(GrpcTls.fromEnvironment(Map.of(GrpcTls.ENV, " ")).enabled()).isFalse();
    assertThat(tls.enabled()).isTrue();
    assertThat(tls.hasCa()).isTrue();
    assertThatThrownBy(
            () ->
                GrpcTls.fromEnvironment(
                    Map.of(GrpcTls.ENV, secret.toString(), GrpcTls.CLIENT_AUTH_ENV, "optional")))
        .hasMessageContaining(GrpcTls.CLIENT_AUTH_ENV);
    Files.delete(secret.resolve("tls.key"));
    assertThatThrownBy(() -> tls.serverCredentials())
        .isInstanceOf(IOException.class)
        .hasMessageContaining("tls.key");
  }

  private int startExtProc(GrpcTls serverTls) throws Exception {
    ExtProcServer server =
        ExtProcServer.builder(loopback(ExtProcConfig.defaults()))
            .modelStates(new InMemoryModelStates())
            .controllerLink(new InMemoryControllerLink())
            .serverCredentials(serverTls.serverCredentials())
            .build()
            .start();
    closing.add(server);
    return server.port();
  }

  private static ExtProcConfig loopback(ExtProcConfig d) {
    return new ExtProcConfig(
        "127.0.0.1",
        0,
        -1,
        d.replicaName(),
        d.routingMode(),
        d.routingHeader(),
        d.maxRequestBodyBytes(),
        d.maxMessageTimeout(),
        d.holdOverrideTimeout(),
        d.tenantHeaderDefault(),
        d.priorityHeader(),
        d.tokenizerDirectory());
  }
}

package dev.inferencebudget.harness.tls;

import static dev.inferencebudget.harness.tls.HealthProbe.assertRefused;
import static dev.inferencebudget.harness.tls.HealthProbe.health;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.inferencebudget.proto.tls.GrpcTls;
import io.grpc.ChannelCredentials;
import io.grpc.Server;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.grpc.util.CertificateUtils;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLEngine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * cert-manager renews a certificate by rewriting the mounted Secret; the kubelet publishes the new
 * files by swapping the volume's {@code ..data} symlink. {@link GrpcTls} re-reads the files every
 * reload period, so servers present, and clients trust, the renewed material on new connections
 * without a restart. The volume here is laid out and swapped the way the kubelet does it.
 */
class GrpcTlsRotationTest {

  /** Short, so the test waits little; production default is a minute. */
  private static final Duration RELOAD_PERIOD = Duration.ofMillis(100);

  private static final Duration WITHIN = Duration.ofSeconds(20);

  @TempDir Path temp;

  private final List<AutoCloseable> closing = new ArrayList<>();
  private Instant notBefore;

  @BeforeEach
  void clock() {
    // TLS checks validity against the system clock, so the certificates start shortly before now
    notBefore = Instant.now().minus(Duration.ofHours(1));
  }

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  @Test
  void aRenewedServerCertificateReachesNewConnectionsWithinTheReloadPeriodAndMutualTlsStillHolds()
      throws Exception {
    TestPki ca = new TestPki("ibc test CA", notBefore);
    Path serverVolume = publish(temp.resolve("server"), ca);
    X509Certificate first = certificate(serverVolume);
    Path client = ca.writeSecret(temp.resolve("client"), true);
    GrpcTls serverTls = new GrpcTls(Optional.of(serverVolume), true, RELOAD_PERIOD);
    closing.add(serverTls);
    int port = startHealthServer(serverTls.serverCredentials());
    assertThat(presentedCertificate(port, client)).isEqualTo(first);

    publish(serverVolume, ca); // renewed: a new key pair from the same CA
    X509Certificate renewed = certificate(serverVolume);
    assertThat(renewed).isNotEqualTo(first);

    await()
        .atMost(WITHIN)
        .untilAsserted(() -> assertThat(presentedCertificate(port, client)).isEqualTo(renewed));
    // still mutual TLS: a client without a certificate from the CA is refused
    assertRefused(
        port,
        TlsChannelCredentials.newBuilder().trustManager(client.resolve("ca.crt").toFile()).build());
  }

  @Test
  void aNewCaInBothSecretsIsUsedByServerAndClientCredentialsBuiltBeforeTheRotation()
      throws Exception {
    TestPki oldCa = new TestPki("old CA", notBefore);
    TestPki newCa = new TestPki("new CA", notBefore);
    Path serverVolume = publish(temp.resolve("server"), oldCa);
    Path clientVolume = publish(temp.resolve("client"), oldCa);
    GrpcTls serverTls = new GrpcTls(Optional.of(serverVolume), true, RELOAD_PERIOD);
    GrpcTls clientTls = new GrpcTls(Optional.of(clientVolume), true, RELOAD_PERIOD);
    closing.add(serverTls);
    closing.add(clientTls);
    int port = startHealthServer(serverTls.serverCredentials());
    // built once, as ext-proc builds its controller channel once
    ChannelCredentials clientCredentials = clientTls.channelCredentials();
    assertThat(health(port, clientCredentials)).isEqualTo(ServingStatus.SERVING);
    Path stillOld = oldCa.writeSecret(temp.resolve("still-old"), true);
    ChannelCredentials stillOldCredentials = fixedCredentials(stillOld);
    assertThat(health(port, stillOldCredentials)).isEqualTo(ServingStatus.SERVING);

    publish(serverVolume, newCa);
    // the server no longer accepts (and no longer presents) the old CA's material
    await().atMost(WITHIN).untilAsserted(() -> assertRefused(port, stillOldCredentials));
    publish(clientVolume, newCa);
    // the client's credentials, built before, now trust the new CA and present its certificate
    await()
        .atMost(WITHIN)
        .ignoreExceptions()
        .untilAsserted(
            () -> assertThat(health(port, clientCredentials)).isEqualTo(ServingStatus.SERVING));
    assertThat(presentedCertificate(port, newCa.writeSecret(temp.resolve("new-client"), true)))
        .isEqualTo(certificate(serverVolume));
  }

  @Test
  void closingStopsTheReloadThreadAndAPlaintextInstanceHasNone() throws Exception {
    // instances of other tests were closed; their threads end asynchronously
    await().atMost(WITHIN).until(() -> reloadThreads().isEmpty());
    GrpcTls plaintext = GrpcTls.plaintext();
    plaintext.serverCredentials();
    assertThat(reloadThreads()).isEmpty();
    plaintext.close();
    GrpcTls tls =
        new GrpcTls(
            Optional.of(publish(temp.resolve("tls"), new TestPki("ibc test CA", notBefore))),
            true,
            RELOAD_PERIOD);
    tls.serverCredentials();
    tls.channelCredentials();
    assertThat(reloadThreads()).hasSize(1); // one per instance, whatever it built

    tls.close();

    await().atMost(WITHIN).until(() -> reloadThreads().isEmpty());
  }

  private static List<Thread> reloadThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().equals("ibc-tls-reload") && t.isAlive())
        .toList();
  }

  @Test
  void theReloadPeriodComesFromTheEnvironmentAndABadOneIsNamed() {
    String dir = temp.toString();
    assertThat(GrpcTls.fromEnvironment(Map.of(GrpcTls.ENV, dir)).reloadPeriod())
        .isEqualTo(GrpcTls.DEFAULT_RELOAD_PERIOD)
        .isEqualTo(Duration.ofSeconds(60));
    assertThat(
            GrpcTls.fromEnvironment(Map.of(GrpcTls.ENV, dir, GrpcTls.RELOAD_SECONDS_ENV, "5"))
                .reloadPeriod())
        .isEqualTo(Duration.ofSeconds(5));
    assertThat(
            GrpcTls.fromEnvironment(Map.of(GrpcTls.ENV, dir, GrpcTls.RELOAD_SECONDS_ENV, "0"))
                .reloadPeriod())
        .isZero();
    for (String bad : List.of("-1", "1m", "soon")) {
      assertThatThrownBy(
              () ->
                  GrpcTls.fromEnvironment(
                      Map.of(GrpcTls.ENV, dir, GrpcTls.RELOAD_SECONDS_ENV, bad)))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(GrpcTls.RELOAD_SECONDS_ENV);
    }
  }

  /**
   * Writes a new leaf certificate (and {@code ca.crt}) from {@code ca} into {@code volume} as the
   * kubelet updates a Secret volume: the files go into a fresh directory, a {@code ..data} symlink
   * is renamed over the old one (atomic), and {@code tls.crt} etc. are symlinks through it.
   */
  private static Path publish(Path volume, TestPki ca) throws Exception {
    Files.createDirectories(volume);
    Path version = Files.createTempDirectory(volume, "..version_");
    ca.writeSecret(version, true);
    Path next = volume.resolve("..data_tmp");
    Files.createSymbolicLink(next, version.getFileName());
    Files.move(next, volume.resolve("..data"), StandardCopyOption.ATOMIC_MOVE);
    for (String name : List.of("tls.crt", "tls.key", "ca.crt")) {
      Path link = volume.resolve(name);
      if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
        Files.createSymbolicLink(link, Path.of("..data", name));
      }
    }
    return volume;
  }

  private static X509Certificate certificate(Path secret) throws Exception {
    try (InputStream in = Files.newInputStream(secret.resolve("tls.crt"))) {
      return CertificateUtils.getX509Certificates(in)[0];
    }
  }

  private int startHealthServer(ServerCredentials credentials) throws Exception {
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0), credentials)
            .addService(new HealthStatusManager().getHealthService())
            .build()
            .start();
    closing.add(() -> server.shutdownNow().awaitTermination(10, TimeUnit.SECONDS));
    return server.getPort();
  }

  /** Credentials read once from {@code secret}: a client that never reloads. */
  private static ChannelCredentials fixedCredentials(Path secret) throws Exception {
    return TlsChannelCredentials.newBuilder()
        .trustManager(secret.resolve("ca.crt").toFile())
        .keyManager(secret.resolve("tls.crt").toFile(), secret.resolve("tls.key").toFile())
        .build();
  }

  /** The certificate the server at {@code port} presents to a fresh connection. */
  private static X509Certificate presentedCertificate(int port, Path client) throws Exception {
    AtomicReference<X509Certificate> presented = new AtomicReference<>();
    AdvancedTlsX509TrustManager trust =
        AdvancedTlsX509TrustManager.newBuilder()
            .setVerification(
                AdvancedTlsX509TrustManager.Verification.CERTIFICATE_AND_HOST_NAME_VERIFICATION)
            .setSslSocketAndEnginePeerVerifier(
                new AdvancedTlsX509TrustManager.SslSocketAndEnginePeerVerifier() {
                  @Override
                  public void verifyPeerCertificate(
                      X509Certificate[] chain, String authType, Socket socket) {
                    presented.set(chain[0]);
                  }

                  @Override
                  public void verifyPeerCertificate(
                      X509Certificate[] chain, String authType, SSLEngine engine) {
                    presented.set(chain[0]);
                  }
                })
            .build();
    trust.updateTrustCredentials(client.resolve("ca.crt").toFile());
    // as GrpcTls's clients: this key manager presents its certificate whatever CA names the
    // server lists (the server's list stays the one of its start; see docs/deploy.md)
    AdvancedTlsX509KeyManager key = new AdvancedTlsX509KeyManager();
    key.updateIdentityCredentials(
        client.resolve("tls.crt").toFile(), client.resolve("tls.key").toFile());
    ChannelCredentials credentials =
        TlsChannelCredentials.newBuilder().trustManager(trust).keyManager(key).build();
    assertThat(health(port, credentials)).isEqualTo(ServingStatus.SERVING);
    return presented.get();
  }
}

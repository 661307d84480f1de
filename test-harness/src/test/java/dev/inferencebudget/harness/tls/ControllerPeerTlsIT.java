package dev.inferencebudget.harness.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Timestamp;
import dev.inferencebudget.controller.Main;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudget;
import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.controller.k8s.BudgetController;
import dev.inferencebudget.controller.link.LeaderLink;
import dev.inferencebudget.controller.link.PeerTransport;
import dev.inferencebudget.harness.cluster.Crds;
import dev.inferencebudget.harness.cluster.EmbeddedApiServer;
import dev.inferencebudget.proto.tls.GrpcTls;
import dev.inferencebudget.proto.v1.ActivationRequest;
import dev.inferencebudget.proto.v1.ActivationResponse;
import dev.inferencebudget.proto.v1.BudgetControllerGrpc;
import dev.inferencebudget.xds.api.XdsConfig;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two controller replicas with TLS on every gRPC port, as the chart runs them: the standby dials
 * the leader by its pod IP (here 127.0.0.1), and the certificate, like cert-manager's for the
 * chart, names only the controller Service's DNS name. With {@code IBC_PEER_TLS_AUTHORITY} set to
 * that name the standby forwards over mutual TLS; without it, or with a name the certificate does
 * not cover, the handshake fails and the error says which name was checked.
 */
class ControllerPeerTlsIT {

  private static final String SERVICE = "ibc-controller.ibc-system.svc";
  private static final String NS = "team-a";
  private static final String KEY = NS + "/llama";

  @TempDir Path temp;

  private final List<AutoCloseable> closing = new ArrayList<>();
  private final Map<String, BudgetController> replicas = new ConcurrentHashMap<>();
  private GrpcTls tls;
  private EmbeddedApiServer api;

  @BeforeEach
  void start() throws Exception {
    // TLS checks validity against the system clock, so the certificates start shortly before now
    Path secret =
        new TestPki("ibc test CA", Instant.now().minus(Duration.ofHours(1)))
            .writeSecret(temp.resolve("tls"), true, List.of(SERVICE));
    tls = GrpcTls.fromEnvironment(Map.of(GrpcTls.ENV, secret.toString()));
    closing.add(tls); // stops re-reading the files
    api = EmbeddedApiServer.start();
    closing.add(api);
    Crds.register(api.client(), Duration.ofSeconds(30));
  }

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  @Test
  void aStandbyForwardsAnActivationToATlsLeaderCheckingTheServiceNameAsAuthority()
      throws Exception {
    KubernetesClient client = api.client();
    createColdModel(client);
    BudgetController leader = replica("controller-a", true);
    await().atMost(Duration.ofSeconds(30)).until(leader::isLeader);
    BudgetController standby = replica("controller-b", true);
    // the SyncPeer stream to the leader is up: mutual TLS with the authority override works
    await().atMost(Duration.ofSeconds(30)).until(standby::relaysLeader);
    assertThat(standby.isLeader()).isFalse();

    // ext-proc's link on the standby, also dialled by IP and checked against the Service name
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", standby.linkApiPort(), tls.channelCredentials())
            .overrideAuthority(SERVICE)
            .build();
    closing.add(channel::shutdownNow);
    ActivationResponse answer =
        BudgetControllerGrpc.newBlockingStub(channel)
            .withDeadlineAfter(20, TimeUnit.SECONDS)
            .activate(activation());

    assertThat(answer.getResult()).isEqualTo(ActivationResponse.Result.ACCEPTED);
    // only the leader writes: the activation reached it through the standby's TLS link
    await().atMost(Duration.ofSeconds(30)).until(() -> specReplicas(client) == 1);
  }

  @Test
  void withoutTheAuthorityOrWithOneTheCertificateDoesNotNameTheHandshakeFailsNamingIt()
      throws Exception {
    createColdModel(api.client());
    BudgetController leader = replica("controller-a", false);
    InetSocketAddress at = new InetSocketAddress("127.0.0.1", leader.linkApiPort());

    assertThat(forward(at, Optional.of(SERVICE)).get(20, TimeUnit.SECONDS).getResult())
        .isEqualTo(ActivationResponse.Result.ACCEPTED);
    assertThatThrownBy(() -> forward(at, Optional.empty()).get(20, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(LeaderLink.LeaderTlsException.class)
        .hasMessageContaining("no IBC_PEER_TLS_AUTHORITY")
        .hasMessageContaining("127.0.0.1");
    assertThatThrownBy(() -> forward(at, Optional.of("other.example")).get(20, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(LeaderLink.LeaderTlsException.class)
        .hasMessageContaining("'other.example'")
        .hasMessageContaining("subject alternative");
  }

  @Test
  void withTlsAndLeaderElectionTheControllerRefusesToStartWithoutAPeerAuthority() {
    Map<String, String> env = Map.of(GrpcTls.ENV, "/etc/ibc/tls");

    assertThatThrownBy(() -> Main.peerTlsAuthority(env, tls, true))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(Main.PEER_TLS_AUTHORITY_ENV);
    assertThat(Main.peerTlsAuthority(env, tls, false)).isEmpty();
    assertThat(Main.peerTlsAuthority(Map.of(), GrpcTls.plaintext(), true)).isEmpty();
    assertThat(Main.peerTlsAuthority(Map.of(Main.PEER_TLS_AUTHORITY_ENV, " " + SERVICE), tls, true))
        .contains(SERVICE);
  }

  private CompletableFuture<ActivationResponse> forward(
      InetSocketAddress leader, Optional<String> authority) throws Exception {
    LeaderLink link =
        new LeaderLink(states -> {}, new PeerTransport(tls.channelCredentials(), authority));
    closing.add(link);
    link.leaderAt(Optional.of(leader));
    return link.forwardActivation(activation()).orElseThrow();
  }

  /** A replica serving TLS, resolving other replicas to their loopback link ports. */
  private BudgetController replica(String identity, boolean leaderElection) throws Exception {
    ControllerConfig d = ControllerConfig.defaults();
    ControllerConfig config =
        d.withStartupGrace(Duration.ZERO)
            .withPorts("127.0.0.1", 0, 0, 0)
            .withTiming(Duration.ofMillis(20), Duration.ofMillis(200))
            .withLeaderElection(
                d.leaderElection()
                    .withIdentity(identity)
                    .withEnabled(leaderElection)
                    .withTimings(
                        Duration.ofSeconds(2), Duration.ofMillis(1500), Duration.ofMillis(200)));
    BudgetController controller =
        new BudgetController(
                api.client(),
                config,
                XdsConfig.defaults().withListenAddress("127.0.0.1", 0),
                Clock.systemUTC(),
                new PrometheusRegistry(),
                id ->
                    Optional.ofNullable(replicas.get(id))
                        .map(r -> new InetSocketAddress("127.0.0.1", r.linkApiPort())))
            .serverCredentials(tls.serverCredentials())
            .peerTransport(new PeerTransport(tls.channelCredentials(), Optional.of(SERVICE)));
    closing.add(controller);
    controller.start();
    replicas.put(identity, controller);
    return controller;
  }

  private static ActivationRequest activation() {
    Instant now = Instant.now();
    return ActivationRequest.newBuilder()
        .setKey(KEY)
        .setReplica("ext-proc-0")
        .setRequestedAt(Timestamp.newBuilder().setSeconds(now.getEpochSecond()))
        .build();
  }

  private static void createColdModel(KubernetesClient client) {
    var serialization = client.getKubernetesSerialization();
    client
        .resource(
            serialization.unmarshal(
                """
                apiVersion: inferencebudget.dev/v1alpha1
                kind: InferenceBudget
                metadata: {name: gpu, namespace: team-a}
                spec: {gpuMemory: 80Gi}
                """,
                InferenceBudget.class))
        .create();
    client
        .resource(
            serialization.unmarshal(
                """
                apiVersion: inferencebudget.dev/v1alpha1
                kind: BudgetedModel
                metadata: {name: llama, namespace: team-a}
                spec:
                  modelNames: [llama-3-8b]
                  targetRef: {name: llama}
                  budgetRef: {name: gpu}
                  gpuMemoryPerReplica: 24Gi
                """,
                BudgetedModel.class))
        .create();
    client.resource(deployment()).create();
  }

  private static Deployment deployment() {
    return new DeploymentBuilder()
        .withNewMetadata()
        .withNamespace(NS)
        .withName("llama")
        .endMetadata()
        .withNewSpec()
        .withReplicas(0)
        .withNewSelector()
        .withMatchLabels(Map.of("app", "llama"))
        .endSelector()
        .withNewTemplate()
        .withNewMetadata()
        .withLabels(Map.of("app", "llama"))
        .endMetadata()
        .withNewSpec()
        .addNewContainer()
        .withName("vllm")
        .withImage("vllm/vllm-openai")
        .endContainer()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  private static int specReplicas(KubernetesClient client) {
    Integer n =
        client.apps().deployments().inNamespace(NS).withName("llama").get().getSpec().getReplicas();
    return n == null ? 1 : n;
  }
}

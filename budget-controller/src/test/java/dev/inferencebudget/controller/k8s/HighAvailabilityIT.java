package dev.inferencebudget.controller.k8s;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Timestamp;
import dev.inferencebudget.proto.v1.ActivationRequest;
import dev.inferencebudget.proto.v1.ActivationResponse;
import dev.inferencebudget.proto.v1.BudgetControllerGrpc;
import dev.inferencebudget.proto.v1.LoadReport;
import dev.inferencebudget.proto.v1.ModelLoad;
import dev.inferencebudget.proto.v1.ModelState;
import dev.inferencebudget.proto.v1.ModelStates;
import dev.inferencebudget.proto.v1.ReportLoadResponse;
import dev.inferencebudget.proto.v1.WatchModelStatesRequest;
import dev.inferencebudget.xds.api.XdsConfig;
import dev.inferencebudget.xds.resources.EnvoyResources;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two controller replicas on one mock API server, as behind the chart's one Service: ext-proc's
 * link and an Envoy connected to the standby still get a cold model started, routable and served.
 */
class HighAvailabilityIT {

  private static final String NS = "team-a";
  private static final String KEY = "team-a/llama";
  private static final Instant T0 = Instant.parse("2026-11-28T09:00:00Z");

  private MockCluster.OwnServer cluster;
  private KubernetesClient client;

  private final TestClock clock = new TestClock(T0);
  private final Map<String, BudgetController> replicas = new ConcurrentHashMap<>();

  @BeforeEach
  void cluster() {
    cluster = new MockCluster.OwnServer();
    client = cluster.client;
  }

  @AfterEach
  void stop() throws Exception {
    cluster.close();
  }

  /** A replica with Lease election, resolving other replicas to their loopback link ports. */
  private BudgetController replica(String identity) throws Exception {
    // Real default: without an Envoy, nothing is routable (the Envoys may be on the other replica).
    XdsConfig xds = XdsConfig.defaults().withListenAddress("127.0.0.1", 0);
    BudgetController c =
        new BudgetController(
            client,
            MockCluster.config(identity, true),
            xds,
            clock,
            new PrometheusRegistry(),
            id ->
                Optional.ofNullable(replicas.get(id))
                    .map(r -> new InetSocketAddress("127.0.0.1", r.linkApiPort())));
    cluster.closeLater(c);
    c.start();
    replicas.put(identity, c);
    return c;
  }

  private int replicas(String deployment) {
    Integer n =
        client
            .apps()
            .deployments()
            .inNamespace(NS)
            .withName(deployment)
            .get()
            .getSpec()
            .getReplicas();
    return n == null ? 1 : n;
  }

  private static Optional<ModelState> model(ModelStates states) {
    return states == null
        ? Optional.empty()
        : states.getModelsList().stream().filter(s -> s.getKey().equals(KEY)).findFirst();
  }

  @Test
  void extProcAndEnvoyOnTheStandbyGetAColdModelStartedRoutableAndServed() throws Exception {
    FakeKubelet kubelet = new FakeKubelet(client, Duration.ofMillis(300)).start();
    cluster.closeLater(kubelet);
    MockCluster.createLlama(client, NS, 0, "10m");
    BudgetController leader = replica("controller-a");
    await().until(leader::isLeader);
    BudgetController standby = replica("controller-b");
    await().until(standby::relaysLeader);
    assertThat(standby.isLeader()).isFalse();

    // An Envoy on the standby only; the leader has none.
    MiniAdsClient envoy = new MiniAdsClient(standby.xdsPort(), "envoy-0");
    cluster.closeLater(envoy);
    await().until(() -> standby.xds().syncedClients() == 1);
    // ext-proc's link on the standby.
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", standby.linkApiPort()).usePlaintext().build();
    cluster.closeLater(channel::shutdownNow);
    AtomicReference<ModelStates> latest = new AtomicReference<>();
    BudgetControllerGrpc.newStub(channel)
        .watchModelStates(
            WatchModelStatesRequest.newBuilder().setReplica("ext-proc-0").build(),
            new StreamObserver<>() {
              @Override
              public void onNext(ModelStates states) {
                latest.set(states);
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
    await().until(() -> model(latest.get()).isPresent());
    assertThat(model(latest.get()).get().getRoutable()).isFalse();

    ActivationResponse answer =
        BudgetControllerGrpc.newBlockingStub(channel)
            .activate(
                ActivationRequest.newBuilder()
                    .setKey(KEY)
                    .setReplica("ext-proc-0")
                    .setRequestedAt(Timestamp.newBuilder().setSeconds(T0.getEpochSecond()))
                    .build());

    assertThat(answer.getResult()).isEqualTo(ActivationResponse.Result.ACCEPTED);
    await().until(() -> replicas("llama") == 1); // the leader scaled it
    // The Envoy on the standby got the ready endpoint, and then the ext-proc on the standby saw
    // the model routable with it.
    await().until(() -> envoy.endpoints(EnvoyResources.clusterName(KEY)).size() == 1);
    await()
        .until(
            () ->
                model(latest.get())
                    .map(s -> s.getRoutable() && s.getEndpointsCount() == 1)
                    .orElse(false));
    String address = envoy.endpoints(EnvoyResources.clusterName(KEY)).get(0);
    assertThat(model(latest.get()).get().getEndpoints(0).getAddress()).isEqualTo(address);
    // The leader, without Envoys of its own, counts the standby's.
    assertThat(model(leader.publisher().latest()).map(ModelState::getRoutable)).contains(true);
    assertThat(leader.peers().peers()).containsExactly("controller-b");
  }

  @Test
  void aModelIsRoutableOnlyOnceTheEnvoysOfEveryReplicaHaveItsEndpoints() throws Exception {
    MockCluster.createLlama(client, NS, 1, "10m");
    BudgetController leader = replica("controller-a");
    await().until(leader::isLeader);
    BudgetController standby = replica("controller-b");
    await().until(standby::relaysLeader);
    MiniAdsClient standbyEnvoy = new MiniAdsClient(standby.xdsPort(), "envoy-0");
    cluster.closeLater(standbyEnvoy);
    MiniAdsClient leaderEnvoy = new MiniAdsClient(leader.xdsPort(), "envoy-1");
    cluster.closeLater(leaderEnvoy);
    await().until(() -> standby.xds().syncedClients() == 1 && leader.xds().syncedClients() == 1);
    await().until(() -> leader.peers().peers().contains("controller-b"));

    standbyEnvoy.pauseEndpoints(); // a slow Envoy on the standby
    client.pods().inNamespace(NS).resource(readyPod("llama-1", "127.0.0.9")).create();

    await().until(() -> leaderEnvoy.endpoints(EnvoyResources.clusterName(KEY)).size() == 1);
    await().until(() -> leader.xds().isRoutable(KEY)); // the leader's own Envoy could send there
    await()
        .during(Duration.ofMillis(600))
        .until(
            () -> !model(leader.publisher().latest()).map(ModelState::getRoutable).orElse(false));
    standbyEnvoy.resume();
    await()
        .until(() -> model(leader.publisher().latest()).map(ModelState::getRoutable).orElse(false));
    await()
        .until(
            () -> model(standby.publisher().latest()).map(ModelState::getRoutable).orElse(false));

    // The replica goes away, then comes back while the standby's Envoy is slow again: unroutable
    // until the standby itself goes away, which ends its say.
    client.pods().inNamespace(NS).withName("llama-1").delete();
    await()
        .until(() -> !model(leader.publisher().latest()).map(ModelState::getRoutable).orElse(true));
    standbyEnvoy.pauseEndpoints();
    client.pods().inNamespace(NS).resource(readyPod("llama-2", "127.0.0.10")).create();
    await().until(() -> leader.xds().isRoutable(KEY));
    await()
        .during(Duration.ofMillis(400))
        .until(
            () -> !model(leader.publisher().latest()).map(ModelState::getRoutable).orElse(false));
    standby.close();
    await().until(() -> leader.peers().peers().isEmpty());
    await()
        .until(() -> model(leader.publisher().latest()).map(ModelState::getRoutable).orElse(false));
  }

  private static io.fabric8.kubernetes.api.model.Pod readyPod(String name, String ip) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withNamespace(NS)
        .withLabels(Map.of("app", "llama"))
        .endMetadata()
        .withNewStatus()
        .withPodIP(ip)
        .addNewCondition()
        .withType("Ready")
        .withStatus("True")
        .endCondition()
        .endStatus()
        .build();
  }

  @Test
  void aStandbyPassesLoadReportsToTheLeader() throws Exception {
    MockCluster.createLlama(client, NS, 0, "10m");
    BudgetController leader = replica("controller-a");
    await().until(leader::isLeader);
    BudgetController standby = replica("controller-b");
    await().until(standby::relaysLeader);
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", standby.linkApiPort()).usePlaintext().build();
    cluster.closeLater(channel::shutdownNow);

    StreamObserver<LoadReport> reports =
        BudgetControllerGrpc.newStub(channel)
            .reportLoad(
                new StreamObserver<ReportLoadResponse>() {
                  @Override
                  public void onNext(ReportLoadResponse value) {}

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
    reports.onNext(
        LoadReport.newBuilder()
            .setReplica("ext-proc-0")
            .addModels(ModelLoad.newBuilder().setKey(KEY).setHeld(2).setArrivals(2))
            .build());

    // Held requests reach the leader, which starts the model even without an activation.
    await().until(() -> leader.loads().snapshot().containsKey(KEY));
    assertThat(leader.loads().snapshot().get(KEY).held()).isEqualTo(2);
    await().until(() -> replicas("llama") == 1);
    // The ext-proc's stream ends: the leader stops counting its gauges.
    reports.onCompleted();
    await().until(() -> leader.loads().snapshot().get(KEY).held() == 0);
  }
}

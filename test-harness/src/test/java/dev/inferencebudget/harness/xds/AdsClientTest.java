package dev.inferencebudget.harness.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Any;
import com.google.protobuf.Message;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.config.endpoint.v3.LocalityLbEndpoints;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The client's requests, field by field, against a scripted in-process ADS server. */
class AdsClientTest {

  private final BlockingQueue<DiscoveryRequest> requests = new LinkedBlockingQueue<>();
  private final CompletableFuture<StreamObserver<DiscoveryResponse>> responses =
      new CompletableFuture<>();
  private Server server;
  private ManagedChannel channel;
  private AdsClient client;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(
                new AggregatedDiscoveryServiceGrpc.AggregatedDiscoveryServiceImplBase() {
                  @Override
                  public StreamObserver<DiscoveryRequest> streamAggregatedResources(
                      StreamObserver<DiscoveryResponse> observer) {
                    responses.complete(observer);
                    return new StreamObserver<>() {
                      @Override
                      public void onNext(DiscoveryRequest request) {
                        requests.add(request);
                      }

                      @Override
                      public void onError(Throwable t) {}

                      @Override
                      public void onCompleted() {}
                    };
                  }
                })
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    client =
        AdsClient.onChannel(
            channel,
            AdsClient.Options.standaloneEnvoy("envoy-0", "llm_routes")
                .withValidator(
                    (type, resource) ->
                        resource instanceof ClusterLoadAssignment cla && cla.getEndpointsCount() > 1
                            ? Optional.of("too many localities")
                            : Optional.empty()));
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    channel.shutdownNow();
    server.shutdownNow();
  }

  @Test
  void opensWithWildcardClustersAndTheStaticRouteTable() throws Exception {
    DiscoveryRequest cds = next();
    assertThat(cds.getTypeUrl()).isEqualTo(AdsClient.CLUSTER);
    assertThat(cds.getResourceNamesList()).isEmpty();
    assertThat(cds.getVersionInfo()).isEmpty();
    assertThat(cds.getResponseNonce()).isEmpty();
    assertThat(cds.getNode().getId()).isEqualTo("envoy-0");
    DiscoveryRequest rds = next();
    assertThat(rds.getTypeUrl()).isEqualTo(AdsClient.ROUTE);
    assertThat(rds.getResourceNamesList()).containsExactly("llm_routes");
  }

  @Test
  void acksThenSubscribesToEndpointsNacksBadOnesAndUnsubscribesRemovedClusters() throws Exception {
    next();
    next();
    respond(AdsClient.CLUSTER, "1", "n1", edsCluster("ibc_ns_a"));
    DiscoveryRequest cdsAck = next();
    assertThat(cdsAck.getTypeUrl()).isEqualTo(AdsClient.CLUSTER);
    assertThat(cdsAck.getVersionInfo()).isEqualTo("1");
    assertThat(cdsAck.getResponseNonce()).isEqualTo("n1");
    assertThat(cdsAck.hasErrorDetail()).isFalse();
    DiscoveryRequest eds = next();
    assertThat(eds.getTypeUrl()).isEqualTo(AdsClient.ENDPOINT);
    assertThat(eds.getResourceNamesList()).containsExactly("ibc_ns_a");
    assertThat(eds.getVersionInfo()).isEmpty();

    respond(AdsClient.ENDPOINT, "2", "n2", assignment("ibc_ns_a", 1));
    DiscoveryRequest edsAck = next();
    assertThat(edsAck.getVersionInfo()).isEqualTo("2");
    assertThat(edsAck.getResponseNonce()).isEqualTo("n2");
    assertThat(edsAck.getResourceNamesList()).containsExactly("ibc_ns_a");

    respond(AdsClient.ENDPOINT, "3", "n3", assignment("ibc_ns_a", 2));
    DiscoveryRequest nack = next();
    assertThat(nack.getVersionInfo()).as("last accepted").isEqualTo("2");
    assertThat(nack.getResponseNonce()).isEqualTo("n3");
    assertThat(nack.getErrorDetail().getMessage()).isEqualTo("too many localities");
    assertThat(client.endpoints().get("ibc_ns_a").getEndpointsCount()).as("kept").isEqualTo(1);
    assertThat(client.responses())
        .extracting(ReceivedResponse::accepted)
        .containsExactly(true, true, false);

    respond(AdsClient.CLUSTER, "4", "n4");
    assertThat(next().getResponseNonce()).isEqualTo("n4");
    DiscoveryRequest unsubscribe = next();
    assertThat(unsubscribe.getTypeUrl()).isEqualTo(AdsClient.ENDPOINT);
    assertThat(unsubscribe.getResourceNamesList()).isEmpty();
    assertThat(unsubscribe.getResponseNonce()).isEqualTo("n3");
    assertThat(client.clusters()).isEmpty();
    assertThat(client.endpoints()).isEmpty();
  }

  private DiscoveryRequest next() throws InterruptedException {
    DiscoveryRequest request = requests.poll(5, TimeUnit.SECONDS);
    assertThat(request).as("a request").isNotNull();
    return request;
  }

  private void respond(String type, String version, String nonce, Message... resources)
      throws Exception {
    responses
        .get(5, TimeUnit.SECONDS)
        .onNext(
            DiscoveryResponse.newBuilder()
                .setTypeUrl(type)
                .setVersionInfo(version)
                .setNonce(nonce)
                .addAllResources(List.of(resources).stream().map(Any::pack).toList())
                .build());
  }

  private static Cluster edsCluster(String name) {
    return Cluster.newBuilder().setName(name).setType(Cluster.DiscoveryType.EDS).build();
  }

  private static ClusterLoadAssignment assignment(String name, int localities) {
    ClusterLoadAssignment.Builder builder = ClusterLoadAssignment.newBuilder().setClusterName(name);
    for (int i = 0; i < localities; i++) {
      builder.addEndpoints(LocalityLbEndpoints.getDefaultInstance());
    }
    return builder.build();
  }
}

package dev.inferencebudget.controller.k8s;

import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.Node;
import io.envoyproxy.envoy.config.endpoint.v3.ClusterLoadAssignment;
import io.envoyproxy.envoy.service.discovery.v3.AggregatedDiscoveryServiceGrpc;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The smallest Envoy-like ADS client for the controller's tests: CDS wildcard, EDS for every
 * cluster it accepted, ACKs everything, remembers the ready endpoints of each cluster. (The
 * harness's {@code AdsClient} is richer but lives in test-harness, which depends on this module.)
 */
final class MiniAdsClient implements AutoCloseable {

  private static final String CDS = "type.googleapis.com/envoy.config.cluster.v3.Cluster";
  private static final String EDS =
      "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment";

  private final ManagedChannel channel;
  private final StreamObserver<DiscoveryRequest> requests;
  private final Node node;
  private final Map<String, List<String>> endpoints = new ConcurrentHashMap<>();
  private final TreeSet<String> clusters = new TreeSet<>();
  private final List<DiscoveryResponse> held = new java.util.ArrayList<>();
  private boolean paused;

  MiniAdsClient(int port, String nodeId) {
    node = Node.newBuilder().setId(nodeId).setCluster("test").build();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    requests =
        AggregatedDiscoveryServiceGrpc.newStub(channel)
            .streamAggregatedResources(
                new StreamObserver<>() {
                  @Override
                  public void onNext(DiscoveryResponse response) {
                    received(response);
                  }

                  @Override
                  public void onError(Throwable t) {}

                  @Override
                  public void onCompleted() {}
                });
    send(DiscoveryRequest.newBuilder().setNode(node).setTypeUrl(CDS).build());
  }

  /** Holds EDS responses unanswered (a slow Envoy) until {@link #resume}. */
  synchronized void pauseEndpoints() {
    paused = true;
  }

  synchronized void resume() {
    paused = false;
    List<DiscoveryResponse> pending = List.copyOf(held);
    held.clear();
    pending.forEach(this::received);
  }

  private synchronized void received(DiscoveryResponse response) {
    if (paused && response.getTypeUrl().equals(EDS)) {
      held.add(response);
      return;
    }
    try {
      if (response.getTypeUrl().equals(CDS)) {
        clusters.clear();
        for (var any : response.getResourcesList()) {
          clusters.add(any.unpack(Cluster.class).getName());
        }
        ack(response, List.of());
        ack(
            DiscoveryResponse.newBuilder().setTypeUrl(EDS).build(),
            List.copyOf(clusters)); // subscribe EDS to every cluster
      } else if (response.getTypeUrl().equals(EDS)) {
        for (var any : response.getResourcesList()) {
          ClusterLoadAssignment cla = any.unpack(ClusterLoadAssignment.class);
          endpoints.put(
              cla.getClusterName(),
              cla.getEndpointsList().stream()
                  .flatMap(l -> l.getLbEndpointsList().stream())
                  .map(e -> e.getEndpoint().getAddress().getSocketAddress())
                  .map(a -> a.getAddress() + ":" + a.getPortValue())
                  .toList());
        }
        ack(response, List.copyOf(clusters));
      } else {
        ack(response, List.of());
      }
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  private void ack(DiscoveryResponse response, List<String> names) {
    send(
        DiscoveryRequest.newBuilder()
            .setNode(node)
            .setTypeUrl(response.getTypeUrl())
            .setVersionInfo(response.getVersionInfo())
            .setResponseNonce(response.getNonce())
            .addAllResourceNames(names)
            .build());
  }

  private synchronized void send(DiscoveryRequest request) {
    requests.onNext(request);
  }

  /** Ready endpoints ({@code ip:port}) of a cluster, as last received. */
  List<String> endpoints(String cluster) {
    return endpoints.getOrDefault(cluster, List.of());
  }

  @Override
  public void close() {
    synchronized (this) {
      requests.onCompleted();
    }
    channel.shutdownNow();
  }
}

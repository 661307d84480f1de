package dev.inferencebudget.xds.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.xds.api.XdsConfig.WithoutEnvoys;
import dev.inferencebudget.xds.server.RoutabilityTracker.ModelVersions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RoutabilityTrackerTest {

  private static final String CLUSTER = "ibc_ns_a";
  private static final String ROUTES = "llm_routes";

  /** Cluster created at 1, endpoints ready since 5, route added at 2. */
  private static final ModelVersions A = new ModelVersions(CLUSTER, 1, 5, 2);

  static Stream<Arguments> cases() {
    return Stream.of(
        Arguments.of("an Envoy that ACKed everything", List.of(envoy(1, 5, 2)), true),
        Arguments.of("an Envoy on a later endpoints version", List.of(envoy(1, 9, 2)), true),
        Arguments.of(
            "an Envoy still on the endpoints before the replica was ready",
            List.of(envoy(1, 4, 2)),
            false),
        Arguments.of("an Envoy without the route", List.of(envoy(1, 5, 1)), false),
        Arguments.of("an Envoy without the cluster", List.of(envoy(ClientView.NONE, 5, 2)), false),
        Arguments.of(
            "one of two Envoys behind",
            List.of(envoy(1, 5, 2), envoy(1, ClientView.NONE, 2)),
            false),
        Arguments.of(
            "a gRPC client that does not use the HTTP route table",
            List.of(client(Set.of(CLUSTER), Map.of(XdsTypes.C, 1L, XdsTypes.E, 5L), false)),
            true),
        Arguments.of(
            "a client subscribed only to other clusters does not count",
            List.of(client(Set.of("ibc_ns_other"), Map.of(), true)),
            false),
        Arguments.of(
            "an Envoy still in its initial sync does not hold the model back",
            List.of(envoy(1, 5, 2), client(null, Map.of(XdsTypes.C, 1L), true, false)),
            true),
        Arguments.of("no client at all", List.of(), false));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void routableWhenEveryCountingClientAckedTheModel(
      String scenario, List<ClientView> clients, boolean routable) {
    RoutabilityTracker tracker =
        new RoutabilityTracker(ROUTES, WithoutEnvoys.NOT_ROUTABLE, Runnable::run);
    tracker.setModels(Map.of("ns/a", A));
    tracker.onStateChanged(clients);
    assertThat(tracker.isRoutable("ns/a")).as(scenario).isEqualTo(routable);
  }

  @Test
  void withoutEnvoysAReadyModelIsRoutableOnlyWhenConfiguredSo() {
    RoutabilityTracker lenient =
        new RoutabilityTracker(ROUTES, WithoutEnvoys.READY_ENDPOINT, Runnable::run);
    lenient.setModels(
        Map.of("ns/a", A, "ns/cold", new ModelVersions("ibc_ns_cold", 1, ClientView.NONE, 2)));
    lenient.onStateChanged(List.of());
    assertThat(lenient.routableModels()).containsExactly("ns/a");
  }

  @Test
  void listenersHearEachChangeOnceInOrder() {
    List<String> events = new ArrayList<>();
    RoutabilityTracker tracker =
        new RoutabilityTracker(ROUTES, WithoutEnvoys.NOT_ROUTABLE, Runnable::run);
    tracker.addListener((model, routable) -> events.add(model + "=" + routable));
    tracker.setModels(Map.of("ns/a", A));
    tracker.onStateChanged(List.of(envoy(1, 4, 2)));
    tracker.onStateChanged(List.of(envoy(1, 5, 2)));
    tracker.onStateChanged(List.of(envoy(1, 6, 2)));
    tracker.setModels(Map.of("ns/a", new ModelVersions(CLUSTER, 1, ClientView.NONE, 2)));
    tracker.onStateChanged(List.of(envoy(1, 7, 2)));
    assertThat(events).containsExactly("ns/a=true", "ns/a=false");
  }

  private static ClientView envoy(long cluster, long endpoints, long routes) {
    Map<String, Long> acked = new HashMap<>();
    acked.put(XdsTypes.C, cluster);
    acked.put(XdsTypes.E, endpoints);
    acked.put(XdsTypes.R, routes);
    return client(null, acked, true);
  }

  /**
   * @param clusters subscribed clusters, or null for a wildcard (Envoy)
   */
  private static ClientView client(
      Set<String> clusters, Map<String, Long> ackedByType, boolean subscribesRoutes) {
    return client(clusters, ackedByType, subscribesRoutes, true);
  }

  private static ClientView client(
      Set<String> clusters,
      Map<String, Long> ackedByType,
      boolean subscribesRoutes,
      boolean synced) {
    return new ClientView() {
      @Override
      public long streamId() {
        return 0;
      }

      @Override
      public boolean synced() {
        return synced;
      }

      @Override
      public String nodeId() {
        return "fake";
      }

      @Override
      public boolean subscribes(String typeUrl, String name) {
        if (typeUrl.equals(XdsTypes.R)) {
          return subscribesRoutes && name.equals(ROUTES);
        }
        return clusters == null || clusters.contains(name);
      }

      @Override
      public long ackedVersion(String typeUrl, String name) {
        return ackedByType.getOrDefault(typeUrl, ClientView.NONE);
      }
    };
  }

  /** Short names for the type URLs. */
  private static final class XdsTypes {
    static final String C = TypeUrls.CLUSTER;
    static final String E = TypeUrls.ENDPOINT;
    static final String R = TypeUrls.ROUTE;
  }
}

package dev.inferencebudget.xds;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.inferencebudget.xds.api.Endpoint;
import dev.inferencebudget.xds.api.ModelEndpoints;
import dev.inferencebudget.xds.api.XdsConfig;
import io.grpc.CallOptions;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.ServerCalls;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * grpc-java's own xDS client (a real client nobody here wrote) resolves {@code xds:///echo} through
 * this control plane and calls live gRPC backends on loopback, following the endpoints as replicas
 * come and go.
 *
 * <p>grpc-xds reads its bootstrap once per JVM, so this is the only test that sets it, and it runs
 * as an IT (its own failsafe JVM) after the server's port is known.
 */
class GrpcXdsConformanceIT {

  private static final String MODEL = "test/echo";
  private static final String TARGET = "echo";
  private static final Duration WAIT = Duration.ofSeconds(20);

  private static final MethodDescriptor<String, String> WHO =
      MethodDescriptor.<String, String>newBuilder()
          .setType(MethodDescriptor.MethodType.UNARY)
          .setFullMethodName("ibc.test.Echo/Who")
          .setRequestMarshaller(new Utf8())
          .setResponseMarshaller(new Utf8())
          .build();

  private static final PrometheusRegistry registry = new PrometheusRegistry();
  private static XdsControlPlane xds;
  private static ManagedChannel channel;
  private static final List<Server> backends = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    xds =
        XdsControlPlane.create(XdsConfig.defaults().withListenAddress("127.0.0.1", 0), registry)
            .start();
    System.setProperty(
        "io.grpc.xds.bootstrapConfig",
        """
        {"xds_servers": [{"server_uri": "127.0.0.1:%d",
                          "channel_creds": [{"type": "insecure"}],
                          "server_features": ["xds_v3"]}],
         "node": {"id": "grpc-conformance", "cluster": "test"}}
        """
            .formatted(xds.port()));
    xds.setGrpcTargets(java.util.Map.of(TARGET, MODEL));
  }

  @AfterAll
  static void stop() throws Exception {
    if (channel != null) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    for (Server backend : backends) {
      backend.shutdownNow();
    }
    xds.close();
  }

  @Test
  void grpcXdsClientFollowsReplicasAsTheyComeAndGoFromZeroAndBack() throws Exception {
    Server a = backend("a");
    xds.update(List.of(model(ready(a))));
    channel =
        Grpc.newChannelBuilder("xds:///" + TARGET, InsecureChannelCredentials.create()).build();

    await().atMost(WAIT).ignoreExceptions().until(() -> call().equals("a"));
    await().atMost(WAIT).until(() -> xds.isRoutable(MODEL));

    Server b = backend("b");
    xds.update(List.of(model(ready(a), ready(b))));
    Set<String> seen = new HashSet<>();
    await()
        .atMost(WAIT)
        .ignoreExceptions()
        .until(
            () -> {
              seen.add(call());
              return seen.containsAll(Set.of("a", "b"));
            });

    // a goes unready and away: the client stops sending to it
    xds.update(List.of(model(Endpoint.notReady("127.0.0.1", port(a)), ready(b))));
    await().atMost(WAIT).until(() -> tenCalls().equals(Set.of("b")));
    a.shutdownNow();

    // scaled to zero: the last replica is withdrawn and goes away. (grpc-java keeps its last
    // working picker when EDS turns empty, so only the replica's end makes calls fail.)
    xds.update(List.of(model()));
    b.shutdownNow();
    await().atMost(WAIT).until(() -> !xds.isRoutable(MODEL));
    await()
        .atMost(WAIT)
        .untilAsserted(
            () ->
                assertThatThrownBy(GrpcXdsConformanceIT::call)
                    .isInstanceOfSatisfying(
                        StatusRuntimeException.class,
                        e ->
                            assertThat(e.getStatus().getCode())
                                .isEqualTo(Status.Code.UNAVAILABLE)));

    // cold start: a new replica becomes ready and the client reaches it
    Server c = backend("c");
    xds.update(List.of(model(ready(c))));
    await().atMost(WAIT).ignoreExceptions().until(() -> call().equals("c"));
    await().atMost(WAIT).until(() -> xds.isRoutable(MODEL));

    assertThat(nacks()).as("grpc-xds accepted every resource").isZero();
    assertThat(xds.ackedVersions())
        .singleElement()
        .satisfies(client -> assertThat(client.nodeId()).isEqualTo("grpc-conformance"));
  }

  private static String call() {
    return ClientCalls.blockingUnaryCall(
        channel, WHO, CallOptions.DEFAULT.withDeadlineAfter(5, TimeUnit.SECONDS), "who");
  }

  private static Set<String> tenCalls() {
    Set<String> answers = new HashSet<>();
    for (int i = 0; i < 10; i++) {
      answers.add(call());
    }
    return answers;
  }

  private static Server backend(String name) throws IOException {
    Server server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addService(
                ServerServiceDefinition.builder("ibc.test.Echo")
                    .addMethod(
                        WHO,
                        ServerCalls.asyncUnaryCall(
                            (request, response) -> {
                              response.onNext(name);
                              response.onCompleted();
                            }))
                    .build())
            .build()
            .start();
    backends.add(server);
    return server;
  }

  private static int port(Server server) {
    return ((InetSocketAddress) server.getListenSockets().get(0)).getPort();
  }

  private static Endpoint ready(Server server) {
    return Endpoint.ready("127.0.0.1", port(server));
  }

  private static ModelEndpoints model(Endpoint... endpoints) {
    return new ModelEndpoints(MODEL, List.of(endpoints));
  }

  private static double nacks() {
    return registry.scrape().stream()
        .filter(s -> s.getMetadata().getPrometheusName().equals("ibc_xds_nacks"))
        .flatMap(s -> ((CounterSnapshot) s).getDataPoints().stream())
        .mapToDouble(CounterSnapshot.CounterDataPointSnapshot::getValue)
        .sum();
  }

  private static final class Utf8 implements MethodDescriptor.Marshaller<String> {
    @Override
    public InputStream stream(String value) {
      return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String parse(InputStream stream) {
      try {
        return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}

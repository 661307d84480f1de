package dev.inferencebudget.extproc.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.Timestamp;
import dev.inferencebudget.extproc.api.ControllerLink;
import dev.inferencebudget.extproc.api.LoadSource;
import dev.inferencebudget.extproc.api.ModelTable;
import dev.inferencebudget.proto.v1.ActivationRequest;
import dev.inferencebudget.proto.v1.ActivationResponse;
import dev.inferencebudget.proto.v1.AdmissionPolicy;
import dev.inferencebudget.proto.v1.BudgetControllerGrpc;
import dev.inferencebudget.proto.v1.BudgetRefusal;
import dev.inferencebudget.proto.v1.Endpoint;
import dev.inferencebudget.proto.v1.LoadReport;
import dev.inferencebudget.proto.v1.ModelState;
import dev.inferencebudget.proto.v1.ModelStates;
import dev.inferencebudget.proto.v1.ReportLoadResponse;
import dev.inferencebudget.proto.v1.WatchModelStatesRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class GrpcControllerLinkTest {

  private static final Instant NOW = Instant.parse("2026-11-28T10:00:00Z");

  /** A controller that the test scripts: it streams what the test pushes and records reports. */
  static final class FakeController extends BudgetControllerGrpc.BudgetControllerImplBase {
    final List<StreamObserver<ModelStates>> watchers = new CopyOnWriteArrayList<>();
    final List<LoadReport> reports = new CopyOnWriteArrayList<>();
    final List<ActivationRequest> activations = new CopyOnWriteArrayList<>();
    volatile ActivationResponse answer =
        ActivationResponse.newBuilder().setResult(ActivationResponse.Result.ACCEPTED).build();

    @Override
    public void watchModelStates(
        WatchModelStatesRequest request, StreamObserver<ModelStates> responseObserver) {
      watchers.add(responseObserver);
    }

    @Override
    public StreamObserver<LoadReport> reportLoad(StreamObserver<ReportLoadResponse> response) {
      return new StreamObserver<>() {
        @Override
        public void onNext(LoadReport value) {
          reports.add(value);
        }

        @Override
        public void onError(Throwable t) {}

        @Override
        public void onCompleted() {
          response.onCompleted();
        }
      };
    }

    @Override
    public void activate(ActivationRequest request, StreamObserver<ActivationResponse> response) {
      activations.add(request);
      response.onNext(answer);
      response.onCompleted();
    }

    void push(long version, ModelState... models) {
      ModelStates snapshot =
          ModelStates.newBuilder().setVersion(version).addAllModels(List.of(models)).build();
      watchers.forEach(w -> w.onNext(snapshot));
    }
  }

  private final String serverName = InProcessServerBuilder.generateName();
  private final ConcurrentLinkedQueue<LoadSource.ModelLoad> windows = new ConcurrentLinkedQueue<>();
  private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
  private FakeController controller;
  private Server server;
  private ManagedChannel channel;
  private GrpcControllerLink link;

  @BeforeEach
  void start() throws Exception {
    startServer();
    channel = InProcessChannelBuilder.forName(serverName).build();
    LoadSource source =
        () -> {
          List<LoadSource.ModelLoad> drained = new ArrayList<>();
          LoadSource.ModelLoad next;
          while ((next = windows.poll()) != null) {
            drained.add(next);
          }
          return drained;
        };
    link =
        new GrpcControllerLink(
            channel,
            source,
            GrpcControllerLink.Settings.defaults("ext-proc-0")
                .withBackoff(Duration.ofMillis(10), Duration.ofMillis(50))
                .withReportInterval(Duration.ofMillis(20)),
            executor,
            Clock.fixed(NOW, ZoneOffset.UTC));
    link.start();
  }

  private void startServer() throws Exception {
    controller = new FakeController();
    server = InProcessServerBuilder.forName(serverName).addService(controller).build().start();
  }

  @AfterEach
  void stop() throws Exception {
    link.close();
    executor.shutdown();
    executor.awaitTermination(5, TimeUnit.SECONDS);
    channel.shutdownNow();
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private static ModelState model(String key, boolean routable) {
    return ModelState.newBuilder()
        .setKey(key)
        .addModelNames("llama-3.1-8b")
        .setState(routable ? ModelState.State.READY : ModelState.State.SCALED_TO_ZERO)
        .setRoutable(routable)
        .addEndpoints(Endpoint.newBuilder().setAddress("10.0.0.1:8000").setReady(routable))
        .setAdmission(
            AdmissionPolicy.newBuilder().setTokensPerMinute(1000).setMaxTokensPolicy("Reject"))
        .setReadyReplicas(routable ? 1 : 0)
        .build();
  }

  @Test
  void snapshots_become_model_tables_and_listeners_hear_of_each() {
    List<ModelTable> heard = new CopyOnWriteArrayList<>();
    link.subscribe(heard::add);
    await().until(() -> controller.watchers.size() == 1);

    controller.push(1, model("team-a/llama", false));
    controller.push(2, model("team-a/llama", true));

    await().until(() -> heard.size() == 2);
    var llama = link.current().byName("llama-3.1-8b").orElseThrow();
    assertThat(llama.routable()).isTrue();
    assertThat(llama.admission().tokensPerMinute()).isEqualTo(1000);
    assertThat(llama.admission().maxTokensPolicy())
        .isEqualTo(dev.inferencebudget.extproc.api.ModelState.MaxTokensPolicy.REJECT);
    assertThat(heard.get(1).version()).isGreaterThan(heard.get(0).version());
  }

  @Test
  void
      a_lost_controller_leaves_the_last_table_in_force_and_a_new_one_is_taken_even_if_numbered_lower()
          throws Exception {
    await().until(() -> controller.watchers.size() == 1);
    controller.push(7, model("team-a/llama", true));
    await().until(link::connected);

    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    await().until(() -> !link.connected());
    assertThat(link.current().byKey("team-a/llama").orElseThrow().routable()).isTrue();

    startServer(); // a restarted controller numbers its snapshots from 1 again
    await().atMost(Duration.ofSeconds(10)).until(() -> controller.watchers.size() == 1);
    controller.push(1, model("team-a/llama", false));
    await().until(() -> !link.current().byKey("team-a/llama").orElseThrow().routable());
  }

  @Test
  void load_windows_are_reported_and_merged_while_the_controller_is_away() throws Exception {
    windows.add(load(3, 1, Optional.of(NOW.minusSeconds(5))));
    await().until(() -> !controller.reports.isEmpty());
    assertThat(controller.reports.get(0).getReplica()).isEqualTo("ext-proc-0");
    assertThat(controller.reports.get(0).getModels(0).getArrivals()).isEqualTo(3);

    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    windows.add(load(2, 4, Optional.of(NOW.minusSeconds(2))));
    windows.add(load(5, 0, Optional.empty()));
    startServer();

    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                controller.reports.stream()
                        .flatMap(r -> r.getModelsList().stream())
                        .mapToLong(m -> m.getArrivals())
                        .sum()
                    >= 7);
    // every arrival reaches the controller exactly once, and the newest gauges win
    long arrivals =
        controller.reports.stream()
            .flatMap(r -> r.getModelsList().stream())
            .mapToLong(m -> m.getArrivals())
            .sum();
    assertThat(arrivals).isEqualTo(7);
    var last = controller.reports.get(controller.reports.size() - 1).getModels(0);
    assertThat(last.getInFlight()).isZero();
    assertThat(last.getLastRequest())
        .isEqualTo(Timestamp.newBuilder().setSeconds(NOW.minusSeconds(2).getEpochSecond()).build());
  }

  @Test
  void an_activation_refused_by_the_budget_comes_back_with_the_budget() throws Exception {
    controller.answer =
        ActivationResponse.newBuilder()
            .setResult(ActivationResponse.Result.REFUSED)
            .setRefusal(
                BudgetRefusal.newBuilder()
                    .setBudget("team-a/gpu")
                    .setNeededBytes(24L << 30)
                    .setFreeBytes(8L << 30)
                    .setMessage("budget team-a/gpu needs 24Gi, has 8Gi free"))
            .build();
    ControllerLink.Activation activation =
        link.activate("team-a/llama").toCompletableFuture().get(5, TimeUnit.SECONDS);
    assertThat(activation.result()).isEqualTo(ControllerLink.Result.REFUSED);
    assertThat(activation.refusal().orElseThrow().budget()).isEqualTo("team-a/gpu");
    assertThat(controller.activations.get(0).getReplica()).isEqualTo("ext-proc-0");
    assertThat(controller.activations.get(0).getRequestedAt().getSeconds())
        .isEqualTo(NOW.getEpochSecond());
  }

  private static LoadSource.ModelLoad load(long arrivals, int inFlight, Optional<Instant> last) {
    return new LoadSource.ModelLoad(
        "team-a/llama", arrivals, inFlight, 0, 0, 10 * arrivals, 0, Double.NaN, Double.NaN, last);
  }
}

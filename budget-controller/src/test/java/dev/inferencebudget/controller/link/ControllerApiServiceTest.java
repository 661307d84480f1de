package dev.inferencebudget.controller.link;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
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
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ControllerApiServiceTest {

  private static final Instant NOW = Instant.parse("2026-11-28T10:00:00Z");

  private final ModelStatePublisher publisher = new ModelStatePublisher();
  private final LoadAggregator loads = new LoadAggregator();
  private final AtomicReference<ActivationHandler> handler =
      new AtomicReference<>((key, replica, at) -> ActivationHandler.Outcome.accepted());
  private Server server;
  private ManagedChannel channel;

  @BeforeEach
  void start() throws Exception {
    String name = InProcessServerBuilder.generateName();
    ControllerApiService service =
        new ControllerApiService(
            publisher,
            loads,
            (key, replica, at) -> handler.get().activate(key, replica, at),
            Clock.fixed(NOW, ZoneOffset.UTC));
    server = InProcessServerBuilder.forName(name).addService(service).build().start();
    channel = InProcessChannelBuilder.forName(name).build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private static ModelState model(String key, boolean routable) {
    return ModelState.newBuilder()
        .setKey(key)
        .addModelNames(key.substring(key.indexOf('/') + 1))
        .setRoutable(routable)
        .build();
  }

  @Test
  void a_new_watcher_gets_the_latest_snapshot_first_and_every_later_one() {
    publisher.publish(List.of(model("team-a/llama", false)));
    List<ModelStates> received = new CopyOnWriteArrayList<>();
    BudgetControllerGrpc.newStub(channel)
        .watchModelStates(
            WatchModelStatesRequest.newBuilder().setReplica("ext-proc-0").build(),
            collecting(received));

    await().until(() -> received.size() == 1);
    assertThat(received.get(0).getModels(0).getRoutable()).isFalse();

    publisher.publish(List.of(model("team-a/llama", true)));
    await().until(() -> received.size() == 2);
    assertThat(received.get(1).getVersion()).isGreaterThan(received.get(0).getVersion());
    assertThat(received.get(1).getModels(0).getRoutable()).isTrue();
  }

  @Test
  void publishing_the_same_models_twice_sends_nothing_new() {
    long first = publisher.publish(List.of(model("team-a/llama", true)));
    long second = publisher.publish(List.of(model("team-a/llama", true)));
    assertThat(second).isEqualTo(first);
  }

  @Test
  void a_cancelled_watch_unsubscribes() {
    List<ModelStates> received = new CopyOnWriteArrayList<>();
    var context = io.grpc.Context.current().withCancellation();
    context.run(
        () ->
            BudgetControllerGrpc.newStub(channel)
                .watchModelStates(
                    WatchModelStatesRequest.getDefaultInstance(), collecting(received)));
    await().until(() -> publisher.subscriberCount() == 1);
    context.cancel(null);
    await().until(() -> publisher.subscriberCount() == 0);
  }

  @Test
  void load_reports_of_two_replicas_add_up_and_a_closed_stream_stops_counting() {
    var stub = BudgetControllerGrpc.newStub(channel);
    List<ReportLoadResponse> acks = new CopyOnWriteArrayList<>();
    StreamObserver<LoadReport> a = stub.reportLoad(collecting(acks));
    StreamObserver<LoadReport> b = stub.reportLoad(collecting(acks));
    a.onNext(report("ext-proc-a", 3, 2, 10, 100));
    b.onNext(report("ext-proc-b", 1, 0, 5, 200));

    await()
        .until(
            () -> {
              var view = loads.snapshot().get("team-a/llama");
              return view != null && view.arrivalsTotal() == 15;
            });
    var view = loads.snapshot().get("team-a/llama");
    assertThat(view.inFlight()).isEqualTo(4);
    assertThat(view.queued()).isEqualTo(2);
    assertThat(view.lastRequest()).isEqualTo(Instant.ofEpochSecond(200));

    b.onCompleted();
    await().until(() -> !acks.isEmpty());
    await().until(() -> loads.snapshot().get("team-a/llama").inFlight() == 3);
    // counters never go back when a replica leaves
    assertThat(loads.snapshot().get("team-a/llama").arrivalsTotal()).isEqualTo(15);
    a.onCompleted();
  }

  @Test
  void an_activation_refused_by_the_budget_names_the_budget() {
    handler.set(
        (key, replica, at) ->
            ActivationHandler.Outcome.refused(
                new ActivationHandler.Refusal(
                    "team-a/gpu", 24L << 30, 8L << 30, "budget team-a/gpu is full")));
    ActivationResponse response =
        BudgetControllerGrpc.newBlockingStub(channel)
            .activate(ActivationRequest.newBuilder().setKey("team-a/llama").build());
    assertThat(response.getResult()).isEqualTo(ActivationResponse.Result.REFUSED);
    assertThat(response.getRefusal().getBudget()).isEqualTo("team-a/gpu");
    assertThat(response.getRefusal().getNeededBytes() - response.getRefusal().getFreeBytes())
        .isEqualTo(16L << 30);
  }

  @Test
  void an_activation_without_a_time_is_stamped_with_the_controllers_clock() {
    AtomicReference<Instant> seen = new AtomicReference<>();
    handler.set(
        (key, replica, at) -> {
          seen.set(at);
          return ActivationHandler.Outcome.accepted();
        });
    BudgetControllerGrpc.newBlockingStub(channel)
        .activate(ActivationRequest.newBuilder().setKey("team-a/llama").build());
    assertThat(seen.get()).isEqualTo(NOW);
  }

  @Test
  void an_activation_without_a_key_is_invalid() {
    assertThatThrownBy(
            () ->
                BudgetControllerGrpc.newBlockingStub(channel)
                    .activate(ActivationRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  private static LoadReport report(
      String replica, int inFlight, int queued, long arrivals, long lastRequestSeconds) {
    return LoadReport.newBuilder()
        .setReplica(replica)
        .addModels(
            ModelLoad.newBuilder()
                .setKey("team-a/llama")
                .setInFlight(inFlight)
                .setQueued(queued)
                .setArrivals(arrivals)
                .setLastRequest(Timestamp.newBuilder().setSeconds(lastRequestSeconds)))
        .build();
  }

  private static <T> StreamObserver<T> collecting(List<T> sink) {
    return new StreamObserver<>() {
      @Override
      public void onNext(T value) {
        sink.add(value);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }
}

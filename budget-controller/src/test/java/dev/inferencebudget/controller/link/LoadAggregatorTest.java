package dev.inferencebudget.controller.link;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.proto.v1.LoadReport;
import dev.inferencebudget.proto.v1.ModelLoad;
import org.junit.jupiter.api.Test;

class LoadAggregatorTest {

  private static LoadReport report(int inFlight) {
    return LoadReport.newBuilder()
        .setReplica("ext-proc-0")
        .addModels(ModelLoad.newBuilder().setKey("team-a/llama").setInFlight(inFlight))
        .build();
  }

  @Test
  void a_reconnected_replica_keeps_counting_when_its_old_stream_closes_late() {
    LoadAggregator loads = new LoadAggregator();
    Object oldStream = new Object();
    Object newStream = new Object();
    loads.accept(report(3), oldStream);
    loads.accept(report(5), newStream);

    loads.forget("ext-proc-0", oldStream);

    assertThat(loads.snapshot().get("team-a/llama").inFlight()).isEqualTo(5);
  }

  @Test
  void a_replica_whose_only_stream_closes_stops_counting() {
    LoadAggregator loads = new LoadAggregator();
    Object stream = new Object();
    loads.accept(report(3), stream);

    loads.forget("ext-proc-0", stream);

    assertThat(loads.snapshot().get("team-a/llama").inFlight()).isZero();
  }
}

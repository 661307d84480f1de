package dev.inferencebudget.harness.replay;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.harness.fleet.Fleet;
import dev.inferencebudget.harness.fleet.ModelProfile;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class FleetMeterTest {
  private static final long SECOND = 1_000_000_000L;
  // model-0: 24 GiB per replica, model-1: 48 GiB
  private static final List<ModelProfile> MODELS = Fleet.defaultModels(2);

  private final AtomicLong clock = new AtomicLong();
  private final FleetMeter meter = new FleetMeter(MODELS, clock::get);

  private static Pod pod(String name, String deployment, boolean ready, boolean terminating) {
    return new PodBuilder()
        .withNewMetadata()
        .withName(name)
        .withLabels(Map.of(ScenarioObjects.POD_DEPLOYMENT_LABEL, deployment))
        .withDeletionTimestamp(terminating ? "2026-11-28T12:00:00Z" : null)
        .endMetadata()
        .withNewStatus()
        .addNewCondition()
        .withType("Ready")
        .withStatus(ready ? "True" : "False")
        .endCondition()
        .endStatus()
        .build();
  }

  @Test
  void memoryCountsFromPodCreationUntilThePodIsGoneThroughLoadingAndTermination() {
    meter.start();
    meter.observe(pod("a", "vllm-model-0", false, false), false); // t=0: starting, 24 GiB
    clock.set(2 * SECOND);
    meter.observe(pod("a", "vllm-model-0", true, false), false); // ready
    meter.observe(pod("b", "vllm-model-1", false, false), false); // t=2: +48 GiB
    clock.set(4 * SECOND);
    meter.observe(pod("a", "vllm-model-0", false, true), false); // terminating: still reserved
    clock.set(5 * SECOND);
    meter.observe(pod("a", "vllm-model-0", false, true), true); // gone
    clock.set(6 * SECOND);

    FleetMeter.Usage usage = meter.usage();

    // 24 GiB × 5 s + 48 GiB × 4 s = 312 GiB-seconds
    assertThat(usage.gpuMemoryByteHours() * 3600 / Fleet.GIB)
        .isCloseTo(312.0, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(usage.measuredNanos()).isEqualTo(6 * SECOND);
    assertThat(usage.peakReservedBytes()).isEqualTo(72 * Fleet.GIB);
    assertThat(usage.reservedBytesAtEnd()).isEqualTo(48 * Fleet.GIB);
  }

  @Test
  void aColdStartIsAReplicaStartWhileTheModelHadNoOtherReplicaStartingOrReady() {
    meter.start();
    meter.observe(pod("a", "vllm-model-0", false, false), false); // cold
    meter.observe(pod("b", "vllm-model-0", false, false), false); // scale-up, not cold
    meter.observe(pod("a", "vllm-model-0", false, true), false);
    meter.observe(pod("b", "vllm-model-0", false, true), false);
    meter.observe(
        pod("c", "vllm-model-0", false, false), false); // only terminating ones left: cold
    meter.observe(pod("x", "someone-else", false, false), false); // not ours: ignored

    FleetMeter.Usage usage = meter.usage();

    assertThat(usage.replicaStarts()).containsExactly(3, 0);
    assertThat(usage.coldStarts()).containsExactly(2, 0);
  }

  @Test
  void aRequestFindsItsModelWarmOnlyWhileAReplicaIsReadyAndNotTerminating() {
    meter.start();
    assertThat(meter.hasReadyReplica(0)).isFalse();
    meter.observe(pod("a", "vllm-model-0", false, false), false);
    assertThat(meter.hasReadyReplica(0)).isFalse();
    meter.observe(pod("a", "vllm-model-0", true, false), false);
    assertThat(meter.hasReadyReplica(0)).isTrue();
    assertThat(meter.hasReadyReplica(1)).isFalse();
    meter.observe(pod("a", "vllm-model-0", false, true), false);
    assertThat(meter.hasReadyReplica(0)).isFalse();
  }
}

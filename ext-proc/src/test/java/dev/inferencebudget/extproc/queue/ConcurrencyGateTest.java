package dev.inferencebudget.extproc.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.api.ModelState.Endpoint;
import dev.inferencebudget.extproc.openai.AdmissionError;
import dev.inferencebudget.extproc.testing.FakeTime;
import dev.inferencebudget.extproc.testing.Models;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConcurrencyGateTest {
  static final Duration NO_CAP = Duration.ofHours(1);
  final FakeTime time = new FakeTime();
  final ConcurrencyGate gate = new ConcurrencyGate(time, time);

  /** Records what a queued request was told. */
  static final class Recorder implements ConcurrencyGate.Waiter {
    final String name;
    final List<String> log;
    ConcurrencyGate.Slot slot;
    AdmissionError error;

    Recorder(String name, List<String> log) {
      this.name = name;
      this.log = log;
    }

    @Override
    public void granted(ConcurrencyGate.Slot s) {
      slot = s;
      log.add(name);
    }

    @Override
    public void refused(AdmissionError e) {
      error = e;
    }
  }

  static ModelState model(int limit, int queueLength) {
    return Models.limited("ns/m", "m", 1, limit)
        .withAdmission(
            Models.policy(
                0, 0, ModelState.MaxTokensPolicy.CLAMP, 0, 0, queueLength, Duration.ofSeconds(10)));
  }

  ConcurrencyGate.Slot granted(ConcurrencyGate.Entry entry) {
    assertThat(entry).isInstanceOf(ConcurrencyGate.Granted.class);
    return ((ConcurrencyGate.Granted) entry).slot();
  }

  @Test
  void slotsUpToTheLimitThenQueueThenRefuse() {
    ModelState m = model(2, 1);
    List<String> log = new ArrayList<>();
    granted(gate.enter(m, "a", 0, 1, NO_CAP, new Recorder("1", log)));
    granted(gate.enter(m, "a", 0, 1, NO_CAP, new Recorder("2", log)));
    assertThat(gate.enter(m, "a", 0, 1, NO_CAP, new Recorder("3", log)))
        .isInstanceOf(ConcurrencyGate.Queued.class);
    ConcurrencyGate.Entry full = gate.enter(m, "a", 0, 1, NO_CAP, new Recorder("4", log));
    assertThat(((ConcurrencyGate.Refused) full).error().status()).isEqualTo(429);
    assertThat(gate.inFlight("ns/m")).isEqualTo(2);
    assertThat(gate.queued("ns/m")).isEqualTo(1);
  }

  @Test
  void higherPriorityIsServedFirst() {
    ModelState m = model(1, 10);
    List<String> log = new ArrayList<>();
    ConcurrencyGate.Slot running =
        granted(gate.enter(m, "a", 0, 1, NO_CAP, new Recorder("0", log)));
    gate.enter(m, "a", 0, 1, NO_CAP, new Recorder("low", log));
    gate.enter(m, "b", 5, 1, NO_CAP, new Recorder("high", log));
    running.release(0);
    assertThat(log).containsExactly("high");
  }

  @Test
  void withinAPriorityTenantsShareByTokensServedNotByRequestCount() {
    ModelState m = model(1, 100);
    List<String> log = new ArrayList<>();
    List<Recorder> all = new ArrayList<>();
    ConcurrencyGate.Slot running =
        granted(gate.enter(m, "x", 0, 1, NO_CAP, new Recorder("x", log)));
    // Tenant "big" sends 1,000-token prompts, tenant "small" 100-token prompts, both backlogged.
    for (int i = 0; i < 10; i++) {
      Recorder big = new Recorder("big", log);
      Recorder small = new Recorder("small", log);
      all.add(big);
      all.add(small);
      gate.enter(m, "big", 0, 1000, NO_CAP, big);
      gate.enter(m, "small", 0, 100, NO_CAP, small);
    }
    running.release(0);
    while (log.size() < 20) {
      // Finish whichever request holds the one slot; the gate dispatches the next.
      all.stream().filter(r -> r.slot != null).forEach(r -> r.slot.release(0));
    }
    // Equal tokens, not equal requests: one 1,000-token prompt, then ten 100-token ones.
    assertThat(log.subList(0, 11))
        .containsExactly(
            "big", "small", "small", "small", "small", "small", "small", "small", "small", "small",
            "small");
  }

  @Test
  void waitExpiryIs503AndCancelledTicketsAreForgotten() {
    ModelState m = model(1, 10);
    List<String> log = new ArrayList<>();
    ConcurrencyGate.Slot running =
        granted(gate.enter(m, "a", 0, 1, NO_CAP, new Recorder("0", log)));
    Recorder expires = new Recorder("expires", log);
    gate.enter(m, "a", 0, 1, NO_CAP, expires);
    Recorder leaves = new Recorder("leaves", log);
    ((ConcurrencyGate.Queued) gate.enter(m, "b", 0, 1, Duration.ofSeconds(20), leaves))
        .ticket()
        .cancel();
    time.advance(Duration.ofSeconds(10));
    assertThat(expires.error.status()).isEqualTo(503);
    assertThat(expires.error.code()).isEqualTo("queue_timeout");
    assertThat(gate.queued("ns/m")).isZero();
    running.release(0);
    assertThat(log).isEmpty();
    assertThat(leaves.error).isNull();
    assertThat(gate.inFlight("ns/m")).isZero();
  }

  @Test
  void waitIsCappedByTheCallersDeadline() {
    ModelState m = model(1, 10);
    List<String> log = new ArrayList<>();
    granted(gate.enter(m, "a", 0, 1, NO_CAP, new Recorder("0", log)));
    Recorder capped = new Recorder("capped", log);
    gate.enter(m, "a", 0, 1, Duration.ofSeconds(3), capped);
    time.advance(Duration.ofSeconds(3));
    assertThat(capped.error).isNotNull();
  }

  @Test
  void capacityRiseDispatchesWaiters() {
    ModelState m = model(1, 10);
    List<String> log = new ArrayList<>();
    granted(gate.enter(m, "a", 0, 1, NO_CAP, new Recorder("0", log)));
    gate.enter(m, "a", 0, 1, NO_CAP, new Recorder("waiting", log));
    gate.update(m.withServing(ModelState.State.READY, true, m.endpoints(), 2, 1));
    assertThat(log).containsExactly("waiting");
  }

  @Test
  void slotsNameTheLeastLoadedReadyEndpoint() {
    ModelState m =
        ModelState.ready(
            "ns/m",
            List.of("m"),
            List.of(
                new Endpoint("a:1", true, "a"),
                new Endpoint("b:1", true, "b"),
                new Endpoint("c:1", false, "c")));
    List<String> log = new ArrayList<>();
    ConcurrencyGate.Slot first = granted(gate.enter(m, "t", 0, 1, NO_CAP, new Recorder("1", log)));
    ConcurrencyGate.Slot second = granted(gate.enter(m, "t", 0, 1, NO_CAP, new Recorder("2", log)));
    assertThat(List.of(first.endpoint().orElseThrow(), second.endpoint().orElseThrow()))
        .containsExactlyInAnyOrder("a:1", "b:1");
    first.release(0);
    ConcurrencyGate.Slot third = granted(gate.enter(m, "t", 0, 1, NO_CAP, new Recorder("3", log)));
    assertThat(third.endpoint()).isEqualTo(first.endpoint());
    assertThat(gate.endpointLoad("ns/m")).containsOnlyKeys("a:1", "b:1");
  }
}

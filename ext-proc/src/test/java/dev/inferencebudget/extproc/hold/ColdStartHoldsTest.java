package dev.inferencebudget.extproc.hold;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.extproc.api.ControllerLink.Activation;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.api.ModelState.BudgetRefusal;
import dev.inferencebudget.extproc.local.InMemoryControllerLink;
import dev.inferencebudget.extproc.local.InMemoryModelStates;
import dev.inferencebudget.extproc.openai.AdmissionError;
import dev.inferencebudget.extproc.testing.FakeTime;
import dev.inferencebudget.extproc.testing.Models;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ColdStartHoldsTest {
  static final Duration NO_CAP = Duration.ofHours(1);
  final FakeTime time = new FakeTime();
  final InMemoryModelStates states = new InMemoryModelStates(List.of(Models.cold("ns/m", "m")));
  final InMemoryControllerLink controller = new InMemoryControllerLink();
  ColdStartHolds holds;

  static final class Recorder implements ColdStartHolds.Waiter {
    ModelState released;
    AdmissionError refused;

    @Override
    public void released(ModelState model) {
      released = model;
    }

    @Override
    public void refused(AdmissionError error) {
      refused = error;
    }
  }

  @BeforeEach
  void setUp() {
    holds = new ColdStartHolds(states, controller, time, time, ModelState::routable);
    states.subscribe(holds::onTable);
  }

  ModelState cold() {
    return states.current().byKey("ns/m").orElseThrow();
  }

  @Test
  void firstHoldActivatesOnceAndRoutabilityReleasesEveryone() {
    Recorder a = new Recorder();
    Recorder b = new Recorder();
    assertThat(holds.hold(cold(), NO_CAP, a)).isInstanceOf(ColdStartHolds.Held.class);
    assertThat(holds.hold(cold(), NO_CAP, b)).isInstanceOf(ColdStartHolds.Held.class);
    assertThat(controller.activations()).containsExactly("ns/m");
    states.put(Models.ready("ns/m", "m"));
    assertThat(a.released).isNotNull();
    assertThat(b.released.routable()).isTrue();
    assertThat(holds.held("ns/m")).isZero();
    assertThat(time.pendingTasks()).isZero();
  }

  @Test
  void holdTimeoutIs503AndTheNextColdSpellActivatesAgain() {
    Recorder a = new Recorder();
    holds.hold(cold(), NO_CAP, a);
    time.advance(Duration.ofSeconds(60));
    assertThat(a.refused.status()).isEqualTo(503);
    assertThat(a.refused.retryAfter()).isPresent();
    holds.hold(cold(), NO_CAP, new Recorder());
    assertThat(controller.activations()).containsExactly("ns/m", "ns/m");
  }

  @Test
  void holdIsCappedByEnvoysDeadline() {
    Recorder a = new Recorder();
    holds.hold(cold(), Duration.ofSeconds(5), a);
    time.advance(Duration.ofSeconds(5));
    assertThat(a.refused).isNotNull();
  }

  @Test
  void refusedActivationRefusesAllHeldNamingTheBudget() {
    CompletableFuture<Activation> answer = new CompletableFuture<>();
    controller.answerWith(k -> answer);
    Recorder a = new Recorder();
    Recorder b = new Recorder();
    holds.hold(cold(), NO_CAP, a);
    holds.hold(cold(), NO_CAP, b);
    answer.complete(Activation.refused(new BudgetRefusal("ns/budget", 10, 2, "")));
    assertThat(a.refused.message()).contains("ns/budget");
    assertThat(b.refused.code()).isEqualTo("budget_exceeded");
    assertThat(holds.held("ns/m")).isZero();
  }

  @Test
  void tooManyHeldIs429() {
    states.put(cold().withColdStart(new ModelState.ColdStartPolicy(Duration.ofSeconds(60), 1)));
    holds.hold(cold(), NO_CAP, new Recorder());
    ColdStartHolds.Entry second = holds.hold(cold(), NO_CAP, new Recorder());
    assertThat(((ColdStartHolds.Refused) second).error().status()).isEqualTo(429);
  }

  @Test
  void cancelledHoldIsForgottenAndNeverTold() {
    Recorder a = new Recorder();
    ((ColdStartHolds.Held) holds.hold(cold(), NO_CAP, a)).ticket().cancel();
    assertThat(holds.held("ns/m")).isZero();
    states.put(Models.ready("ns/m", "m"));
    assertThat(a.released).isNull();
  }

  @Test
  void budgetRefusalInTheTableRefusesHeldRequests() {
    Recorder a = new Recorder();
    holds.hold(cold(), NO_CAP, a);
    states.put(cold().withBudgetRefusal(Optional.of(new BudgetRefusal("ns/b", 1, 0, "full"))));
    assertThat(a.refused.message()).contains("ns/b");
  }

  @Test
  void modelAlreadyRoutableIsNotHeld() {
    states.put(Models.ready("ns/m", "m"));
    assertThat(holds.hold(Models.cold("ns/m", "m"), NO_CAP, new Recorder()))
        .isInstanceOf(ColdStartHolds.Servable.class);
  }
}

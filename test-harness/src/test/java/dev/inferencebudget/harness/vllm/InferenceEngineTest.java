package dev.inferencebudget.harness.vllm;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.harness.vllm.InferenceEngine.FinishReason;
import dev.inferencebudget.harness.vllm.InferenceEngine.Work;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class InferenceEngineTest {
  private final ManualScheduler clock = new ManualScheduler();

  /** 1,000 prompt tokens/s, 100 output tokens/s: 100 prompt tokens = 100 ms, a token = 10 ms. */
  private InferenceEngine engine(int maxNumSeqs) {
    VllmSimulatorConfig config =
        VllmSimulatorConfig.builder()
            .loadTime(Duration.ZERO)
            .prefillTokensPerSecond(1_000)
            .decodeTokensPerSecond(100)
            .maxNumSeqs(maxNumSeqs)
            .kvCacheCapacityTokens(1_000)
            .build();
    InferenceEngine engine = new InferenceEngine(config, clock);
    engine.startLoading();
    clock.advance(Duration.ZERO);
    return engine;
  }

  /** Records what the engine reports, with the manual clock's time in milliseconds. */
  private final class Recorder implements InferenceEngine.Sink {
    final List<String> events = new ArrayList<>();
    FinishReason reason;
    int tokens = -1;
    long finishedAtMillis = -1;

    @Override
    public void tokens(int from, int count) {
      events.add(clock.nanoTime() / 1_000_000 + "ms:" + from + "+" + count);
    }

    @Override
    public void finished(FinishReason reason, int tokensPerChoice) {
      this.reason = reason;
      this.tokens = tokensPerChoice;
      this.finishedAtMillis = clock.nanoTime() / 1_000_000;
    }
  }

  @Test
  void streamedRequestGetsItsFirstTokenAfterPrefillThenOneTokenPerDecodeInterval() {
    InferenceEngine engine = engine(4);
    Recorder r = new Recorder();
    engine.submit(new Work(100, 4, 1, true, FinishReason.LENGTH), r);

    clock.advance(Duration.ofMillis(200));

    assertThat(r.events).containsExactly("100ms:0+1", "110ms:1+1", "120ms:2+1", "130ms:3+1");
    assertThat(r.reason).isEqualTo(FinishReason.LENGTH);
    assertThat(r.tokens).isEqualTo(4);
    assertThat(r.finishedAtMillis).isEqualTo(130);
    EngineStats stats = engine.stats();
    assertThat(stats.promptTokensTotal()).isEqualTo(100);
    assertThat(stats.generationTokensTotal()).isEqualTo(4);
    assertThat(stats.finishedRequestsTotal()).isEqualTo(1);
    assertThat(clock.pendingDelays()).isEmpty();
  }

  @Test
  void nonStreamedRequestFinishesAtTheSameTimeWithoutPerTokenWakeUps() {
    InferenceEngine engine = engine(4);
    Recorder r = new Recorder();
    engine.submit(new Work(100, 4, 2, false, FinishReason.STOP), r);

    clock.advance(Duration.ofMillis(129));
    assertThat(r.reason).isNull();
    clock.advance(Duration.ofMillis(1));

    assertThat(r.events).isEmpty();
    assertThat(r.reason).isEqualTo(FinishReason.STOP);
    assertThat(r.finishedAtMillis).isEqualTo(130);
    assertThat(engine.stats().generationTokensTotal()).as("two choices of 4 tokens").isEqualTo(8);
  }

  @Test
  void requestsBeyondMaxNumSeqsWaitInArrivalOrderAndFinishLater() {
    InferenceEngine engine = engine(1);
    Recorder first = new Recorder();
    Recorder second = new Recorder();
    Recorder third = new Recorder();
    engine.submit(new Work(100, 1, 1, false, FinishReason.LENGTH), first);
    engine.submit(new Work(100, 1, 1, false, FinishReason.LENGTH), second);
    engine.submit(new Work(100, 1, 1, false, FinishReason.LENGTH), third);

    assertThat(engine.stats().runningSeqs()).isEqualTo(1);
    assertThat(engine.stats().waitingSeqs()).isEqualTo(2);
    clock.advance(Duration.ofMillis(100));
    assertThat(engine.stats().waitingSeqs()).isEqualTo(1);
    clock.advance(Duration.ofMillis(200));

    assertThat(List.of(first.finishedAtMillis, second.finishedAtMillis, third.finishedAtMillis))
        .containsExactly(100L, 200L, 300L);
    assertThat(engine.stats().runningSeqs()).isZero();
    assertThat(engine.stats().waitingSeqs()).isZero();
  }

  @Test
  void requestWithNChoicesTakesNSlots() {
    InferenceEngine engine = engine(3);
    engine.submit(new Work(10, 5, 2, false, FinishReason.LENGTH), new Recorder());
    engine.submit(new Work(10, 5, 2, false, FinishReason.LENGTH), new Recorder());

    assertThat(engine.stats().runningSeqs()).isEqualTo(2);
    assertThat(engine.stats().waitingSeqs()).isEqualTo(2);
  }

  @Test
  void abortingARunningRequestFreesItsSlotForTheNextOne() {
    InferenceEngine engine = engine(1);
    Recorder first = new Recorder();
    Recorder second = new Recorder();
    InferenceEngine.Handle h =
        engine.submit(new Work(100, 10, 1, true, FinishReason.LENGTH), first);
    engine.submit(new Work(100, 1, 1, false, FinishReason.LENGTH), second);

    clock.advance(Duration.ofMillis(115));
    h.abort();
    clock.advance(Duration.ofMillis(100));

    assertThat(first.reason).isEqualTo(FinishReason.ABORT);
    assertThat(first.tokens).isEqualTo(2);
    assertThat(second.finishedAtMillis).isEqualTo(215);
    assertThat(engine.stats().abortedRequestsTotal()).isEqualTo(1);
    assertThat(clock.pendingDelays()).isEmpty();
  }

  @Test
  void kvCacheUsageCountsPromptAndGeneratedTokensOfRunningSequences() {
    InferenceEngine engine = engine(4);
    engine.submit(new Work(100, 50, 1, false, FinishReason.LENGTH), new Recorder());
    engine.submit(new Work(100, 50, 1, false, FinishReason.LENGTH), new Recorder());

    clock.advance(Duration.ofMillis(100 + 90));

    // 2 x (100 prompt + 10 generated) of 1,000 tokens
    assertThat(engine.stats().kvCacheUsage()).isEqualTo(0.22);
  }

  @Test
  void sleepAbortsRequestsAndLaterRequestsWaitUntilWakeUp() {
    InferenceEngine engine = engine(4);
    Recorder before = new Recorder();
    engine.submit(new Work(100, 10, 1, false, FinishReason.LENGTH), before);
    clock.advance(Duration.ofMillis(50));

    assertThat(engine.sleep(true)).isDone();
    Recorder during = new Recorder();
    engine.submit(new Work(100, 1, 1, false, FinishReason.LENGTH), during);
    clock.advance(Duration.ofSeconds(10));

    assertThat(before.reason).isEqualTo(FinishReason.ABORT);
    assertThat(during.reason).isNull();
    assertThat(engine.stats().waitingSeqs()).isEqualTo(1);
    assertThat(engine.stats().sleeping()).isTrue();

    engine.wakeUp();
    clock.advance(Duration.ofMillis(100));
    assertThat(during.reason).isEqualTo(FinishReason.LENGTH);
    assertThat(engine.stats().sleeping()).isFalse();
  }

  @Test
  void sleepInWaitModeCompletesWhenRunningRequestsHaveFinished() {
    InferenceEngine engine = engine(4);
    Recorder running = new Recorder();
    engine.submit(new Work(100, 1, 1, false, FinishReason.LENGTH), running);

    var drained = engine.sleep(false);
    assertThat(drained).isNotDone();
    clock.advance(Duration.ofMillis(100));

    assertThat(running.reason).isEqualTo(FinishReason.LENGTH);
    assertThat(drained).isDone();
  }

  @Test
  void modelIsLoadedOnlyAfterTheLoadTime() {
    VllmSimulatorConfig config =
        VllmSimulatorConfig.defaults().withLoadTime(Duration.ofMillis(200));
    InferenceEngine engine = new InferenceEngine(config, clock);
    engine.startLoading();

    clock.advance(Duration.ofMillis(199));
    assertThat(engine.isLoaded()).isFalse();
    clock.advance(Duration.ofMillis(1));
    assertThat(engine.isLoaded()).isTrue();
    assertThat(engine.loaded()).isDone();
  }
}

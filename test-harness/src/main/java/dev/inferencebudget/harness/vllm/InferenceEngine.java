package dev.inferencebudget.harness.vllm;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * The timing model of one vLLM engine, without HTTP: a FIFO waiting queue and at most {@code
 * maxNumSeqs} running sequences. A running request spends {@code promptTokens /
 * prefillTokensPerSecond} in prefill, which yields its first token, then one token every {@code 1 /
 * decodeTokensPerSecond}. A request with {@code n} choices runs {@code n} sequences in lockstep
 * (vLLM v1 fans such a request out into {@code n} child requests).
 *
 * <p>Token counts are computed from the scheduler's clock, not from how often timers fire, so a
 * late timer delays delivery but never changes a count. Thread-safe: every method holds the
 * engine's lock, and {@link Sink} callbacks run with it held (they must only hand work off, never
 * block).
 */
public final class InferenceEngine {

  /** Why a request ended: vLLM's {@code finish_reason} values. */
  public enum FinishReason {
    STOP("stop"),
    LENGTH("length"),
    ABORT("abort");

    private final String wireName;

    FinishReason(String wireName) {
      this.wireName = wireName;
    }

    /** The value in {@code finish_reason} and in the {@code finished_reason} metric label. */
    public String wireName() {
      return wireName;
    }
  }

  /**
   * What a request asks the engine to do.
   *
   * @param promptTokens tokens to prefill
   * @param outputTokens tokens to generate per choice (0 for an embedding: prefill only)
   * @param n choices, each a sequence
   * @param streamTokens whether the sink wants tokens as they are generated (else only the end)
   * @param naturalFinish the reason reported when all output tokens are generated
   */
  public record Work(
      int promptTokens, int outputTokens, int n, boolean streamTokens, FinishReason naturalFinish) {
    public Work {
      Objects.requireNonNull(naturalFinish, "naturalFinish");
      if (promptTokens < 0 || outputTokens < 0 || n < 1) {
        throw new IllegalArgumentException(
            "promptTokens = "
                + promptTokens
                + ", outputTokens = "
                + outputTokens
                + ", n = "
                + n
                + ": counts must be >= 0 and n >= 1");
      }
    }
  }

  /** Receives a request's progress. Called with the engine lock held: hand off, never block. */
  public interface Sink {
    /** Tokens {@code [from, from + count)} of every choice have been generated. */
    void tokens(int from, int count);

    /** The request ended after {@code tokensPerChoice} tokens per choice. */
    void finished(FinishReason reason, int tokensPerChoice);
  }

  /** A submitted request; {@link #abort()} ends it early (a client that went away). */
  public final class Handle {
    private final Work work;
    private final Sink sink;
    private final long arrivalNanos;
    private long admittedNanos;
    private long firstTokenNanos;
    private boolean prefilled;
    private int emitted;
    private boolean running;
    private boolean done;
    private SimulationScheduler.Cancellable timer;

    private Handle(Work work, Sink sink, long arrivalNanos) {
      this.work = work;
      this.sink = sink;
      this.arrivalNanos = arrivalNanos;
    }

    /** Ends the request now with {@link FinishReason#ABORT}; does nothing once it has ended. */
    public void abort() {
      synchronized (InferenceEngine.this) {
        if (!done) {
          finish(this, FinishReason.ABORT);
        }
      }
    }
  }

  private final VllmSimulatorConfig config;
  private final SimulationScheduler scheduler;
  private final EngineMetrics metrics;
  private final ArrayDeque<Handle> waiting = new ArrayDeque<>();
  private final Set<Handle> running = new LinkedHashSet<>();
  private final List<CompletableFuture<Void>> drainWaiters = new ArrayList<>();
  private final CompletableFuture<Void> loadedFuture = new CompletableFuture<>();
  private int runningSeqs;
  private int waitingSeqs;
  private boolean loaded;
  private boolean sleeping;
  private long promptTokensTotal;
  private long generationTokensTotal;
  private long finishedTotal;
  private long abortedTotal;

  public InferenceEngine(VllmSimulatorConfig config, SimulationScheduler scheduler) {
    this.config = Objects.requireNonNull(config, "config").validate();
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.metrics = new EngineMetrics(config, this::stats);
  }

  /** The engine's metrics, for {@code /metrics}. */
  public EngineMetrics metrics() {
    return metrics;
  }

  /** Starts loading the model; it is loaded after the configured load time. */
  public synchronized void startLoading() {
    scheduler.schedule(config.loadTime(), this::markLoaded);
  }

  private void markLoaded() {
    synchronized (this) {
      loaded = true;
    }
    loadedFuture.complete(null);
  }

  /** Completes when the model has loaded (what a readiness probe on {@code /health} waits for). */
  public CompletableFuture<Void> loaded() {
    return loadedFuture;
  }

  public synchronized boolean isLoaded() {
    return loaded;
  }

  public synchronized boolean isSleeping() {
    return sleeping;
  }

  /** Queues or starts a request. While asleep it waits, as a request does in a paused vLLM. */
  public synchronized Handle submit(Work work, Sink sink) {
    Objects.requireNonNull(work, "work");
    Objects.requireNonNull(sink, "sink");
    Handle h = new Handle(work, sink, scheduler.nanoTime());
    waiting.addLast(h);
    waitingSeqs += work.n();
    admitWaiting();
    return h;
  }

  /**
   * Enters sleep mode. {@code abortRunning} ends every running and waiting request with {@code
   * abort} first (vLLM's default {@code mode=abort}); otherwise the returned future completes when
   * the running requests have finished ({@code mode=wait}), and new requests wait until wake-up.
   */
  public synchronized CompletableFuture<Void> sleep(boolean abortRunning) {
    sleeping = true;
    if (abortRunning) {
      for (Handle h : List.copyOf(running)) {
        finish(h, FinishReason.ABORT);
      }
      for (Handle h : List.copyOf(waiting)) {
        finish(h, FinishReason.ABORT);
      }
    }
    CompletableFuture<Void> drained = new CompletableFuture<>();
    if (running.isEmpty()) {
      drained.complete(null);
    } else {
      drainWaiters.add(drained);
    }
    return drained;
  }

  /** Leaves sleep mode after the configured wake-up time; waiting requests then run. */
  public synchronized CompletableFuture<Void> wakeUp() {
    CompletableFuture<Void> awake = new CompletableFuture<>();
    if (!sleeping) {
      awake.complete(null);
      return awake;
    }
    Runnable wake =
        () -> {
          synchronized (this) {
            sleeping = false;
            admitWaiting();
          }
          awake.complete(null);
        };
    if (config.wakeUpTime().isZero()) {
      wake.run();
    } else {
      scheduler.schedule(config.wakeUpTime(), wake);
    }
    return awake;
  }

  /** The engine's figures now. */
  public synchronized EngineStats stats() {
    return new EngineStats(
        loaded,
        sleeping,
        runningSeqs,
        waitingSeqs,
        kvCacheUsage(),
        promptTokensTotal,
        generationTokensTotal,
        finishedTotal,
        abortedTotal);
  }

  private double kvCacheUsage() {
    long now = scheduler.nanoTime();
    long tokens = 0;
    for (Handle h : running) {
      int generated = Math.max(h.emitted, tokensDue(h, now));
      tokens += (long) (h.work.promptTokens() + generated) * h.work.n();
    }
    return Math.min(1.0, (double) tokens / config.kvCacheCapacityTokens());
  }

  private void admitWaiting() {
    while (!sleeping && !waiting.isEmpty()) {
      Handle next = waiting.peekFirst();
      // A request wider than the whole batch still runs, alone, rather than never.
      boolean fits = runningSeqs + next.work.n() <= config.maxNumSeqs() || running.isEmpty();
      if (!fits) {
        return;
      }
      waiting.pollFirst();
      waitingSeqs -= next.work.n();
      admit(next);
    }
  }

  private void admit(Handle h) {
    h.running = true;
    h.admittedNanos = scheduler.nanoTime();
    running.add(h);
    runningSeqs += h.work.n();
    long prefillNanos = nanosFor(h.work.promptTokens(), config.prefillTokensPerSecond());
    h.timer = scheduler.schedule(Duration.ofNanos(prefillNanos), () -> prefillDone(h));
  }

  private synchronized void prefillDone(Handle h) {
    if (h.done) {
      return;
    }
    h.firstTokenNanos =
        h.admittedNanos + nanosFor(h.work.promptTokens(), config.prefillTokensPerSecond());
    h.prefilled = true;
    promptTokensTotal += (long) h.work.promptTokens();
    metrics.prefilled(h.work.promptTokens(), seconds(h.firstTokenNanos - h.arrivalNanos));
    if (h.work.outputTokens() == 0) {
      finish(h, h.work.naturalFinish());
      return;
    }
    advance(h);
  }

  /** Delivers the tokens due by now; finishes or schedules the next delivery. */
  private synchronized void advance(Handle h) {
    if (h.done) {
      return;
    }
    long now = scheduler.nanoTime();
    int due = tokensDue(h, now);
    if (due > h.emitted) {
      int from = h.emitted;
      h.emitted = due;
      generationTokensTotal += (long) (due - from) * h.work.n();
      metrics.generated((long) (due - from) * h.work.n());
      if (h.work.streamTokens()) {
        h.sink.tokens(from, due - from);
      }
    }
    if (h.emitted >= h.work.outputTokens()) {
      finish(h, h.work.naturalFinish());
      return;
    }
    // Streaming wakes up for each token; otherwise only for the last one.
    int target = h.work.streamTokens() ? h.emitted : h.work.outputTokens() - 1;
    long at = tokenTime(h, target);
    h.timer = scheduler.schedule(Duration.ofNanos(Math.max(0, at - now)), () -> advance(h));
  }

  /** Tokens generated by {@code now}: the first at the end of prefill, then one per interval. */
  private int tokensDue(Handle h, long now) {
    if (!h.prefilled || now < h.firstTokenNanos) {
      return 0;
    }
    double decodeSeconds = (now - h.firstTokenNanos) / 1e9;
    long due = 1 + (long) Math.floor(decodeSeconds * config.decodeTokensPerSecond() + 1e-9);
    return (int) Math.min(h.work.outputTokens(), due);
  }

  private long tokenTime(Handle h, int index) {
    return h.firstTokenNanos + nanosFor(index, config.decodeTokensPerSecond());
  }

  private void finish(Handle h, FinishReason reason) {
    h.done = true;
    if (h.timer != null) {
      h.timer.cancel();
    }
    long now = scheduler.nanoTime();
    if (h.running) {
      running.remove(h);
      runningSeqs -= h.work.n();
    } else if (waiting.remove(h)) {
      waitingSeqs -= h.work.n();
    }
    finishedTotal++;
    if (reason == FinishReason.ABORT) {
      abortedTotal++;
    }
    long queueNanos = (h.running ? h.admittedNanos : now) - h.arrivalNanos;
    metrics.finished(
        reason,
        h.work.promptTokens(),
        (long) h.emitted * h.work.n(),
        seconds(now - h.arrivalNanos),
        seconds(queueNanos));
    h.sink.finished(reason, h.emitted);
    if (running.isEmpty() && !drainWaiters.isEmpty()) {
      List<CompletableFuture<Void>> drained = List.copyOf(drainWaiters);
      drainWaiters.clear();
      drained.forEach(f -> f.complete(null));
    }
    admitWaiting();
  }

  private static long nanosFor(long tokens, double tokensPerSecond) {
    return (long) Math.ceil(tokens * 1e9 / tokensPerSecond);
  }

  private static double seconds(long nanos) {
    return nanos / 1e9;
  }
}

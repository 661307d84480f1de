package dev.inferencebudget.extproc.metrics;

import dev.inferencebudget.extproc.api.LoadSource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

/** Per-model load over a reporting window; the controller link drains it once per interval. */
public final class LoadTracker implements LoadSource {
  /** TTFT samples kept per window and model; enough for a p95 of a one-second window. */
  static final int MAX_TTFT_SAMPLES = 4096;

  private static final class Window {
    long arrivals;
    long promptTokens;
    long completionTokens;
    Instant lastRequest;
    double[] ttft = new double[64];
    int ttftCount;
  }

  private final Map<String, Window> windows = new ConcurrentHashMap<>();
  private final Clock clock;
  private final Supplier<Collection<String>> models;
  private final ToIntFunction<String> inFlight;
  private final ToIntFunction<String> queued;
  private final ToIntFunction<String> held;

  public LoadTracker(
      Clock clock,
      Supplier<Collection<String>> models,
      ToIntFunction<String> inFlight,
      ToIntFunction<String> queued,
      ToIntFunction<String> held) {
    this.clock = Objects.requireNonNull(clock, "clock");
    this.models = Objects.requireNonNull(models, "models");
    this.inFlight = Objects.requireNonNull(inFlight, "inFlight");
    this.queued = Objects.requireNonNull(queued, "queued");
    this.held = Objects.requireNonNull(held, "held");
  }

  public void arrival(String modelKey) {
    Window w = window(modelKey);
    synchronized (w) {
      w.arrivals++;
      w.lastRequest = clock.instant();
    }
  }

  public void tokens(String modelKey, long prompt, long completion) {
    Window w = window(modelKey);
    synchronized (w) {
      w.promptTokens += prompt;
      w.completionTokens += completion;
    }
  }

  public void timeToFirstByte(String modelKey, Duration ttft) {
    Window w = window(modelKey);
    synchronized (w) {
      if (w.ttftCount == MAX_TTFT_SAMPLES) {
        return;
      }
      if (w.ttftCount == w.ttft.length) {
        w.ttft = Arrays.copyOf(w.ttft, Math.min(MAX_TTFT_SAMPLES, w.ttft.length * 2));
      }
      w.ttft[w.ttftCount++] = ttft.toNanos() / 1e9;
    }
  }

  private Window window(String modelKey) {
    return windows.computeIfAbsent(modelKey, k -> new Window());
  }

  @Override
  public List<ModelLoad> drainWindow() {
    List<ModelLoad> loads = new ArrayList<>();
    for (String key : models.get()) {
      Window w = windows.get(key);
      long arrivals = 0;
      long prompt = 0;
      long completion = 0;
      Instant last = null;
      double p50 = Double.NaN;
      double p95 = Double.NaN;
      if (w != null) {
        synchronized (w) {
          arrivals = w.arrivals;
          prompt = w.promptTokens;
          completion = w.completionTokens;
          last = w.lastRequest;
          if (w.ttftCount > 0) {
            double[] sorted = Arrays.copyOf(w.ttft, w.ttftCount);
            Arrays.sort(sorted);
            p50 = quantile(sorted, 0.5);
            p95 = quantile(sorted, 0.95);
          }
          w.arrivals = 0;
          w.promptTokens = 0;
          w.completionTokens = 0;
          w.ttftCount = 0;
        }
      }
      loads.add(
          new ModelLoad(
              key,
              arrivals,
              inFlight.applyAsInt(key),
              queued.applyAsInt(key),
              held.applyAsInt(key),
              prompt,
              completion,
              p50,
              p95,
              Optional.ofNullable(last)));
    }
    return loads;
  }

  private static double quantile(double[] sorted, double q) {
    int index = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
  }
}

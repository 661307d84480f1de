package dev.inferencebudget.controller.observe;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scrapes the vLLM {@code /metrics} of every ready replica on a slow period, on its own thread, and
 * keeps the GPU memory each one uses: vLLM's {@code gpu_memory_utilization} × the replica's GPUs ×
 * the GPU size. Never on the decision path: a slow or dead replica costs one timeout on this
 * thread, not a cycle.
 */
public final class GpuMemoryObserver implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(GpuMemoryObserver.class);

  /** A ready replica to scrape: {@code gpus} devices at {@code address:port}. */
  public record Target(String modelKey, String pod, String address, int port, int gpus) {
    public Target {
      Objects.requireNonNull(modelKey, "modelKey");
      Objects.requireNonNull(pod, "pod");
      Objects.requireNonNull(address, "address");
      if (gpus < 1) {
        throw new IllegalArgumentException("gpus = " + gpus + ", must be >= 1");
      }
    }
  }

  private final HttpClient http;
  private final Duration period;
  private final Duration timeout;
  private final long gpuMemoryPerDeviceBytes;
  private final Supplier<List<Target>> targets;
  private final Runnable onChange;
  private final ScheduledExecutorService executor;
  private volatile Map<String, Map<String, Long>> observed = Map.of();

  /**
   * @param targets the ready replicas now (read at each round)
   * @param onChange runs after a round whose observations differ from the previous round's
   */
  public GpuMemoryObserver(
      HttpClient http,
      Duration period,
      Duration timeout,
      long gpuMemoryPerDeviceBytes,
      Supplier<List<Target>> targets,
      Runnable onChange) {
    this.http = Objects.requireNonNull(http, "http");
    this.period = Objects.requireNonNull(period, "period");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.gpuMemoryPerDeviceBytes = gpuMemoryPerDeviceBytes;
    this.targets = Objects.requireNonNull(targets, "targets");
    this.onChange = Objects.requireNonNull(onChange, "onChange");
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "ibc-gpu-memory");
              t.setDaemon(true);
              return t;
            });
  }

  public GpuMemoryObserver start() {
    executor.scheduleWithFixedDelay(
        this::roundQuietly, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
    return this;
  }

  /** Bytes in use by model key, then by pod name, as of the last round. */
  public Map<String, Map<String, Long>> observed() {
    return observed;
  }

  /** Scrapes every target once now, on the caller's thread (tests; the period does the same). */
  public void round() {
    List<Target> now = targets.get();
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (Target t : now) {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create("http://" + t.address() + ":" + t.port() + "/metrics"))
              .timeout(timeout)
              .GET()
              .build();
      responses.add(http.sendAsync(request, HttpResponse.BodyHandlers.ofString()));
    }
    Map<String, Map<String, Long>> next = new HashMap<>();
    for (int i = 0; i < now.size(); i++) {
      Target t = now.get(i);
      try {
        HttpResponse<String> response =
            responses.get(i).get(timeout.toMillis() + 500, TimeUnit.MILLISECONDS);
        if (response.statusCode() != 200) {
          continue;
        }
        OptionalDouble fraction = VllmMetricsText.gpuMemoryUtilization(response.body());
        if (fraction.isPresent()) {
          long bytes = Math.round(fraction.getAsDouble() * t.gpus() * gpuMemoryPerDeviceBytes);
          next.computeIfAbsent(t.modelKey(), k -> new HashMap<>()).put(t.pod(), bytes);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (Exception e) {
        log.debug("metrics of {} ({}) not read: {}", t.pod(), t.modelKey(), e.toString());
      }
    }
    next.replaceAll((model, byPod) -> Map.copyOf(byPod));
    Map<String, Map<String, Long>> frozen = Map.copyOf(next);
    if (!frozen.equals(observed)) {
      observed = frozen;
      onChange.run();
    }
  }

  private void roundQuietly() {
    try {
      round();
    } catch (RuntimeException e) {
      log.warn("GPU memory observation round failed", e);
    }
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}

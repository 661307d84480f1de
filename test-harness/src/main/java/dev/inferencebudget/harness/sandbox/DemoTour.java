package dev.inferencebudget.harness.sandbox;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.HasMetadata;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Predicate;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

/**
 * {@code scripts/sandbox --demo}: a scripted tour through the data plane with plain HTTP, printing
 * what it sends and what it sees. Each step checks its outcome; {@link #run()} says whether all
 * held.
 */
final class DemoTour {
  static final String DEMO_RESOURCE = "sandbox/demo.yaml";
  private static final Duration STEP_TIMEOUT = Duration.ofSeconds(90);
  private static final String TENANT_A = "Bearer sk-tenant-a";
  private static final String TENANT_B = "Bearer sk-tenant-b";

  private final Sandbox sandbox;
  private final PrintStream out;
  private final HttpClient http =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  DemoTour(Sandbox sandbox, PrintStream out) {
    this.sandbox = Objects.requireNonNull(sandbox, "sandbox");
    this.out = Objects.requireNonNull(out, "out");
  }

  /** The demo's budget and models, from the classpath. */
  static List<HasMetadata> demoObjects(Sandbox sandbox) {
    try (InputStream in = DemoTour.class.getClassLoader().getResourceAsStream(DEMO_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(DEMO_RESOURCE + " is missing from the classpath");
      }
      return sandbox.client().load(in).items();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs every step; false (after saying why) as soon as one does not see what it expects. */
  boolean run() throws InterruptedException {
    try {
      coldStart();
      scaleToZero();
      preemptionAndRefusal();
      tokenRate();
      out.println();
      out.println("Demo complete: every step saw what it expected.");
      return true;
    } catch (StepFailed e) {
      out.println();
      out.println("Demo FAILED: " + e.getMessage());
      return false;
    }
  }

  private void coldStart() throws InterruptedException {
    SandboxState.Model qwen = model(Sandbox.EXAMPLE_COLD_MODEL);
    heading(
        "1. A cold request is held and served",
        Sandbox.EXAMPLE_COLD_MODEL
            + " ("
            + qwen.key()
            + ") has "
            + qwen.replicas()
            + " replicas. Sending a chat completion; ext-proc holds it while the controller starts a"
            + " replica (simulated load time "
            + seconds(sandbox.config().modelLoadTime())
            + ").");
    Timed response = send(chat(Sandbox.EXAMPLE_COLD_MODEL, 16, TENANT_A));
    expectStatus(response, 200);
    out.printf(
        Locale.ROOT,
        "   -> %d after %s (held %s beyond the load time), usage %s%n",
        response.response.statusCode(),
        seconds(response.elapsed),
        seconds(response.elapsed.minus(sandbox.config().modelLoadTime())),
        usage(response.response.body()));
  }

  private void scaleToZero() throws InterruptedException {
    String idle = sandbox.config().idleTimeout().map(DemoTour::seconds).orElse("as configured");
    heading(
        "2. The model scales to zero after idle",
        "No more requests to " + Sandbox.EXAMPLE_COLD_MODEL + " (idle timeout " + idle + ").");
    long start = System.nanoTime();
    SandboxState.Model qwen = model(Sandbox.EXAMPLE_COLD_MODEL);
    awaitState(
        "the model to scale to zero",
        s ->
            s.model(qwen.key())
                .map(m -> m.desiredReplicas() == 0 && m.replicas() == 0)
                .orElse(false));
    Duration scaledDown = Duration.ofNanos(System.nanoTime() - start);
    out.printf(
        Locale.ROOT,
        "   -> scaled to 0 replicas %s after the response (idle counts from the request's arrival)%n",
        seconds(scaledDown));
    awaitState(
        "the replica to terminate and its memory to be released",
        s ->
            s.model(qwen.key()).map(m -> m.terminatingReplicas() == 0).orElse(false)
                && s.budget(qwen.budget()).map(b -> b.reservedGpuMemoryBytes() == 0).orElse(false));
    SandboxState.Budget budget = sandbox.state().budget(qwen.budget()).orElseThrow();
    out.printf(
        Locale.ROOT,
        "   -> replica gone after its termination delay (%s); budget %s reserves %s of %s%n",
        seconds(sandbox.config().terminationDelay()),
        budget.key(),
        StateLines.gib(budget.reservedGpuMemoryBytes()),
        StateLines.gib(budget.gpuMemoryBytes()));
  }

  private void preemptionAndRefusal() throws InterruptedException {
    heading(
        "3. Preemption",
        "Budget demo/demo has 40Gi. demo-small (priority 100, 16Gi) serves a request, then"
            + " demo-big (priority 900, 32Gi) cold-starts: both do not fit, so the idle lower-priority"
            + " demo-small is scaled to zero to make room.");
    Instant smallSentAt = Instant.now();
    Timed small = send(chat("demo-small", 8, TENANT_A));
    expectStatus(small, 200);
    out.printf(
        Locale.ROOT,
        "   demo-small -> %d after %s%n",
        small.response.statusCode(),
        seconds(small.elapsed));
    // Only an idle model can be preempted: a request arriving while the controller still counts
    // demo-small busy (ext-proc reports load once a second) is refused instead.
    sandbox.awaitIdleInController("demo/demo-small", smallSentAt, STEP_TIMEOUT);
    out.println("   the controller now counts demo-small idle (ext-proc reported it, a cycle ran)");
    Timed big = send(chat("demo-big", 8, TENANT_A));
    expectStatus(big, 200);
    out.printf(
        Locale.ROOT,
        "   demo-big   -> %d after %s%n",
        big.response.statusCode(),
        seconds(big.elapsed));
    SandboxState state = sandbox.state();
    SandboxState.Model smallNow = state.model("demo/demo-small").orElseThrow();
    if (smallNow.desiredReplicas() != 0) {
      throw new StepFailed("demo-small still has " + smallNow.desiredReplicas() + " replicas");
    }
    out.println("   demo-small now has 0 replicas; the controller's event says:");
    for (Event event : sandbox.client().v1().events().inNamespace("demo").list().getItems()) {
      if (event.getReason() != null && event.getReason().startsWith("Preempt")) {
        out.println("     " + event.getReason() + ": " + event.getMessage());
      }
    }

    heading(
        "4. Budget refusal",
        "demo-small asks again while demo-big (higher priority, busy or not) holds 32Gi of 40Gi:"
            + " nothing may be preempted for it, so the request is refused at once.");
    Timed refused = send(chat("demo-small", 8, TENANT_A));
    expectStatus(refused, 503);
    out.printf(
        Locale.ROOT,
        "   -> %d after %s: %s%n",
        refused.response.statusCode(),
        seconds(refused.elapsed),
        refused.response.body());
  }

  private void tokenRate() throws InterruptedException {
    heading(
        "5. A tenant hits its token rate",
        "demo-big allows 300 tokens per minute per tenant (key: the authorization header). Tenant A"
            + " sends requests of up to 64 completion tokens until it is refused.");
    for (int i = 1; i <= 10; i++) {
      Timed r = send(chat("demo-big", 64, TENANT_A));
      HttpResponse<String> response = r.response;
      out.printf(
          Locale.ROOT,
          "   tenant A request %d -> %d, x-ratelimit-remaining-tokens: %s%n",
          i,
          response.statusCode(),
          response.headers().firstValue("x-ratelimit-remaining-tokens").orElse("-"));
      if (response.statusCode() == 429) {
        for (String header :
            List.of(
                "retry-after",
                "x-ratelimit-limit-tokens",
                "x-ratelimit-remaining-tokens",
                "x-ratelimit-reset-tokens",
                "x-ratelimit-limit-requests",
                "x-ratelimit-remaining-requests",
                "x-ratelimit-reset-requests")) {
          response
              .headers()
              .firstValue(header)
              .ifPresent(v -> out.println("     " + header + ": " + v));
        }
        out.println("     body: " + response.body());
        Timed other = send(chat("demo-big", 64, TENANT_B));
        expectStatus(other, 200);
        out.printf(
            Locale.ROOT,
            "   tenant B (its own bucket) -> %d, x-ratelimit-remaining-tokens: %s%n",
            other.response.statusCode(),
            other.response.headers().firstValue("x-ratelimit-remaining-tokens").orElse("-"));
        return;
      }
      expectStatus(r, 200);
    }
    throw new StepFailed("tenant A was never refused in 10 requests");
  }

  // ---- helpers ----

  private void heading(String title, String what) {
    out.println();
    out.println(title);
    out.println("   " + what);
  }

  private SandboxState.Model model(String openAiName) {
    return sandbox
        .state()
        .modelNamed(openAiName)
        .orElseThrow(() -> new StepFailed("no BudgetedModel serves " + openAiName));
  }

  private HttpRequest chat(String model, int maxTokens, String tenant) {
    String body =
        "{\"model\":\""
            + model
            + "\",\"messages\":[{\"role\":\"user\",\"content\":\"Tell me about foxes.\"}],"
            + "\"max_tokens\":"
            + maxTokens
            + "}";
    return HttpRequest.newBuilder(URI.create(sandbox.baseUrl() + "/chat/completions"))
        .timeout(STEP_TIMEOUT)
        .header("content-type", "application/json")
        .header("authorization", tenant)
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
  }

  private record Timed(HttpResponse<String> response, Duration elapsed) {}

  private Timed send(HttpRequest request) throws InterruptedException {
    long start = System.nanoTime();
    try {
      HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
      return new Timed(response, Duration.ofNanos(System.nanoTime() - start));
    } catch (IOException e) {
      throw new StepFailed(request.uri() + " failed: " + e);
    }
  }

  private static void expectStatus(Timed timed, int status) {
    if (timed.response.statusCode() != status) {
      throw new StepFailed(
          "expected "
              + status
              + ", got "
              + timed.response.statusCode()
              + ": "
              + timed.response.body());
    }
  }

  /** Polls the state (the API server has no notification for "this condition") until it holds. */
  private void awaitState(String what, Predicate<SandboxState> condition) {
    try {
      Awaitility.await(what)
          .atMost(STEP_TIMEOUT)
          .pollInterval(Duration.ofMillis(100))
          .until(() -> condition.test(sandbox.state()));
    } catch (ConditionTimeoutException e) {
      throw new StepFailed("timed out after " + seconds(STEP_TIMEOUT) + " waiting for " + what);
    }
  }

  private static String usage(String body) {
    int at = body.indexOf("\"usage\"");
    if (at < 0) {
      return "(none)";
    }
    int end = body.indexOf('}', at);
    return Optional.of(body.substring(at + 8, end < 0 ? body.length() : end + 1)).orElse("");
  }

  static String seconds(Duration d) {
    return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
  }

  /** A step that did not see what it expected. */
  private static final class StepFailed extends RuntimeException {
    StepFailed(String message) {
      super(message);
    }
  }
}

package dev.inferencebudget.extproc.testing;

import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.api.ModelState.AdmissionPolicy;
import dev.inferencebudget.extproc.api.ModelState.ColdStartPolicy;
import dev.inferencebudget.extproc.api.ModelState.Endpoint;
import dev.inferencebudget.extproc.api.ModelState.MaxTokensPolicy;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Model states for tests. */
public final class Models {
  private Models() {}

  public static ModelState ready(String key, String name, String... endpoints) {
    List<Endpoint> eps =
        java.util.Arrays.stream(endpoints).map(a -> new Endpoint(a, true, "pod-" + a)).toList();
    return ModelState.ready(
        key,
        List.of(name),
        eps.isEmpty() ? List.of(new Endpoint("10.0.0.1:8000", true, "p")) : eps);
  }

  public static ModelState cold(String key, String name) {
    return new ModelState(
        key,
        List.of(name),
        ModelState.State.SCALED_TO_ZERO,
        false,
        List.of(),
        AdmissionPolicy.unlimited(),
        new ColdStartPolicy(Duration.ofSeconds(60), 10),
        Optional.empty(),
        0,
        0,
        0);
  }

  public static AdmissionPolicy rates(long tokensPerMinute, long requestsPerMinute) {
    return new AdmissionPolicy(
        0,
        0,
        MaxTokensPolicy.CLAMP,
        tokensPerMinute,
        requestsPerMinute,
        "",
        10,
        Duration.ofSeconds(30),
        "");
  }

  public static AdmissionPolicy policy(
      long maxPrompt,
      long maxCompletion,
      MaxTokensPolicy maxTokensPolicy,
      long tokensPerMinute,
      long requestsPerMinute,
      int queueLength,
      Duration queueWait) {
    return new AdmissionPolicy(
        maxPrompt,
        maxCompletion,
        maxTokensPolicy,
        tokensPerMinute,
        requestsPerMinute,
        "",
        queueLength,
        queueWait,
        "");
  }

  /** A ready model with a concurrency limit of {@code replicas × perReplica}. */
  public static ModelState limited(String key, String name, int replicas, int perReplica) {
    ModelState base = ready(key, name);
    return base.withServing(ModelState.State.READY, true, base.endpoints(), replicas, perReplica);
  }
}

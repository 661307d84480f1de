package dev.inferencebudget.extproc.api;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What ext-proc knows about one BudgetedModel; mirrors {@code ibc.v1.ModelState} field by field so
 * the controller link converts one into the other without judgement.
 *
 * @param key namespace/name of the BudgetedModel (the routing header value)
 * @param modelNames the OpenAI {@code model} values that route here
 * @param state the controller's lifecycle state (informational; {@code routable} decides)
 * @param routable whether Envoy can send a request to a ready replica now (see DESIGN "Routable")
 * @param endpoints the model's endpoints; only ready ones are picked
 * @param readyReplicas ready replicas
 * @param targetInFlightPerReplica concurrency per ready replica before requests queue (0: no limit)
 * @param priority the model's priority (default priority of its requests in the queue)
 * @param budgetRefusal present while the model's budget refuses a scale-up
 */
public record ModelState(
    String key,
    List<String> modelNames,
    State state,
    boolean routable,
    List<Endpoint> endpoints,
    AdmissionPolicy admission,
    ColdStartPolicy coldStart,
    Optional<BudgetRefusal> budgetRefusal,
    int readyReplicas,
    int targetInFlightPerReplica,
    int priority) {

  /** The controller's view of the model's lifecycle. */
  public enum State {
    UNSPECIFIED,
    SCALED_TO_ZERO,
    COLD_STARTING,
    READY,
    SCALING,
    BUDGET_BLOCKED
  }

  public ModelState {
    Objects.requireNonNull(key, "key");
    modelNames = List.copyOf(modelNames);
    Objects.requireNonNull(state, "state");
    endpoints = List.copyOf(endpoints);
    Objects.requireNonNull(admission, "admission");
    Objects.requireNonNull(coldStart, "coldStart");
    Objects.requireNonNull(budgetRefusal, "budgetRefusal");
    if (key.isBlank()) {
      throw new IllegalArgumentException("model key is blank");
    }
    if (readyReplicas < 0 || targetInFlightPerReplica < 0) {
      throw new IllegalArgumentException(
          key + ": readyReplicas and targetInFlightPerReplica must not be negative");
    }
  }

  /**
   * Requests that may be in flight at once before new ones queue; {@code Integer.MAX_VALUE} when
   * the model sets no target.
   */
  public int concurrencyLimit() {
    if (targetInFlightPerReplica == 0) {
      return Integer.MAX_VALUE;
    }
    return (int) Math.min(Integer.MAX_VALUE, (long) readyReplicas * targetInFlightPerReplica);
  }

  /** The ready endpoints, in the controller's order. */
  public List<Endpoint> readyEndpoints() {
    return endpoints.stream().filter(Endpoint::ready).toList();
  }

  /** A ready, routable model with defaults for everything else; handy for tests and static mode. */
  public static ModelState ready(String key, List<String> modelNames, List<Endpoint> endpoints) {
    return new ModelState(
        key,
        modelNames,
        State.READY,
        true,
        endpoints,
        AdmissionPolicy.unlimited(),
        ColdStartPolicy.defaults(),
        Optional.empty(),
        (int) endpoints.stream().filter(Endpoint::ready).count(),
        0,
        0);
  }

  public ModelState withAdmission(AdmissionPolicy policy) {
    return new ModelState(
        key,
        modelNames,
        state,
        routable,
        endpoints,
        policy,
        coldStart,
        budgetRefusal,
        readyReplicas,
        targetInFlightPerReplica,
        priority);
  }

  public ModelState withColdStart(ColdStartPolicy policy) {
    return new ModelState(
        key,
        modelNames,
        state,
        routable,
        endpoints,
        admission,
        policy,
        budgetRefusal,
        readyReplicas,
        targetInFlightPerReplica,
        priority);
  }

  /** This model with its serving capacity changed (replicas, endpoints, routability). */
  public ModelState withServing(
      State newState,
      boolean isRoutable,
      List<Endpoint> newEndpoints,
      int newReadyReplicas,
      int newTargetInFlightPerReplica) {
    return new ModelState(
        key,
        modelNames,
        newState,
        isRoutable,
        newEndpoints,
        admission,
        coldStart,
        budgetRefusal,
        newReadyReplicas,
        newTargetInFlightPerReplica,
        priority);
  }

  public ModelState withBudgetRefusal(Optional<BudgetRefusal> refusal) {
    return new ModelState(
        key,
        modelNames,
        state,
        routable,
        endpoints,
        admission,
        coldStart,
        refusal,
        readyReplicas,
        targetInFlightPerReplica,
        priority);
  }

  public ModelState withPriority(int newPriority) {
    return new ModelState(
        key,
        modelNames,
        state,
        routable,
        endpoints,
        admission,
        coldStart,
        budgetRefusal,
        readyReplicas,
        targetInFlightPerReplica,
        newPriority);
  }

  /** One endpoint of a model: {@code address} is a literal {@code ip:port}. */
  public record Endpoint(String address, boolean ready, String pod) {
    public Endpoint {
      Objects.requireNonNull(address, "address");
      Objects.requireNonNull(pod, "pod");
    }
  }

  /**
   * Admission limits of one model; a limit of 0 means "no limit".
   *
   * @param maxTokensPolicy what to do when {@code max_tokens} exceeds {@code maxCompletionTokens}
   * @param tenantHeader header naming the tenant key; empty: the server's default
   * @param queueLength most requests waiting for a slot; 0: never queue (429 at once)
   * @param queueWait longest wait in the queue before 503
   * @param tokenizer {@code o200k_base}, {@code cl100k_base}, or the name of a Hugging Face
   *     tokenizer directory; empty: {@code o200k_base}
   * @param imageTokens prompt tokens one {@code image_url} content part costs (an exception to "0
   *     means no limit": 0 makes images free)
   * @param audioTokens prompt tokens one {@code input_audio}/{@code audio_url} part costs
   */
  public record AdmissionPolicy(
      long maxPromptTokens,
      long maxCompletionTokens,
      MaxTokensPolicy maxTokensPolicy,
      long tokensPerMinute,
      long requestsPerMinute,
      String tenantHeader,
      int queueLength,
      Duration queueWait,
      String tokenizer,
      long imageTokens,
      long audioTokens) {

    /**
     * What one image costs when the model says nothing: OpenAI's high-detail cost of an image at
     * the largest size after its scaling (85 + 4 tiles x 170). vLLM models differ (LLaVA 1.5: 576,
     * Qwen2-VL: one token per 28x28 pixels), so a vision model should name its own.
     */
    public static final long DEFAULT_IMAGE_TOKENS = 765;

    /**
     * What one audio input costs when the model says nothing: Whisper-style encoders (Qwen2-Audio,
     * Ultravox) produce about 25 tokens per second, and 30 s is their usual window: 750.
     */
    public static final long DEFAULT_AUDIO_TOKENS = 750;

    /** A policy with the default image and audio costs. */
    public AdmissionPolicy(
        long maxPromptTokens,
        long maxCompletionTokens,
        MaxTokensPolicy maxTokensPolicy,
        long tokensPerMinute,
        long requestsPerMinute,
        String tenantHeader,
        int queueLength,
        Duration queueWait,
        String tokenizer) {
      this(
          maxPromptTokens,
          maxCompletionTokens,
          maxTokensPolicy,
          tokensPerMinute,
          requestsPerMinute,
          tenantHeader,
          queueLength,
          queueWait,
          tokenizer,
          DEFAULT_IMAGE_TOKENS,
          DEFAULT_AUDIO_TOKENS);
    }

    public AdmissionPolicy {
      Objects.requireNonNull(maxTokensPolicy, "maxTokensPolicy");
      Objects.requireNonNull(tenantHeader, "tenantHeader");
      Objects.requireNonNull(queueWait, "queueWait");
      Objects.requireNonNull(tokenizer, "tokenizer");
      if (maxPromptTokens < 0
          || maxCompletionTokens < 0
          || tokensPerMinute < 0
          || requestsPerMinute < 0
          || queueLength < 0
          || queueWait.isNegative()
          || imageTokens < 0
          || audioTokens < 0) {
        throw new IllegalArgumentException("admission limits must not be negative");
      }
    }

    /** No limits, a short queue; what a model without {@code spec.admission} gets. */
    public static AdmissionPolicy unlimited() {
      return new AdmissionPolicy(
          0, 0, MaxTokensPolicy.CLAMP, 0, 0, "", 100, Duration.ofSeconds(30), "");
    }
  }

  /** What to do when a request asks for more completion tokens than the model allows. */
  public enum MaxTokensPolicy {
    CLAMP,
    REJECT
  }

  /** How long a request may wait for a cold model and how many may wait at once. */
  public record ColdStartPolicy(Duration holdTimeout, int maxHeldRequests) {
    public ColdStartPolicy {
      Objects.requireNonNull(holdTimeout, "holdTimeout");
      if (holdTimeout.isNegative() || maxHeldRequests < 0) {
        throw new IllegalArgumentException("cold-start limits must not be negative");
      }
    }

    public static ColdStartPolicy defaults() {
      return new ColdStartPolicy(Duration.ofMinutes(5), 1000);
    }
  }

  /** The budget that refuses this model's scale-up, and by how much. */
  public record BudgetRefusal(String budget, long neededBytes, long freeBytes, String message) {
    public BudgetRefusal {
      Objects.requireNonNull(budget, "budget");
      Objects.requireNonNull(message, "message");
    }
  }
}

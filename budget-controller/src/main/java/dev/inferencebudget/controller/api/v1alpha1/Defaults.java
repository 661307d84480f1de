package dev.inferencebudget.controller.api.v1alpha1;

/**
 * Every default of the custom resources in one place. The CRD schema's {@code default:} values and
 * the Java records' defaults are both taken from these constants, so they cannot drift apart.
 */
public final class Defaults {

  // InferenceBudget
  /** Above 90% reserved only protected priorities may grow. */
  public static final int PROTECTION_THRESHOLD_PERCENT = 90;

  /** Models at priority 500 or higher keep growing above the protection threshold. */
  public static final int PROTECTED_PRIORITY = 500;

  /** Never scale another model down unless asked to: preemption is opt-in. */
  public static final String PREEMPTION = "Never";

  // BudgetedModel
  public static final int PRIORITY = 100;
  public static final int MIN_PRIORITY = 0;
  public static final int MAX_PRIORITY = 1000;
  public static final int REPLICAS_MIN = 0;
  public static final int REPLICAS_MAX = 1;
  public static final String TARGET_KIND = "Deployment";
  public static final boolean NODE_WARMTH = false;

  public static final String IDLE_TIMEOUT = "10m";
  public static final String KEEP_ALIVE = "Fixed";

  /** The adaptive keep-alive's histogram: the paper's one-minute buckets over four hours. */
  public static final String ADAPTIVE_BUCKET_WIDTH = "1m";

  public static final String ADAPTIVE_HISTOGRAM_RANGE = "4h";

  public static final int TARGET_IN_FLIGHT_PER_REPLICA = 16;
  public static final int TARGET_QUEUE_DEPTH_PER_REPLICA = 4;

  /** Knative's KPA defaults: a 60s stable window and a panic window of 10% of it. */
  public static final String STABLE_WINDOW = "60s";

  public static final String PANIC_WINDOW = "6s";

  /** Panic when the panic window asks for twice the current capacity (Knative: 200%). */
  public static final int PANIC_THRESHOLD_PERCENT = 200;

  /**
   * Unlike Knative (0s), hold capacity for 5 minutes after load falls: a GPU replica takes minutes
   * to come back, so flapping costs far more than it does for a web container.
   */
  public static final String SCALE_DOWN_DELAY = "5m";

  /**
   * At most double the replicas per decision (Knative allows 1000x; a GPU pool cannot absorb that).
   */
  public static final double MAX_SCALE_UP_RATE = 2.0;

  /** Long enough for a large model to load from a warm node cache. */
  public static final String HOLD_TIMEOUT = "5m";

  public static final int MAX_HELD_REQUESTS = 100;

  public static final String SCHEDULE_TIME_ZONE = "UTC";

  /**
   * Like OpenAI's own API: a {@code max_tokens} above the model's limit is an error, not silently
   * lowered.
   */
  public static final String MAX_TOKENS_POLICY = "Reject";

  /** The bearer token identifies the tenant key (ext-proc keeps only its hash). */
  public static final String TENANT_HEADER = "authorization";

  public static final int QUEUE_LENGTH = 100;
  public static final String QUEUE_WAIT = "30s";

  public static final String TOKENIZER_TYPE = "Tiktoken";
  public static final String TIKTOKEN_ENCODING = "o200k_base";

  public static final String PARENT_REF_GROUP = "gateway.networking.k8s.io";
  public static final String PARENT_REF_KIND = "Gateway";

  /** vLLM's default port, also the Service port of the examples. */
  public static final int ROUTE_BACKEND_PORT = 8000;

  private Defaults() {}
}

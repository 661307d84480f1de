package dev.inferencebudget.harness.vllm;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A simulated vLLM OpenAI-compatible server on Vert.x. Start one per replica with {@link
 * #start(Vertx, VllmSimulatorConfig)}; {@link #port()} is the bound port; {@link #close()} stops
 * it. Endpoints, shapes and metric names follow vLLM; see {@code docs/vllm-simulator.md}.
 */
public final class VllmSimulator implements AutoCloseable {
  private static final String JSON = "application/json";
  private static final String EVENT_STREAM = "text/event-stream; charset=utf-8";
  private static final long START_TIMEOUT_SECONDS = 30;
  private static final int BODY_LIMIT_BYTES = 32 * 1024 * 1024;

  private final VllmSimulatorConfig config;
  private final Vertx vertx;
  private final boolean ownsVertx;
  private final SimulationScheduler scheduler;
  private final InferenceEngine engine;
  private final AtomicLong requestIds = new AtomicLong();
  private volatile HttpServer server;

  private VllmSimulator(
      VllmSimulatorConfig config, Vertx vertx, boolean ownsVertx, SimulationScheduler scheduler) {
    this.config = config;
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.scheduler = scheduler;
    this.engine = new InferenceEngine(config, scheduler);
  }

  /** Starts a simulator on its own Vert.x instance (closed with it), in real time. */
  public static VllmSimulator start(VllmSimulatorConfig config) {
    Vertx own = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(1));
    try {
      return start(own, true, config, VertxScheduler.systemTime(own));
    } catch (RuntimeException e) {
      own.close();
      throw e;
    }
  }

  /** Starts a simulator on a shared Vert.x instance, in real time. */
  public static VllmSimulator start(Vertx vertx, VllmSimulatorConfig config) {
    return start(vertx, false, config, VertxScheduler.systemTime(vertx));
  }

  /** Starts a simulator whose engine runs on {@code scheduler} (a manual clock in tests). */
  public static VllmSimulator start(
      Vertx vertx, VllmSimulatorConfig config, SimulationScheduler scheduler) {
    return start(vertx, false, config, scheduler);
  }

  private static VllmSimulator start(
      Vertx vertx, boolean ownsVertx, VllmSimulatorConfig config, SimulationScheduler scheduler) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(scheduler, "scheduler");
    VllmSimulator sim =
        new VllmSimulator(
            Objects.requireNonNull(config, "config").validate(), vertx, ownsVertx, scheduler);
    sim.listen();
    sim.engine.startLoading();
    return sim;
  }

  private void listen() {
    HttpServerOptions options =
        new HttpServerOptions().setHost(config.host()).setPort(config.port());
    try {
      server =
          vertx
              .createHttpServer(options)
              .requestHandler(router())
              .listen()
              .toCompletionStage()
              .toCompletableFuture()
              .get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while binding the vLLM simulator", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException(
          "vLLM simulator could not listen on " + config.host() + ":" + config.port(), e);
    }
  }

  /** The bound port. */
  public int port() {
    return server.actualPort();
  }

  /** {@code http://host:port}, where {@code /health} and {@code /metrics} live. */
  public String baseUrl() {
    return "http://" + config.host() + ":" + port();
  }

  /** {@code http://host:port/v1}, the base URL of an OpenAI client. */
  public String openAiBaseUrl() {
    return baseUrl() + "/v1";
  }

  public VllmSimulatorConfig config() {
    return config;
  }

  /** The timing model, for tests and the simulated kubelet. */
  public InferenceEngine engine() {
    return engine;
  }

  /** The engine's figures now. */
  public EngineStats stats() {
    return engine.stats();
  }

  /** Completes when the model has loaded and {@code /health} answers 200. */
  public CompletableFuture<Void> loaded() {
    return engine.loaded();
  }

  /** Stops listening (open connections are closed) and, if it owns one, its Vert.x instance. */
  @Override
  public void close() {
    HttpServer s = server;
    try {
      if (s != null) {
        s.close()
            .toCompletionStage()
            .toCompletableFuture()
            .get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
      if (ownsVertx) {
        vertx
            .close()
            .toCompletionStage()
            .toCompletableFuture()
            .get(START_TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("vLLM simulator did not stop cleanly", e);
    }
  }

  private Router router() {
    Router router = Router.router(vertx);
    BodyHandler body = BodyHandler.create(false).setBodyLimit(BODY_LIMIT_BYTES);
    router.post("/v1/chat/completions").handler(body).handler(rc -> inference(rc, this::chat));
    router.post("/v1/completions").handler(body).handler(rc -> inference(rc, this::completion));
    router.post("/v1/embeddings").handler(body).handler(rc -> inference(rc, this::embeddings));
    router.get("/v1/models").handler(this::models);
    router.get("/health").handler(this::health);
    router.get("/metrics").handler(this::metrics);
    router
        .get("/version")
        .handler(rc -> sendJson(rc.response(), 200, new JsonObject().put("version", "simulator")));
    router.post("/sleep").handler(this::sleep);
    router.post("/wake_up").handler(this::wakeUp);
    router.get("/is_sleeping").handler(this::isSleeping);
    // FastAPI's answers to unknown paths and methods.
    router.errorHandler(
        405,
        rc -> sendJson(rc.response(), 405, new JsonObject().put("detail", "Method Not Allowed")));
    router
        .route()
        .last()
        .handler(rc -> sendJson(rc.response(), 404, new JsonObject().put("detail", "Not Found")));
    return router;
  }

  // ---- inference endpoints ----

  /** Parses a request body; every refusal is mapped to vLLM's error shape here, in one place. */
  private void inference(RoutingContext rc, BodyHandlerFn handler) {
    HttpServerResponse response = rc.response();
    if (!engine.isLoaded()) {
      sendError(response, ApiError.notLoaded());
      return;
    }
    JsonObject body;
    try {
      Buffer buffer = rc.body().buffer();
      if (buffer == null || buffer.length() == 0) {
        throw new ApiError.Exception(ApiError.badRequest("The request body is empty."));
      }
      body = new JsonObject(buffer);
    } catch (DecodeException e) {
      sendError(response, ApiError.badRequest("JSON decode error: " + e.getMessage()));
      return;
    } catch (ApiError.Exception e) {
      sendError(response, e.error());
      return;
    }
    try {
      handler.accept(rc, body);
    } catch (ApiError.Exception e) {
      sendError(response, e.error());
    } catch (ClassCastException | IllegalArgumentException e) {
      sendError(response, ApiError.badRequest(String.valueOf(e.getMessage())));
    }
  }

  /** Handles a parsed request body; throws {@link ApiError.Exception} to refuse it. */
  @FunctionalInterface
  private interface BodyHandlerFn {
    void accept(RoutingContext rc, JsonObject body);
  }

  private void chat(RoutingContext rc, JsonObject body) {
    String model = model(body);
    if (!(body.getValue("messages") instanceof JsonArray messages) || messages.isEmpty()) {
      throw new ApiError.Exception(ApiError.badRequest("messages: Field required", "messages"));
    }
    int promptTokens = SyntheticModel.chatPromptTokens(messages);
    Integer maxTokens = optionalInt(body, "max_completion_tokens");
    if (maxTokens == null) {
      maxTokens = optionalInt(body, "max_tokens");
    }
    generate(rc, Kind.CHAT, model, List.of(promptTokens), maxTokens, body);
  }

  /**
   * {@code prompt} is a string, a token-id array, or a batch of either; vLLM answers a batch of k
   * prompts with k × n choices (choice {@code i * n + j} is the j-th sample of prompt i) and one
   * usage summing every prompt.
   */
  private void completion(RoutingContext rc, JsonObject body) {
    String model = model(body);
    Object prompt = body.getValue("prompt");
    if (prompt == null) {
      throw new ApiError.Exception(ApiError.badRequest("prompt: Field required", "prompt"));
    }
    List<Integer> promptTokens = new ArrayList<>();
    if (prompt instanceof JsonArray batch
        && !batch.isEmpty()
        && !(batch.getValue(0) instanceof Number)) {
      for (Object p : batch) {
        if (!(p instanceof String)
            && !(p instanceof JsonArray ids && ids.stream().allMatch(i -> i instanceof Number))) {
          throw new ApiError.Exception(
              ApiError.badRequest(
                  "prompt must be a string, an array of token ids, or a list of either.",
                  "prompt"));
        }
        promptTokens.add(SyntheticModel.inputTokens(p));
      }
    } else {
      promptTokens.add(SyntheticModel.inputTokens(prompt));
    }
    generate(rc, Kind.COMPLETION, model, promptTokens, optionalInt(body, "max_tokens"), body);
  }

  private void generate(
      RoutingContext rc,
      Kind kind,
      String model,
      List<Integer> promptTokensEach,
      Integer maxTokens,
      JsonObject body) {
    Integer requestedN = optionalInt(body, "n");
    int samples = requestedN == null ? 1 : requestedN;
    if (samples < 1) {
      throw new ApiError.Exception(
          ApiError.badRequest("n must be at least 1, got " + samples + ".", "n"));
    }
    // Every prompt of a batch must fit the context; the longest decides. The simulated outputs of
    // one request all have the same length (vLLM's vary with where each sample stops).
    int promptTokens = promptTokensEach.stream().mapToInt(Integer::intValue).sum();
    int longestPrompt = promptTokensEach.stream().mapToInt(Integer::intValue).max().orElseThrow();
    int n = samples * promptTokensEach.size();
    boolean stream = Boolean.TRUE.equals(body.getValue("stream"));
    Object streamOptions = body.getValue("stream_options");
    if (streamOptions != null && !stream) {
      throw new ApiError.Exception(
          ApiError.badRequest(
              "Stream options can only be defined when `stream=True`.", "stream_options"));
    }
    // vLLM's StreamOptions.include_usage defaults to true once stream_options is given.
    boolean includeUsage =
        streamOptions instanceof JsonObject so
            && !Boolean.FALSE.equals(so.getValue("include_usage"));
    if (maxTokens != null && maxTokens < 1) {
      throw new ApiError.Exception(
          ApiError.badRequest(
              "max_tokens must be at least 1, got " + maxTokens + ".", "max_tokens"));
    }
    int room = config.maxModelLen() - longestPrompt;
    if (room < 1 || (maxTokens != null && maxTokens > room)) {
      int requested = longestPrompt + (maxTokens == null ? 0 : maxTokens);
      throw new ApiError.Exception(
          ApiError.badRequest(
              "This model's maximum context length is "
                  + config.maxModelLen()
                  + " tokens. However, you requested "
                  + requested
                  + " tokens ("
                  + longestPrompt
                  + " in the messages, "
                  + (maxTokens == null ? 0 : maxTokens)
                  + " in the completion). Please reduce the length of the messages or completion."));
    }
    int outputTokens;
    InferenceEngine.FinishReason finish;
    if (maxTokens != null) {
      outputTokens = maxTokens;
      finish = InferenceEngine.FinishReason.LENGTH;
    } else {
      outputTokens = Math.min(config.defaultMaxTokens(), room);
      finish =
          outputTokens < config.defaultMaxTokens()
              ? InferenceEngine.FinishReason.LENGTH
              : InferenceEngine.FinishReason.STOP;
    }
    Generation g =
        new Generation(
            rc, kind, model, promptTokens, outputTokens, n, stream, includeUsage, nextId(kind));
    g.start(new InferenceEngine.Work(promptTokens, outputTokens, n, stream, finish));
  }

  private void embeddings(RoutingContext rc, JsonObject body) {
    String model = model(body);
    List<Object> inputs = embeddingInputs(body.getValue("input"));
    Integer dimensions = optionalInt(body, "dimensions");
    if (dimensions != null && dimensions < 1) {
      throw new ApiError.Exception(
          ApiError.badRequest("dimensions must be at least 1.", "dimensions"));
    }
    int dims = dimensions == null ? config.embeddingDimensions() : dimensions;
    String format =
        body.getValue("encoding_format") == null ? "float" : body.getString("encoding_format");
    if (!format.equals("float") && !format.equals("base64")) {
      throw new ApiError.Exception(
          ApiError.badRequest("encoding_format must be float or base64.", "encoding_format"));
    }
    int promptTokens = 0;
    for (Object input : inputs) {
      int t = SyntheticModel.inputTokens(input);
      if (t > config.maxModelLen()) {
        throw new ApiError.Exception(
            ApiError.badRequest(
                "This model's maximum context length is "
                    + config.maxModelLen()
                    + " tokens. However, you requested "
                    + t
                    + " tokens in the input for embedding generation. Please reduce the length of"
                    + " the input."));
      }
      promptTokens += t;
    }
    int totalPromptTokens = promptTokens;
    HttpServerResponse response = rc.response();
    Context ctx = vertx.getOrCreateContext();
    String id = "embd-" + String.format("%032x", requestIds.incrementAndGet());
    long created = scheduler.epochSecond();
    InferenceEngine.Handle handle =
        engine.submit(
            new InferenceEngine.Work(promptTokens, 0, 1, false, InferenceEngine.FinishReason.STOP),
            new InferenceEngine.Sink() {
              @Override
              public void tokens(int from, int count) {}

              @Override
              public void finished(InferenceEngine.FinishReason reason, int tokensPerChoice) {
                ctx.runOnContext(
                    v -> {
                      if (response.closed() || response.ended()) {
                        return;
                      }
                      if (reason == InferenceEngine.FinishReason.ABORT) {
                        sendError(
                            response,
                            new ApiError(
                                500, "InternalServerError", "The request was aborted.", null));
                        return;
                      }
                      JsonArray data = new JsonArray();
                      for (int i = 0; i < inputs.size(); i++) {
                        float[] vector =
                            SyntheticModel.embedding(String.valueOf(inputs.get(i)), dims);
                        data.add(
                            new JsonObject()
                                .put("index", i)
                                .put("object", "embedding")
                                .put(
                                    "embedding",
                                    format.equals("base64") ? base64(vector) : floats(vector)));
                      }
                      sendJson(
                          response,
                          200,
                          new JsonObject()
                              .put("id", id)
                              .put("object", "list")
                              .put("created", created)
                              .put("model", model)
                              .put("data", data)
                              .put(
                                  "usage",
                                  new JsonObject()
                                      .put("prompt_tokens", totalPromptTokens)
                                      .put("total_tokens", totalPromptTokens)
                                      .put("completion_tokens", 0)
                                      .put("prompt_tokens_details", null)));
                    });
              }
            });
    response.closeHandler(v -> handle.abort());
  }

  private static List<Object> embeddingInputs(Object input) {
    if (input instanceof String s) {
      return List.of(s);
    }
    if (input instanceof JsonArray array && !array.isEmpty()) {
      if (array.stream().allMatch(i -> i instanceof Number)) {
        return List.of(array);
      }
      List<Object> inputs = new ArrayList<>();
      for (Object i : array) {
        if (!(i instanceof String) && !(i instanceof JsonArray)) {
          throw new ApiError.Exception(
              ApiError.badRequest("input must be a string, strings, or token id arrays.", "input"));
        }
        inputs.add(i);
      }
      return inputs;
    }
    throw new ApiError.Exception(ApiError.badRequest("input: Field required", "input"));
  }

  private static JsonArray floats(float[] vector) {
    JsonArray a = new JsonArray();
    for (float f : vector) {
      a.add(f);
    }
    return a;
  }

  private static String base64(float[] vector) {
    ByteBuffer bytes = ByteBuffer.allocate(vector.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (float f : vector) {
      bytes.putFloat(f);
    }
    return Base64.getEncoder().encodeToString(bytes.array());
  }

  /** The requested model: absent means the first served name, as in vLLM. */
  private String model(JsonObject body) {
    Object model = body.getValue("model");
    if (model == null) {
      return config.primaryModelName();
    }
    if (!(model instanceof String name)) {
      throw new ApiError.Exception(ApiError.badRequest("model must be a string.", "model"));
    }
    if (!config.servedModelNames().contains(name)) {
      throw new ApiError.Exception(ApiError.modelNotFound(name));
    }
    return name;
  }

  private static Integer optionalInt(JsonObject body, String key) {
    Object v = body.getValue(key);
    if (v == null) {
      return null;
    }
    if (v instanceof Integer || v instanceof Long) {
      return ((Number) v).intValue();
    }
    throw new ApiError.Exception(ApiError.badRequest(key + " must be an integer.", key));
  }

  private String nextId(Kind kind) {
    return kind.idPrefix + String.format("%032x", requestIds.incrementAndGet());
  }

  private enum Kind {
    CHAT("chatcmpl-", "chat.completion", "chat.completion.chunk"),
    COMPLETION("cmpl-", "text_completion", "text_completion");

    final String idPrefix;
    final String object;
    final String chunkObject;

    Kind(String idPrefix, String object, String chunkObject) {
      this.idPrefix = idPrefix;
      this.object = object;
      this.chunkObject = chunkObject;
    }
  }

  /**
   * One chat or text completion in flight: turns the engine's progress into a JSON response or an
   * SSE stream of chunks shaped like vLLM's. Engine callbacks hop onto the request's event loop.
   */
  private final class Generation implements InferenceEngine.Sink {
    private final HttpServerResponse response;
    private final Context ctx;
    private final Kind kind;
    private final String model;
    private final int promptTokens;
    private final int outputTokens;
    private final int n;
    private final boolean stream;
    private final boolean includeUsage;
    private final String id;
    private final long created;
    private boolean roleSent;
    private String heldText = "";

    Generation(
        RoutingContext rc,
        Kind kind,
        String model,
        int promptTokens,
        int outputTokens,
        int n,
        boolean stream,
        boolean includeUsage,
        String id) {
      this.response = rc.response();
      this.ctx = vertx.getOrCreateContext();
      this.kind = kind;
      this.model = model;
      this.promptTokens = promptTokens;
      this.outputTokens = outputTokens;
      this.n = n;
      this.stream = stream;
      this.includeUsage = includeUsage;
      this.id = id;
      this.created = scheduler.epochSecond();
    }

    void start(InferenceEngine.Work work) {
      if (stream) {
        // Starlette sends a streaming response's headers before the first chunk; so do we.
        response.setChunked(true).putHeader("content-type", EVENT_STREAM).writeHead();
      }
      InferenceEngine.Handle handle = engine.submit(work, this);
      // A client that goes away aborts its request, as vLLM's with_cancellation does.
      response.closeHandler(v -> handle.abort());
    }

    @Override
    public void tokens(int from, int count) {
      ctx.runOnContext(v -> onTokens(from, count));
    }

    @Override
    public void finished(InferenceEngine.FinishReason reason, int tokensPerChoice) {
      ctx.runOnContext(v -> onFinished(reason, tokensPerChoice));
    }

    private void onTokens(int from, int count) {
      if (response.closed() || response.ended()) {
        return;
      }
      sendRoleOnce();
      String text = SyntheticModel.outputText(from, count);
      if (from + count >= outputTokens) {
        // vLLM sends the last tokens in the chunk that carries finish_reason.
        heldText = text;
        return;
      }
      for (int i = 0; i < n; i++) {
        writeChunk(choiceDelta(i, text, null));
      }
    }

    private void onFinished(InferenceEngine.FinishReason reason, int tokensPerChoice) {
      if (response.closed() || response.ended()) {
        return;
      }
      JsonObject usage =
          new JsonObject()
              .put("prompt_tokens", promptTokens)
              .put("total_tokens", promptTokens + tokensPerChoice * n)
              .put("completion_tokens", tokensPerChoice * n);
      if (!stream) {
        String text = SyntheticModel.outputText(0, tokensPerChoice);
        JsonArray choices = new JsonArray();
        for (int i = 0; i < n; i++) {
          choices.add(finalChoice(i, text, reason));
        }
        JsonObject body = envelope(kind.object).put("choices", choices).put("usage", usage);
        if (kind == Kind.CHAT) {
          body.put("prompt_logprobs", null);
        }
        sendJson(response, 200, body);
        return;
      }
      sendRoleOnce();
      for (int i = 0; i < n; i++) {
        writeChunk(choiceDelta(i, heldText, reason));
      }
      if (includeUsage) {
        writeChunk(envelope(kind.chunkObject).put("choices", new JsonArray()).put("usage", usage));
      }
      response.end("data: [DONE]\n\n");
    }

    private void sendRoleOnce() {
      if (kind == Kind.CHAT && !roleSent) {
        roleSent = true;
        for (int i = 0; i < n; i++) {
          JsonObject choice =
              new JsonObject()
                  .put("index", i)
                  .put("delta", new JsonObject().put("role", "assistant").put("content", ""))
                  .put("logprobs", null)
                  .put("finish_reason", null);
          writeChunk(envelope(kind.chunkObject).put("choices", new JsonArray().add(choice)));
        }
      }
    }

    private JsonObject choiceDelta(int index, String text, InferenceEngine.FinishReason reason) {
      JsonObject choice = new JsonObject().put("index", index);
      if (kind == Kind.CHAT) {
        choice.put(
            "delta",
            text.isEmpty() && reason != null
                ? new JsonObject()
                : new JsonObject().put("content", text));
      } else {
        choice.put("text", text);
      }
      choice
          .put("logprobs", null)
          .put("finish_reason", reason == null ? null : reason.wireName())
          .put("stop_reason", null);
      return envelope(kind.chunkObject).put("choices", new JsonArray().add(choice));
    }

    private JsonObject finalChoice(int index, String text, InferenceEngine.FinishReason reason) {
      JsonObject choice = new JsonObject().put("index", index);
      if (kind == Kind.CHAT) {
        choice.put(
            "message",
            new JsonObject()
                .put("role", "assistant")
                .put("content", text)
                .put("refusal", null)
                .put("tool_calls", new JsonArray()));
      } else {
        choice.put("text", text);
      }
      return choice
          .put("logprobs", null)
          .put("finish_reason", reason.wireName())
          .put("stop_reason", null);
    }

    private JsonObject envelope(String object) {
      return new JsonObject()
          .put("id", id)
          .put("object", object)
          .put("created", created)
          .put("model", model);
    }

    private void writeChunk(JsonObject chunk) {
      response.write("data: " + chunk.encode() + "\n\n");
    }
  }

  // ---- other endpoints ----

  private void models(RoutingContext rc) {
    long created = scheduler.epochSecond();
    JsonArray data = new JsonArray();
    for (String name : config.servedModelNames()) {
      data.add(
          new JsonObject()
              .put("id", name)
              .put("object", "model")
              .put("created", created)
              .put("owned_by", "vllm")
              .put("root", config.primaryModelName())
              .put("parent", null)
              .put("max_model_len", config.maxModelLen())
              .put(
                  "permission",
                  new JsonArray()
                      .add(
                          new JsonObject()
                              .put(
                                  "id",
                                  "modelperm-"
                                      + String.format("%032x", requestIds.incrementAndGet()))
                              .put("object", "model_permission")
                              .put("created", created)
                              .put("allow_create_engine", false)
                              .put("allow_sampling", true)
                              .put("allow_logprobs", true)
                              .put("allow_search_indices", false)
                              .put("allow_view", true)
                              .put("allow_fine_tuning", false)
                              .put("organization", "*")
                              .put("group", null)
                              .put("is_blocking", false))));
    }
    sendJson(rc.response(), 200, new JsonObject().put("object", "list").put("data", data));
  }

  /** vLLM answers 200 with an empty body when healthy; we answer 503 until the model is loaded. */
  private void health(RoutingContext rc) {
    rc.response().setStatusCode(engine.isLoaded() ? 200 : 503).end();
  }

  private void metrics(RoutingContext rc) {
    EngineMetrics m = engine.metrics();
    rc.response().putHeader("content-type", m.contentType()).end(m.scrape());
  }

  /**
   * {@code POST /sleep?level=1&mode=abort}: vLLM pauses its scheduler and offloads (level 1) or
   * drops (level 2) the weights. {@code mode=abort} (the default) aborts running and waiting
   * requests, {@code mode=wait} lets running ones finish first; requests that arrive while asleep
   * wait until {@code /wake_up}, as they do in vLLM.
   */
  private void sleep(RoutingContext rc) {
    String levelParam = rc.request().getParam("level", "1");
    String mode = rc.request().getParam("mode", "abort");
    int level;
    try {
      level = Integer.parseInt(levelParam);
    } catch (NumberFormatException e) {
      level = -1;
    }
    if (level < 0 || level > 2) {
      sendError(rc.response(), ApiError.badRequest("level must be 0, 1 or 2.", "level"));
      return;
    }
    if (!mode.equals("abort") && !mode.equals("wait")) {
      // TODO(#5): mode=keep (freeze running requests, resume them on wake-up) is not simulated.
      sendError(rc.response(), ApiError.badRequest("mode must be abort or wait.", "mode"));
      return;
    }
    HttpServerResponse response = rc.response();
    Context ctx = vertx.getOrCreateContext();
    engine
        .sleep(mode.equals("abort"))
        .whenComplete((v, e) -> ctx.runOnContext(x -> response.setStatusCode(200).end()));
  }

  private void wakeUp(RoutingContext rc) {
    HttpServerResponse response = rc.response();
    Context ctx = vertx.getOrCreateContext();
    engine
        .wakeUp()
        .whenComplete((v, e) -> ctx.runOnContext(x -> response.setStatusCode(200).end()));
  }

  private void isSleeping(RoutingContext rc) {
    sendJson(rc.response(), 200, new JsonObject().put("is_sleeping", engine.isSleeping()));
  }

  private static void sendError(HttpServerResponse response, ApiError error) {
    sendJson(response, error.status(), error.toJson());
  }

  private static void sendJson(HttpServerResponse response, int status, JsonObject body) {
    if (response.ended() || response.closed()) {
      return;
    }
    response.setStatusCode(status).putHeader("content-type", JSON).end(body.encode());
  }
}

package dev.inferencebudget.harness.vllm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.embeddings.CreateEmbeddingResponse;
import com.openai.models.embeddings.EmbeddingCreateParams;
import com.openai.models.models.Model;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The official OpenAI Java SDK against the simulator, in real time with fast speeds. */
class VllmSimulatorOpenAiSdkTest {
  private static VllmSimulator sim;
  private static OpenAIClient client;

  @BeforeAll
  static void start() {
    sim =
        VllmSimulator.start(
            VllmSimulatorConfig.builder()
                .servedModelNames(List.of("qwen3-0.6b", "qwen3-alias"))
                .loadTime(Duration.ZERO)
                .prefillTokensPerSecond(100_000)
                .decodeTokensPerSecond(2_000)
                .embeddingDimensions(16)
                .build());
    await().atMost(Duration.ofSeconds(5)).until(() -> sim.loaded().isDone());
    client =
        OpenAIOkHttpClient.builder()
            .baseUrl(sim.openAiBaseUrl())
            .apiKey("not-checked")
            .maxRetries(0)
            .build();
  }

  @AfterAll
  static void stop() {
    client.close();
    sim.close();
  }

  private static ChatCompletionCreateParams chat(String model, long maxTokens) {
    return ChatCompletionCreateParams.builder()
        .model(model)
        .addSystemMessage("You are terse.")
        .addUserMessage("Say something about foxes.")
        .maxCompletionTokens(maxTokens)
        .build();
  }

  /** 3 priming + 2 messages x 4 + ceil(14/4) + ceil(26/4) tokens. */
  private static final long CHAT_PROMPT_TOKENS = 3 + 2 * 4 + 4 + 7;

  @Test
  void nonStreamingChatReportsUsageAndGeneratesExactlyMaxTokens() {
    ChatCompletion c = client.chat().completions().create(chat("qwen3-0.6b", 5));

    assertThat(c.model()).isEqualTo("qwen3-0.6b");
    assertThat(c.id()).startsWith("chatcmpl-");
    assertThat(c.choices()).hasSize(1);
    assertThat(c.choices().get(0).message().content()).contains("The quick brown fox jumps");
    assertThat(c.choices().get(0).finishReason())
        .isEqualTo(ChatCompletion.Choice.FinishReason.LENGTH);
    assertThat(c.usage().orElseThrow().promptTokens()).isEqualTo(CHAT_PROMPT_TOKENS);
    assertThat(c.usage().orElseThrow().completionTokens()).isEqualTo(5);
    assertThat(c.usage().orElseThrow().totalTokens()).isEqualTo(CHAT_PROMPT_TOKENS + 5);
  }

  @Test
  void aliasIsServedUnderItsOwnNameAndNChoicesMultiplyCompletionTokens() {
    ChatCompletion c =
        client.chat().completions().create(chat("qwen3-alias", 3).toBuilder().n(2).build());

    assertThat(c.model()).isEqualTo("qwen3-alias");
    assertThat(c.choices()).extracting(ChatCompletion.Choice::index).containsExactly(0L, 1L);
    assertThat(c.usage().orElseThrow().completionTokens()).isEqualTo(6);
  }

  @Test
  void withoutMaxTokensTheModelStopsAfterTheDefaultLength() {
    ChatCompletion c =
        client
            .chat()
            .completions()
            .create(
                ChatCompletionCreateParams.builder()
                    .model("qwen3-0.6b")
                    .addUserMessage("hi")
                    .build());

    assertThat(c.choices().get(0).finishReason())
        .isEqualTo(ChatCompletion.Choice.FinishReason.STOP);
    assertThat(c.usage().orElseThrow().completionTokens())
        .isEqualTo(VllmSimulatorConfig.defaults().defaultMaxTokens());
  }

  @Test
  void streamingChatWithIncludeUsageEndsWithAUsageChunkWithoutChoices() {
    ChatCompletionCreateParams params =
        chat("qwen3-0.6b", 7).toBuilder()
            .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build())
            .build();
    List<ChatCompletionChunk> chunks;
    try (StreamResponse<ChatCompletionChunk> stream =
        client.chat().completions().createStreaming(params)) {
      chunks = stream.stream().toList();
    }

    ChatCompletionChunk first = chunks.get(0);
    assertThat(first.choices().get(0).delta().role())
        .hasValue(ChatCompletionChunk.Choice.Delta.Role.ASSISTANT);
    ChatCompletionChunk last = chunks.get(chunks.size() - 1);
    assertThat(last.choices()).isEmpty();
    assertThat(last.usage().orElseThrow().completionTokens()).isEqualTo(7);
    assertThat(last.usage().orElseThrow().promptTokens()).isEqualTo(CHAT_PROMPT_TOKENS);
    String streamed =
        chunks.stream()
            .flatMap(c -> c.choices().stream())
            .map(ch -> ch.delta().content().orElse(""))
            .collect(Collectors.joining());
    String whole =
        client
            .chat()
            .completions()
            .create(chat("qwen3-0.6b", 7))
            .choices()
            .get(0)
            .message()
            .content()
            .orElseThrow();
    assertThat(streamed).isEqualTo(whole);
    assertThat(
            chunks.stream()
                .flatMap(c -> c.choices().stream())
                .filter(ch -> ch.finishReason().isPresent()))
        .singleElement()
        .satisfies(
            ch ->
                assertThat(ch.finishReason())
                    .hasValue(ChatCompletionChunk.Choice.FinishReason.LENGTH));
    assertThat(chunks.stream().filter(c -> c.usage().isPresent())).hasSize(1);
  }

  @Test
  void streamingWithoutStreamOptionsSendsNoUsage() {
    List<ChatCompletionChunk> chunks;
    try (StreamResponse<ChatCompletionChunk> stream =
        client.chat().completions().createStreaming(chat("qwen3-0.6b", 3))) {
      chunks = stream.stream().toList();
    }

    assertThat(chunks).allSatisfy(c -> assertThat(c.usage()).isEmpty());
    assertThat(chunks).allSatisfy(c -> assertThat(c.choices()).isNotEmpty());
  }

  @Test
  void textCompletionCountsPromptBytesOverFourAndStreamsTheSameText() {
    CompletionCreateParams params =
        CompletionCreateParams.builder()
            .model("qwen3-0.6b")
            .prompt("Once upon a time")
            .maxTokens(4)
            .build();

    Completion c = client.completions().create(params);
    List<Completion> chunks;
    try (StreamResponse<Completion> stream = client.completions().createStreaming(params)) {
      chunks = stream.stream().toList();
    }

    assertThat(c.usage().orElseThrow().promptTokens()).isEqualTo(4);
    assertThat(c.usage().orElseThrow().completionTokens()).isEqualTo(4);
    assertThat(c.choices().get(0).text()).isEqualTo("The quick brown fox");
    assertThat(
            chunks.stream()
                .flatMap(x -> x.choices().stream())
                .map(ch -> ch.text())
                .collect(Collectors.joining()))
        .isEqualTo("The quick brown fox");
  }

  @Test
  void batchedPromptsGetNChoicesEachIndexedByPromptThenSampleAndOneSummedUsage() {
    CompletionCreateParams params =
        CompletionCreateParams.builder()
            .model("qwen3-0.6b")
            .promptOfArrayOfStrings(List.of("Once upon a time", "Once upon a time in a land far a"))
            .n(2)
            .maxTokens(3)
            .build();

    Completion c = client.completions().create(params);
    List<Completion> chunks;
    try (StreamResponse<Completion> stream = client.completions().createStreaming(params)) {
      chunks = stream.stream().toList();
    }

    assertThat(c.usage().orElseThrow().promptTokens()).as("4 + 8 prompt tokens").isEqualTo(12);
    assertThat(c.usage().orElseThrow().completionTokens()).as("2 prompts x 2 x 3").isEqualTo(12);
    assertThat(c.choices()).extracting(ch -> ch.index()).containsExactly(0L, 1L, 2L, 3L);
    assertThat(chunks.stream().flatMap(x -> x.choices().stream()).map(ch -> ch.index()))
        .containsOnly(0L, 1L, 2L, 3L);
  }

  @Test
  void aBatchPromptThatIsNeitherTextNorTokenIdsIsABadRequest() throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(sim.openAiBaseUrl() + "/completions"))
                    .header("content-type", "application/json")
                    .POST(
                        HttpRequest.BodyPublishers.ofString(
                            "{\"model\":\"qwen3-0.6b\",\"prompt\":[\"a\",{\"x\":1}]}"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());

    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("\"param\":\"prompt\"");
  }

  @Test
  void embeddingsAreDeterministicUnitVectorsWithUsage() {
    EmbeddingCreateParams params =
        EmbeddingCreateParams.builder().model("qwen3-0.6b").input("a fox").build();

    CreateEmbeddingResponse first = client.embeddings().create(params);
    CreateEmbeddingResponse second = client.embeddings().create(params);

    List<Float> vector = first.data().get(0).embedding();
    assertThat(vector).hasSize(16);
    assertThat(vector).isEqualTo(second.data().get(0).embedding());
    double norm = Math.sqrt(vector.stream().mapToDouble(f -> f * f).sum());
    assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-5));
    assertThat(first.usage().promptTokens()).isEqualTo(2);
    assertThat(first.usage().totalTokens()).isEqualTo(2);
  }

  @Test
  void modelsListsEveryServedName() {
    List<Model> models = client.models().list().items();

    assertThat(models).extracting(Model::id).containsExactly("qwen3-0.6b", "qwen3-alias");
    assertThat(models).extracting(Model::ownedBy).containsOnly("vllm");
  }

  @Test
  void unknownModelSurfacesAsNotFoundExceptionWithVllmsMessage() {
    assertThatThrownBy(() -> client.chat().completions().create(chat("gpt-4o", 5)))
        .isInstanceOfSatisfying(
            NotFoundException.class,
            e -> {
              assertThat(e.statusCode()).isEqualTo(404);
              assertThat(e.getMessage()).contains("The model `gpt-4o` does not exist.");
              assertThat(e.type()).hasValue("NotFoundError");
            });
  }

  @Test
  void promptPlusMaxTokensBeyondTheContextSurfacesAsBadRequestException() {
    assertThatThrownBy(() -> client.chat().completions().create(chat("qwen3-0.6b", 100_000)))
        .isInstanceOfSatisfying(
            BadRequestException.class,
            e -> assertThat(e.getMessage()).contains("maximum context length is 8192 tokens"));
  }

  @Test
  void malformedJsonIsRefusedWith400InVllmsErrorShape() throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(sim.openAiBaseUrl() + "/chat/completions"))
                    .header("content-type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\": \"qwen3-0.6b\", \"mess"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());

    assertThat(r.statusCode()).isEqualTo(400);
    io.vertx.core.json.JsonObject error =
        new io.vertx.core.json.JsonObject(r.body()).getJsonObject("error");
    assertThat(error.getString("type")).isEqualTo("BadRequestError");
    assertThat(error.getInteger("code")).isEqualTo(400);
    assertThat(error.getString("message")).isNotBlank();
  }
}

package dev.inferencebudget.extproc.openai;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RequestParserTest {

  static InferenceRequest parsed(OpenAiEndpoint endpoint, String body) {
    RequestParser.Result result =
        RequestParser.parse(endpoint, body.getBytes(StandardCharsets.UTF_8));
    assertThat(result).isInstanceOf(RequestParser.Parsed.class);
    return ((RequestParser.Parsed) result).request();
  }

  static AdmissionError rejected(OpenAiEndpoint endpoint, byte[] body) {
    RequestParser.Result result = RequestParser.parse(endpoint, body);
    assertThat(result).isInstanceOf(RequestParser.Rejected.class);
    return ((RequestParser.Rejected) result).error();
  }

  @Test
  void chatRequestYieldsOnlyTheAdmissionFields() {
    InferenceRequest r =
        parsed(
            OpenAiEndpoint.CHAT_COMPLETIONS,
            "{\"temperature\":0.2,\"model\":\"llama\",\"tools\":[{\"x\":[1,{\"y\":null}]}],"
                + "\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"name\":\"ann\",\"content\":[{\"type\":\"text\",\"text\":\"Hé\"},"
                + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://x\"}}]}],"
                + "\"max_completion_tokens\":64,\"max_tokens\":9,\"n\":2,\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true}}");
    assertThat(r.model()).isEqualTo("llama");
    assertThat(r.messages()).hasSize(2);
    assertThat(r.messages().get(1).texts()).containsExactly("Hé");
    assertThat(r.messages().get(1).name()).isEqualTo("ann");
    assertThat(r.maxTokens()).hasValue(64);
    assertThat(r.n()).isEqualTo(2);
    assertThat(r.stream()).isTrue();
    assertThat(r.includeUsage()).isTrue();
    assertThat(r.images()).isEqualTo(1);
    // the tool {"x":[1,{"y":null}]} 20 + "system" 6 + "Be brief." 9 + "user" 4 + "ann" 3 + "Hé" 3
    assertThat(r.promptUtf8Bytes()).isEqualTo(45);
  }

  @Test
  void contentPartsCountTextAndRefusalsAndTallyImagesAndAudioInAnyFieldOrder() {
    InferenceRequest r =
        parsed(
            OpenAiEndpoint.CHAT_COMPLETIONS,
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":["
                + "{\"text\":\"look\",\"type\":\"text\"},"
                + "{\"image_url\":{\"url\":\"data:image/png;base64,AAAA\",\"detail\":\"low\"},"
                + "\"type\":\"image_url\"},"
                + "{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://x/y.png\"}},"
                + "{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"UklGR\",\"format\":\"wav\"}},"
                + "{\"type\":\"audio_url\",\"audio_url\":{\"url\":\"http://x/a.mp3\"}},"
                + "{\"type\":\"video_url\",\"video_url\":{\"url\":\"http://x/v.mp4\"}}]},"
                + "{\"role\":\"assistant\",\"content\":[{\"type\":\"refusal\",\"refusal\":\"no\"}]}]}");
    assertThat(r.messages().get(0).texts()).containsExactly("look");
    assertThat(r.messages().get(1).texts()).containsExactly("no");
    assertThat(r.images()).isEqualTo(2);
    assertThat(r.audios()).isEqualTo(2);
    // "user" 4 + "look" 4 + "assistant" 9 + "no" 2: the image URLs are not prompt text
    assertThat(r.promptUtf8Bytes()).isEqualTo(19);
  }

  @Test
  void toolDefinitionsAreKeptAsTheirJsonTextAndToolCallsAsNameAndArguments() {
    String tool =
        "{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
            + "\"description\":\"Wetter für einen Ort\",\"parameters\":{\"type\":\"object\","
            + "\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}";
    String function = "{\"name\":\"legacy\",\"parameters\":{}}";
    InferenceRequest r =
        parsed(
            OpenAiEndpoint.CHAT_COMPLETIONS,
            "{\"model\":\"m\",\"tools\":[ "
                + tool
                + " ],\"functions\":["
                + function
                + "],\"messages\":[{\"role\":\"user\",\"content\":\"hi\"},"
                + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\","
                + "\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
                + "\"arguments\":\"{\\\"city\\\":\\\"Bern\\\"}\"}}]},"
                + "{\"role\":\"tool\",\"tool_call_id\":\"c1\",\"content\":\"12 C\"}]}");
    assertThat(r.tools()).containsExactly(tool, function);
    assertThat(r.messages().get(1).texts()).containsExactly("get_weather", "{\"city\":\"Bern\"}");
    assertThat(r.messages().get(2).texts()).containsExactly("12 C");
    long toolBytes = tool.getBytes(StandardCharsets.UTF_8).length + function.length();
    // roles 4 + 9 + 4, "hi" 2, "get_weather" 11, arguments 15, "12 C" 4
    assertThat(r.promptUtf8Bytes()).isEqualTo(toolBytes + 17 + 2 + 11 + 15 + 4);
  }

  @Test
  void toolsOfOtherEndpointsAreIgnored() {
    InferenceRequest r =
        parsed(
            OpenAiEndpoint.COMPLETIONS, "{\"model\":\"m\",\"prompt\":\"x\",\"tools\":[{\"a\":1}]}");
    assertThat(r.tools()).isEmpty();
  }

  @Test
  void completionsPromptMayBeStringsOrTokenIds() {
    InferenceRequest r =
        parsed(OpenAiEndpoint.COMPLETIONS, "{\"model\":\"m\",\"prompt\":[\"ab\",\"cd\"]}");
    assertThat(r.texts()).containsExactly("ab", "cd");
    InferenceRequest ids =
        parsed(OpenAiEndpoint.COMPLETIONS, "{\"model\":\"m\",\"prompt\":[[1,2,3],[4]]}");
    assertThat(ids.tokenIds()).isEqualTo(4);
    InferenceRequest embeddings =
        parsed(OpenAiEndpoint.EMBEDDINGS, "{\"input\":\"hello\",\"model\":\"e\"}");
    assertThat(embeddings.texts()).containsExactly("hello");
  }

  @Test
  void maxTokensSpanPointsAtTheValueBytes() {
    String body =
        "{\"model\":\"m\", \"max_tokens\": 1234 ,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}";
    InferenceRequest r = parsed(OpenAiEndpoint.CHAT_COMPLETIONS, body);
    assertThat(body.substring(r.maxTokensSpan().start(), r.maxTokensSpan().end()))
        .isEqualTo("1234");
  }

  static Stream<Arguments> badBodies() {
    return Stream.of(
        Arguments.of("malformed JSON", "{\"model\":", "invalid_json", null),
        Arguments.of("not an object", "[1,2]", "invalid_json", null),
        Arguments.of("empty body", "", "invalid_json", null),
        Arguments.of(
            "trailing content",
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]} {}",
            "invalid_json",
            null),
        Arguments.of(
            "missing model",
            "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "missing_required_parameter",
            "model"),
        Arguments.of(
            "model not a string", "{\"model\":7,\"messages\":[]}", "invalid_type", "model"),
        Arguments.of(
            "messages missing", "{\"model\":\"m\"}", "missing_required_parameter", "messages"),
        Arguments.of(
            "messages not an array",
            "{\"model\":\"m\",\"messages\":\"hi\"}",
            "invalid_type",
            "messages"),
        Arguments.of(
            "messages empty", "{\"model\":\"m\",\"messages\":[]}", "invalid_value", "messages"),
        Arguments.of(
            "message not an object",
            "{\"model\":\"m\",\"messages\":[3]}",
            "invalid_type",
            "messages[0]"),
        Arguments.of(
            "message without role",
            "{\"model\":\"m\",\"messages\":[{\"content\":\"x\"}]}",
            "invalid_value",
            "messages[0].role"),
        Arguments.of(
            "content a number",
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":5}]}",
            "invalid_type",
            "messages[0].content"),
        Arguments.of(
            "max_tokens a string",
            "{\"model\":\"m\",\"max_tokens\":\"9\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "invalid_type",
            "max_tokens"),
        Arguments.of(
            "max_tokens a float",
            "{\"model\":\"m\",\"max_tokens\":9.5,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "invalid_type",
            "max_tokens"),
        Arguments.of(
            "max_tokens negative",
            "{\"model\":\"m\",\"max_tokens\":-1,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "invalid_value",
            "max_tokens"),
        Arguments.of(
            "max_tokens huge",
            "{\"model\":\"m\",\"max_tokens\":123456789012345678901234567890,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "invalid_type",
            "max_tokens"),
        Arguments.of(
            "n zero",
            "{\"model\":\"m\",\"n\":0,\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "invalid_value",
            "n"),
        Arguments.of(
            "stream a string",
            "{\"model\":\"m\",\"stream\":\"yes\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "invalid_type",
            "stream"),
        Arguments.of(
            "stream_options a list",
            "{\"model\":\"m\",\"stream_options\":[],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "invalid_type",
            "stream_options"),
        Arguments.of(
            "include_usage a number",
            "{\"model\":\"m\",\"stream_options\":{\"include_usage\":1},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "invalid_type",
            "stream_options.include_usage"),
        Arguments.of(
            "tools an object",
            "{\"model\":\"m\",\"tools\":{},\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "invalid_type",
            "tools"),
        Arguments.of(
            "a tool a string",
            "{\"model\":\"m\",\"functions\":[\"f\"],\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}",
            "invalid_type",
            "functions"),
        Arguments.of(
            "tool_calls an object",
            "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":{}}]}",
            "invalid_type",
            "messages[0].tool_calls"),
        Arguments.of(
            "a tool call's function a string",
            "{\"model\":\"m\",\"messages\":[{\"role\":\"assistant\",\"tool_calls\":[{\"function\":\"f\"}]}]}",
            "invalid_type",
            "messages[0].tool_calls.function"),
        Arguments.of(
            "a part's type a number",
            "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":1}]}]}",
            "invalid_type",
            "messages[0].content.type"),
        Arguments.of(
            "nesting bomb",
            "{\"model\":\"m\",\"x\":" + "[".repeat(5000) + "]".repeat(5000) + "}",
            "invalid_json",
            null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badBodies")
  void badBodyIs400WithTheOffendingParam(String name, String body, String code, String param) {
    AdmissionError error =
        rejected(OpenAiEndpoint.CHAT_COMPLETIONS, body.getBytes(StandardCharsets.UTF_8));
    assertThat(error.status()).isEqualTo(400);
    assertThat(error.type()).isEqualTo("invalid_request_error");
    assertThat(error.code()).isEqualTo(code);
    assertThat(error.param().orElse(null)).isEqualTo(param);
  }

  @Test
  void invalidUtf8AnywhereIs400EvenInASkippedField() {
    byte[] prefix = "{\"model\":\"m\",\"ignored\":\"".getBytes(StandardCharsets.UTF_8);
    byte[] suffix =
        "\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}".getBytes(StandardCharsets.UTF_8);
    byte[] body = new byte[prefix.length + 2 + suffix.length];
    System.arraycopy(prefix, 0, body, 0, prefix.length);
    body[prefix.length] = (byte) 0xC3; // a lead byte followed by a non-continuation byte
    body[prefix.length + 1] = (byte) 0x28;
    System.arraycopy(suffix, 0, body, prefix.length + 2, suffix.length);
    assertThat(rejected(OpenAiEndpoint.CHAT_COMPLETIONS, body).code())
        .isEqualTo("invalid_encoding");
  }

  @Test
  void errorBodyIsOpenAiShaped() {
    String json =
        new String(
            OpenAiJson.errorBody(AdmissionError.invalidRequest("bad \"x\"", null, "c")),
            StandardCharsets.UTF_8);
    assertThat(json)
        .isEqualTo(
            "{\"error\":{\"message\":\"bad \\\"x\\\"\",\"type\":\"invalid_request_error\","
                + "\"param\":null,\"code\":\"c\"}}");
  }
}

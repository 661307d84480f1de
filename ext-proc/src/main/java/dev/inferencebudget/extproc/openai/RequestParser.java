package dev.inferencebudget.extproc.openai;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.google.common.base.Utf8;
import dev.inferencebudget.extproc.openai.InferenceRequest.ByteSpan;
import dev.inferencebudget.extproc.openai.InferenceRequest.ChatMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * Reads the admission fields of an OpenAI request body with Jackson's streaming parser: one pass,
 * no tree of the body, every other field skipped. Each refusal is an {@link AdmissionError} naming
 * the offending parameter, as OpenAI's own 400s do.
 */
public final class RequestParser {

  /** The outcome of a parse: a request or the error to answer with. */
  public sealed interface Result permits Parsed, Rejected {}

  public record Parsed(InferenceRequest request) implements Result {}

  public record Rejected(AdmissionError error) implements Result {}

  private RequestParser() {}

  public static Result parse(OpenAiEndpoint endpoint, byte[] body) {
    if (!Utf8.isWellFormed(body)) {
      // Jackson only checks the bytes of strings it decodes; skipped values could hide bad bytes.
      return reject("The request body is not valid UTF-8.", null, "invalid_encoding");
    }
    try (JsonParser json = OpenAiJson.FACTORY.createParser(body)) {
      return new Reading(endpoint, json, body).read();
    } catch (BadField e) {
      return new Rejected(e.error);
    } catch (JsonProcessingException e) {
      return reject(
          "We could not parse the JSON body of your request. (" + e.getOriginalMessage() + ")",
          null,
          "invalid_json");
    } catch (IOException e) {
      return reject("We could not read the body of your request.", null, "invalid_json");
    }
  }

  private static Rejected reject(String message, String param, String code) {
    return new Rejected(AdmissionError.invalidRequest(message, param, code));
  }

  /** A field with the wrong type or value; carries the error to answer with. */
  private static final class BadField extends Exception {
    private static final long serialVersionUID = 1L;
    final transient AdmissionError error;

    BadField(String message, String param, String code) {
      super(message, null, false, false);
      this.error = AdmissionError.invalidRequest(message, param, code);
    }
  }

  /** One parse; holds what has been read so far. */
  private static final class Reading {
    private final OpenAiEndpoint endpoint;
    private final JsonParser json;
    private final byte[] body;
    private String model;
    private final List<String> tools = new ArrayList<>();
    private int images;
    private int audios;
    private final List<ChatMessage> messages = new ArrayList<>();
    private final List<String> texts = new ArrayList<>();
    private long tokenIds;
    private long utf8Bytes;
    private boolean sawPrompt;
    private Long maxTokens;
    private Long maxCompletionTokens;
    private ByteSpan maxTokensSpan;
    private ByteSpan maxCompletionTokensSpan;
    private int n = 1;
    private boolean stream;
    private boolean includeUsage;

    Reading(OpenAiEndpoint endpoint, JsonParser json, byte[] body) {
      this.endpoint = endpoint;
      this.json = json;
      this.body = body;
    }

    Result read() throws IOException, BadField {
      if (json.nextToken() != JsonToken.START_OBJECT) {
        throw new BadField("The request body must be a JSON object.", null, "invalid_json");
      }
      JsonToken token;
      while ((token = json.nextToken()) == JsonToken.FIELD_NAME) {
        String field = json.currentName();
        JsonToken value = json.nextToken();
        switch (field) {
          case "model" -> model = string(value, "model");
          case "messages" -> readMessagesOrSkip(value);
          case "prompt" -> readPromptOrSkip(value, endpoint == OpenAiEndpoint.COMPLETIONS, field);
          case "input" -> readPromptOrSkip(value, endpoint == OpenAiEndpoint.EMBEDDINGS, field);
          case "max_tokens" -> {
            maxTokens = nonNegativeInt(value, field);
            maxTokensSpan = maxTokens == null ? null : span();
          }
          case "max_completion_tokens" -> {
            maxCompletionTokens = nonNegativeInt(value, field);
            maxCompletionTokensSpan = maxCompletionTokens == null ? null : span();
          }
          case "n" -> {
            Long count = nonNegativeInt(value, "n");
            if (count != null) {
              if (count < 1 || count > 128) {
                throw new BadField("'n' must be between 1 and 128.", "n", "invalid_value");
              }
              n = count.intValue();
            }
          }
          case "stream" -> stream = bool(value, "stream");
          case "stream_options" -> readStreamOptions(value);
          case "tools", "functions" -> readToolsOrSkip(value, field);
          default -> json.skipChildren();
        }
      }
      if (token != JsonToken.END_OBJECT) {
        throw new BadField("The request body must be a JSON object.", null, "invalid_json");
      }
      if (json.nextToken() != null) {
        throw new BadField(
            "The request body has content after its JSON object.", null, "invalid_json");
      }
      if (model == null || model.isEmpty()) {
        throw new BadField(
            "you must provide a model parameter", "model", "missing_required_parameter");
      }
      switch (endpoint) {
        case CHAT_COMPLETIONS -> {
          if (!sawPrompt) {
            throw new BadField(
                "'messages' is a required property", "messages", "missing_required_parameter");
          }
        }
        case COMPLETIONS -> {
          if (!sawPrompt) {
            throw new BadField(
                "'prompt' is a required property", "prompt", "missing_required_parameter");
          }
        }
        case EMBEDDINGS -> {
          if (!sawPrompt) {
            throw new BadField(
                "'input' is a required property", "input", "missing_required_parameter");
          }
        }
        case MODELS -> {}
      }
      boolean completionField = maxCompletionTokens != null;
      OptionalLong limit =
          completionField
              ? OptionalLong.of(maxCompletionTokens)
              : maxTokens != null ? OptionalLong.of(maxTokens) : OptionalLong.empty();
      return new Parsed(
          new InferenceRequest(
              endpoint,
              model,
              messages,
              texts,
              tokenIds,
              utf8Bytes,
              limit,
              completionField ? maxCompletionTokensSpan : maxTokensSpan,
              n,
              stream,
              includeUsage,
              tools,
              images,
              audios));
    }

    private ByteSpan span() {
      return new ByteSpan(
          (int) json.currentTokenLocation().getByteOffset(),
          (int) json.currentLocation().getByteOffset());
    }

    private void readMessagesOrSkip(JsonToken value) throws IOException, BadField {
      if (endpoint != OpenAiEndpoint.CHAT_COMPLETIONS) {
        json.skipChildren();
        return;
      }
      if (value != JsonToken.START_ARRAY) {
        throw new BadField("'messages' must be an array", "messages", "invalid_type");
      }
      sawPrompt = true;
      int index = 0;
      while (json.nextToken() != JsonToken.END_ARRAY) {
        readMessage(index++);
      }
      if (index == 0) {
        throw new BadField(
            "'messages' must contain at least one message", "messages", "invalid_value");
      }
    }

    private void readMessage(int index) throws IOException, BadField {
      String param = "messages[" + index + "]";
      if (json.currentToken() != JsonToken.START_OBJECT) {
        throw new BadField(param + " must be an object", param, "invalid_type");
      }
      String role = null;
      String name = "";
      List<String> parts = new ArrayList<>(1);
      while (json.nextToken() == JsonToken.FIELD_NAME) {
        String field = json.currentName();
        JsonToken value = json.nextToken();
        switch (field) {
          case "role" -> role = string(value, param + ".role");
          case "name" -> name = string(value, param + ".name");
          case "content" -> readContent(value, param + ".content", parts);
          case "tool_calls" -> readToolCalls(value, param + ".tool_calls", parts);
          case "function_call" -> readFunctionCall(value, param + ".function_call", parts);
          default -> json.skipChildren();
        }
      }
      if (role == null) {
        throw new BadField(
            param + ".role is a required property", param + ".role", "invalid_value");
      }
      utf8Bytes += Utf8.encodedLength(role) + Utf8.encodedLength(name);
      messages.add(new ChatMessage(role, name, parts));
    }

    private void readContent(JsonToken value, String param, List<String> parts)
        throws IOException, BadField {
      switch (value) {
        case VALUE_NULL -> {}
        case VALUE_STRING -> parts.add(text());
        case START_ARRAY -> {
          while (json.nextToken() != JsonToken.END_ARRAY) {
            if (json.currentToken() != JsonToken.START_OBJECT) {
              throw new BadField(param + " parts must be objects", param, "invalid_type");
            }
            readPart(param, parts);
          }
        }
        default ->
            throw new BadField(param + " must be a string or an array", param, "invalid_type");
      }
    }

    /**
     * One content part. Text ({@code text}, {@code refusal}) is counted; an {@code image_url} or
     * {@code input_audio}/{@code audio_url} part is counted as one image or audio input, whose
     * token cost the model's policy fixes. Fields may come in any order, so the part's {@code type}
     * is applied at its end; without one, a {@code text} string is still counted.
     */
    private void readPart(String param, List<String> parts) throws IOException, BadField {
      String type = null;
      String text = null;
      while (json.nextToken() == JsonToken.FIELD_NAME) {
        String field = json.currentName();
        JsonToken value = json.nextToken();
        switch (field) {
          case "type" -> type = string(value, param + ".type");
          case "text", "refusal" -> {
            if (value == JsonToken.VALUE_STRING) {
              text = json.getText();
            } else {
              json.skipChildren();
            }
          }
          default -> json.skipChildren();
        }
      }
      if (type == null || type.equals("text") || type.equals("refusal")) {
        if (text != null) {
          utf8Bytes += Utf8.encodedLength(text);
          parts.add(text);
        }
        return;
      }
      switch (type) {
        case "image_url", "image" -> images++;
        case "input_audio", "audio_url" -> audios++;
        default -> {
          // TODO(#3): video_url and file parts are not counted toward the prompt.
        }
      }
    }

    /** An assistant message's {@code tool_calls}: each function's name and arguments. */
    private void readToolCalls(JsonToken value, String param, List<String> parts)
        throws IOException, BadField {
      if (value == JsonToken.VALUE_NULL) {
        return;
      }
      if (value != JsonToken.START_ARRAY) {
        throw new BadField("'" + param + "' must be an array", param, "invalid_type");
      }
      while (json.nextToken() != JsonToken.END_ARRAY) {
        if (json.currentToken() != JsonToken.START_OBJECT) {
          throw new BadField("'" + param + "' items must be objects", param, "invalid_type");
        }
        while (json.nextToken() == JsonToken.FIELD_NAME) {
          String field = json.currentName();
          JsonToken item = json.nextToken();
          if (field.equals("function")) {
            readFunctionCall(item, param + ".function", parts);
          } else {
            json.skipChildren();
          }
        }
      }
    }

    /** {@code {"name": ..., "arguments": "..."}}: both strings are rendered into the prompt. */
    private void readFunctionCall(JsonToken value, String param, List<String> parts)
        throws IOException, BadField {
      if (value == JsonToken.VALUE_NULL) {
        return;
      }
      if (value != JsonToken.START_OBJECT) {
        throw new BadField("'" + param + "' must be an object", param, "invalid_type");
      }
      while (json.nextToken() == JsonToken.FIELD_NAME) {
        String field = json.currentName();
        JsonToken item = json.nextToken();
        if ((field.equals("name") || field.equals("arguments")) && item == JsonToken.VALUE_STRING) {
          parts.add(text());
        } else {
          json.skipChildren();
        }
      }
    }

    /**
     * {@code tools} or the older {@code functions}: an array of definitions, each kept as the JSON
     * text it was sent as (its bytes sliced from the body, no tree built). Chat templates render
     * the definitions as JSON into the prompt, so that text is what is counted.
     */
    private void readToolsOrSkip(JsonToken value, String param) throws IOException, BadField {
      if (endpoint != OpenAiEndpoint.CHAT_COMPLETIONS || value == JsonToken.VALUE_NULL) {
        json.skipChildren();
        return;
      }
      if (value != JsonToken.START_ARRAY) {
        throw new BadField("'" + param + "' must be an array", param, "invalid_type");
      }
      while (json.nextToken() != JsonToken.END_ARRAY) {
        if (json.currentToken() != JsonToken.START_OBJECT) {
          throw new BadField("'" + param + "' items must be objects", param, "invalid_type");
        }
        int start = (int) json.currentTokenLocation().getByteOffset();
        json.skipChildren();
        int end = (int) json.currentLocation().getByteOffset();
        String definition = new String(body, start, end - start, StandardCharsets.UTF_8);
        utf8Bytes += end - start;
        tools.add(definition);
      }
    }

    /** {@code prompt}/{@code input}: a string, strings, token ids, or arrays of token ids. */
    private void readPromptOrSkip(JsonToken value, boolean applies, String param)
        throws IOException, BadField {
      if (!applies) {
        json.skipChildren();
        return;
      }
      sawPrompt = true;
      switch (value) {
        case VALUE_STRING -> texts.add(text());
        case START_ARRAY -> {
          JsonToken item;
          while ((item = json.nextToken()) != JsonToken.END_ARRAY) {
            switch (item) {
              case VALUE_STRING -> texts.add(text());
              case VALUE_NUMBER_INT -> tokenIds++;
              case START_ARRAY -> {
                while (json.nextToken() != JsonToken.END_ARRAY) {
                  if (json.currentToken() != JsonToken.VALUE_NUMBER_INT) {
                    throw new BadField(
                        "'" + param + "' token arrays must hold integers", param, "invalid_type");
                  }
                  tokenIds++;
                }
              }
              default ->
                  throw new BadField(
                      "'" + param + "' must be a string, an array of strings or of token ids",
                      param,
                      "invalid_type");
            }
          }
        }
        default ->
            throw new BadField(
                "'" + param + "' must be a string, an array of strings or of token ids",
                param,
                "invalid_type");
      }
    }

    private void readStreamOptions(JsonToken value) throws IOException, BadField {
      if (value == JsonToken.VALUE_NULL) {
        return;
      }
      if (value != JsonToken.START_OBJECT) {
        throw new BadField("'stream_options' must be an object", "stream_options", "invalid_type");
      }
      while (json.nextToken() == JsonToken.FIELD_NAME) {
        String field = json.currentName();
        JsonToken option = json.nextToken();
        if (field.equals("include_usage")) {
          includeUsage = bool(option, "stream_options.include_usage");
        } else {
          json.skipChildren();
        }
      }
    }

    private String text() throws IOException {
      String text = json.getText();
      utf8Bytes += Utf8.encodedLength(text);
      return text;
    }

    private String string(JsonToken value, String param) throws IOException, BadField {
      if (value != JsonToken.VALUE_STRING) {
        throw new BadField("'" + param + "' must be a string", param, "invalid_type");
      }
      return json.getText();
    }

    private boolean bool(JsonToken value, String param) throws BadField {
      return switch (value) {
        case VALUE_TRUE -> true;
        case VALUE_FALSE, VALUE_NULL -> false;
        default -> throw new BadField("'" + param + "' must be a boolean", param, "invalid_type");
      };
    }

    /** A non-negative integer, or null when the JSON value is null. */
    private Long nonNegativeInt(JsonToken value, String param) throws IOException, BadField {
      if (value == JsonToken.VALUE_NULL) {
        return null;
      }
      if (value != JsonToken.VALUE_NUMBER_INT
          || json.getNumberType() == JsonParser.NumberType.BIG_INTEGER) {
        throw new BadField("'" + param + "' must be an integer", param, "invalid_type");
      }
      long number = json.getLongValue();
      if (number < 0) {
        throw new BadField("'" + param + "' must not be negative", param, "invalid_value");
      }
      return number;
    }
  }
}

package dev.inferencebudget.extproc.openai;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;

/**
 * Follows the tokens of one JSON document and picks {@code usage.prompt_tokens} and {@code
 * usage.completion_tokens} of the top-level object. Works token by token, so it serves both the
 * blocking parser (one SSE event) and the non-blocking one (a JSON body fed in chunks).
 */
final class UsageTokens {
  private int depth;
  private boolean inUsage;
  private String field;
  private long prompt = -1;
  private long completion = -1;
  private Usage found;

  /** Consumes tokens until the parser has no more (or needs more input). */
  void drain(JsonParser json) throws IOException {
    JsonToken token;
    while ((token = json.nextToken()) != null && token != JsonToken.NOT_AVAILABLE) {
      onToken(json, token);
    }
  }

  private void onToken(JsonParser json, JsonToken token) throws IOException {
    switch (token) {
      case START_OBJECT, START_ARRAY -> {
        depth++;
        if (depth == 2 && token == JsonToken.START_OBJECT && "usage".equals(field)) {
          inUsage = true;
          prompt = -1;
          completion = -1;
        }
        field = null;
      }
      case END_OBJECT, END_ARRAY -> {
        if (inUsage && depth == 2) {
          inUsage = false;
          if (prompt >= 0 && completion >= 0) {
            found = new Usage(prompt, completion);
          } else if (prompt >= 0) {
            found = new Usage(prompt, 0); // embeddings report prompt tokens only
          }
        }
        depth--;
        field = null;
      }
      case FIELD_NAME -> {
        if (depth == 1 || (inUsage && depth == 2)) {
          field = json.currentName();
        }
      }
      case VALUE_NUMBER_INT -> {
        if (inUsage && depth == 2 && json.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
          long value = json.getLongValue();
          if (value >= 0 && "prompt_tokens".equals(field)) {
            prompt = value;
          } else if (value >= 0 && "completion_tokens".equals(field)) {
            completion = value;
          }
        }
        field = null;
      }
      default -> field = null;
    }
  }

  Usage found() {
    return found;
  }
}

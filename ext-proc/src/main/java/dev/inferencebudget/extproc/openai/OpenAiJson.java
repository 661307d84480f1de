package dev.inferencebudget.extproc.openai;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamReadConstraints;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/** The Jackson factory every parser here shares, and the few bodies this server writes. */
public final class OpenAiJson {

  /**
   * Thread-safe and expensive to build, so one. Nesting is limited well below Jackson's default: no
   * OpenAI request nests deeper than a few levels, and a deep nest is an attack on the stack.
   */
  public static final JsonFactory FACTORY =
      JsonFactory.builder()
          .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64).build())
          .build();

  private OpenAiJson() {}

  /** {@code {"error":{"message","type","param","code"}}}. */
  public static byte[] errorBody(AdmissionError error) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator json = FACTORY.createGenerator(out)) {
      json.writeStartObject();
      json.writeObjectFieldStart("error");
      json.writeStringField("message", error.message());
      json.writeStringField("type", error.type());
      if (error.param().isPresent()) {
        json.writeStringField("param", error.param().get());
      } else {
        json.writeNullField("param");
      }
      json.writeStringField("code", error.code());
      json.writeEndObject();
      json.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** The {@code /v1/models} list: {@code {"object":"list","data":[{"id","object","owned_by"}]}}. */
  public static byte[] modelList(List<String> modelIds, String ownedBy) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    try (JsonGenerator json = FACTORY.createGenerator(out)) {
      json.writeStartObject();
      json.writeStringField("object", "list");
      json.writeArrayFieldStart("data");
      for (String id : modelIds) {
        json.writeStartObject();
        json.writeStringField("id", id);
        json.writeStringField("object", "model");
        json.writeNumberField("created", 0);
        json.writeStringField("owned_by", ownedBy);
        json.writeEndObject();
      }
      json.writeEndArray();
      json.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}

package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * The tokenizer ext-proc counts prompt tokens with.
 *
 * @param type {@code Tiktoken} (default) or {@code HuggingFace}
 * @param encoding the tiktoken encoding (default {@code o200k_base}); used with {@code Tiktoken}
 * @param path where ext-proc finds the model's {@code tokenizer.json} (for example a mounted
 *     ConfigMap); required with {@code HuggingFace}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(
    value = "self.type != 'HuggingFace' || has(self.path)",
    reason = "FieldValueRequired",
    fieldPath = ".path",
    message = "tokenizer.path is required when tokenizer.type is HuggingFace")
public record Tokenizer(
    @Default(Defaults.TOKENIZER_TYPE)
        @JsonPropertyDescription(
            "Tiktoken (an encoding shipped with ext-proc) or HuggingFace (a tokenizer.json).")
        TokenizerType type,
    @Default(Defaults.TIKTOKEN_ENCODING)
        @JsonPropertyDescription("The tiktoken encoding, used with type Tiktoken.")
        TiktokenEncoding encoding,
    @Size(min = 1, max = 4096)
        @JsonPropertyDescription(
            "Path of the model's tokenizer.json inside the ext-proc container; required with type HuggingFace.")
        String path) {

  public static final Tokenizer DEFAULTS = new Tokenizer(null, null, null);

  public Tokenizer {
    type = type == null ? TokenizerType.TIKTOKEN : type;
    encoding = encoding == null ? TiktokenEncoding.O200K_BASE : encoding;
  }
}

package dev.inferencebudget.extproc.openai;

import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * The fields of an OpenAI request that admission needs, and nothing else.
 *
 * @param messages chat messages (chat completions only)
 * @param texts prompt strings ({@code prompt} of completions, {@code input} of embeddings)
 * @param tokenIds pre-tokenized prompt tokens given as integers (counted as-is)
 * @param promptUtf8Bytes UTF-8 bytes of every text counted toward the prompt: an upper bound on its
 *     tokens under any byte-level BPE
 * @param maxTokens {@code max_completion_tokens}, else {@code max_tokens}, if given
 * @param maxTokensSpan where the value of that field sits in the body (for clamping), if given
 * @param includeUsage {@code stream_options.include_usage}
 * @param tools the JSON text, as sent, of each tool or function definition ({@code tools}, {@code
 *     functions}): chat templates render them into the prompt
 * @param images {@code image_url} content parts (each costs the model's per-image tokens)
 * @param audios {@code input_audio} and {@code audio_url} content parts (each costs the model's
 *     per-audio tokens)
 */
public record InferenceRequest(
    OpenAiEndpoint endpoint,
    String model,
    List<ChatMessage> messages,
    List<String> texts,
    long tokenIds,
    long promptUtf8Bytes,
    OptionalLong maxTokens,
    ByteSpan maxTokensSpan,
    int n,
    boolean stream,
    boolean includeUsage,
    List<String> tools,
    int images,
    int audios) {

  public InferenceRequest {
    Objects.requireNonNull(endpoint, "endpoint");
    Objects.requireNonNull(model, "model");
    messages = List.copyOf(messages);
    texts = List.copyOf(texts);
    Objects.requireNonNull(maxTokens, "maxTokens");
    if (n < 1) {
      throw new IllegalArgumentException("n must be at least 1");
    }
    tools = List.copyOf(tools);
    if (images < 0 || audios < 0) {
      throw new IllegalArgumentException("media counts must not be negative");
    }
  }

  /**
   * One chat message: its role, optional name, and its text parts (text and refusal parts, and the
   * names and arguments of the tool calls an assistant message carries).
   */
  public record ChatMessage(String role, String name, List<String> texts) {
    public ChatMessage {
      Objects.requireNonNull(role, "role");
      Objects.requireNonNull(name, "name");
      texts = List.copyOf(texts);
    }
  }

  /** Byte offsets {@code [start, end)} in the request body; {@code null} span means absent. */
  public record ByteSpan(int start, int end) {
    public ByteSpan {
      if (start < 0 || end < start) {
        throw new IllegalArgumentException("bad span " + start + ".." + end);
      }
    }
  }
}

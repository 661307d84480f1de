package dev.inferencebudget.extproc.tokens;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.inferencebudget.extproc.openai.InferenceRequest;
import dev.inferencebudget.extproc.openai.OpenAiEndpoint;
import dev.inferencebudget.extproc.openai.RequestParser;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PromptTokensTest {
  static Tokenizers tokenizers;

  @BeforeAll
  static void load() {
    Optional<Path> dir = Optional.ofNullable(System.getProperty("ibc.tokenizers")).map(Path::of);
    tokenizers = new Tokenizers(dir, Runnable::run);
  }

  @AfterAll
  static void close() {
    tokenizers.close();
  }

  static InferenceRequest chat(String content) {
    String json =
        "{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"You are terse.\"},"
            + "{\"role\":\"user\",\"content\":"
            + quote(content)
            + "}]}";
    return ((RequestParser.Parsed)
            RequestParser.parse(
                OpenAiEndpoint.CHAT_COMPLETIONS, json.getBytes(StandardCharsets.UTF_8)))
        .request();
  }

  static String quote(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.append('"').toString();
  }

  static String randomText(Random random, int length) {
    String alphabet = "abc xyz 0123 ,.;\n\té漢字😀ДЖ  ";
    int[] cps = alphabet.codePoints().toArray();
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < length; i++) {
      b.appendCodePoint(cps[random.nextInt(cps.length)]);
    }
    return b.toString();
  }

  @Test
  void utf8BoundIsNeverBelowTheExactCountOfAnyTokenizer() {
    Random random = new Random(42);
    for (int i = 0; i < 200; i++) {
      InferenceRequest request = chat(randomText(random, random.nextInt(400)));
      for (String name : new String[] {"o200k_base", "cl100k_base"}) {
        TokenCounter counter = tokenizers.counter(name);
        assertThat(PromptTokens.upperBound(request, counter.chatFormat()))
            .isGreaterThanOrEqualTo(PromptTokens.exact(request, counter));
      }
    }
  }

  @Test
  void chatCountIncludesOpenAisPerMessageOverhead() {
    TokenCounter o200k = tokenizers.counter("o200k_base");
    InferenceRequest request = chat("Hello world");
    long content =
        o200k.count("system")
            + o200k.count("You are terse.")
            + o200k.count("user")
            + o200k.count("Hello world");
    assertThat(PromptTokens.exact(request, o200k)).isEqualTo(content + 2 * 3 + 3);
  }

  @Test
  void countingAgainstALimitStopsOnceTheOutcomeIsCertain() {
    TokenCounter o200k = tokenizers.counter("o200k_base");
    String sentence = "The quick brown fox jumps over the lazy dog near the riverbank at dawn. ";
    InferenceRequest request = chat(sentence.repeat(3000)); // ~216 KB, ~48k tokens
    long exact = PromptTokens.exact(request, o200k);
    long bound = PromptTokens.upperBound(request, o200k.chatFormat());

    PromptTokens.Count roomy = PromptTokens.countAgainst(request, o200k, bound - 1);
    assertThat(roomy.kind()).isEqualTo(PromptTokens.Kind.AT_MOST);
    assertThat(roomy.tokens()).isBetween(exact, bound - 1);
    assertThat(roomy.fits(bound - 1)).isTrue();

    // Just under the true count: every piece is counted, and the pieces add up to the whole.
    PromptTokens.Count tight = PromptTokens.countAgainst(request, o200k, exact - 1);
    assertThat(tight.kind()).isEqualTo(PromptTokens.Kind.AT_LEAST);
    assertThat(tight.tokens()).isEqualTo(exact);
    assertThat(tight.fits(exact - 1)).isFalse();

    PromptTokens.Count small = PromptTokens.countAgainst(request, o200k, 1000);
    assertThat(small.kind()).isEqualTo(PromptTokens.Kind.AT_LEAST);
    assertThat(small.tokens()).isGreaterThan(1000).isLessThan(exact);
  }

  @Test
  void specialTokenTextIsCountedAsOrdinaryText() {
    assertThat(tokenizers.counter("o200k_base").count("<|endoftext|>")).isGreaterThan(1);
  }

  @Test
  void unknownTokenizerFallsBackToO200k() {
    assertThat(tokenizers.counter("no-such").name()).isEqualTo("o200k_base");
  }

  @Test
  void qwen3TokenizerFromNpmCountsWithinTheBound() {
    Path dir = Path.of(System.getProperty("ibc.tokenizers", "target/tokenizers"));
    assumeTrue(
        Files.isRegularFile(dir.resolve("qwen3/tokenizer.json")),
        "Qwen3 tokenizer.json not fetched (npm unavailable)");
    assertThat(tokenizers.load("qwen3")).isTrue();
    TokenCounter qwen = tokenizers.counter("qwen3");
    assertThat(qwen.name()).isEqualTo("qwen3");
    assertThat(qwen.chatFormat()).isEqualTo(ChatFormat.CHATML);
    // A long prompt is not truncated at 512 tokens.
    assertThat(qwen.count("hello ".repeat(2000))).isGreaterThan(1500);
    Random random = new Random(7);
    for (int i = 0; i < 50; i++) {
      InferenceRequest request = chat(randomText(random, 300));
      assertThat(PromptTokens.upperBound(request, qwen.chatFormat()))
          .isGreaterThanOrEqualTo(PromptTokens.exact(request, qwen));
    }
  }
}

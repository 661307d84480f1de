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

  /** Text built to stress the merge bound: rare letter pairs, contractions, long runs, scripts. */
  static String adversarialText(Random random, int length) {
    String[] atoms = {
      "qz",
      "jq",
      "xkcd",
      "bq",
      "gk",
      "zz",
      "the",
      "don't",
      "they'll",
      "we're",
      "'s",
      "'llama",
      "'t",
      "'",
      "''",
      "it'sx",
      "O'Brien",
      "ABCdef",
      "aBcD",
      "camelCase",
      "snake_case",
      " ",
      "  ",
      "\n",
      "\t",
      ".",
      ",",
      "...",
      "--",
      "123",
      "4567",
      "é",
      "café",
      "naïve",
      "漢字",
      "😀",
      "Д",
      "e\u0301",
      "http://x.y/z?q=1",
      "a",
      "b",
      "q",
      "x",
      " model",
      " modelX",
      " model's",
      " modelé",
      " model\u0301",
      " model1",
      " the",
      " The",
      "  the",
      "\n the",
      "\t the",
      "( the",
      " the.",
      " the-",
      " thé",
      " the_",
      " zzqx"
    };
    StringBuilder b = new StringBuilder();
    while (b.length() < length) {
      int kind = random.nextInt(10);
      if (kind < 6) {
        b.append(atoms[random.nextInt(atoms.length)]);
      } else if (kind < 9) {
        int run = 1 + random.nextInt(random.nextInt(10) == 0 ? 3000 : 12);
        for (int i = 0; i < run; i++) {
          b.append((char) ('a' + random.nextInt(26)));
        }
      } else {
        b.append(' ');
      }
    }
    return b.toString();
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "seed {0}")
  @org.junit.jupiter.params.provider.ValueSource(longs = {1, 2, 3, 4, 5, 6})
  void mergeBoundIsNeverBelowTheExactCountOfEitherOpenAiEncoding(long seed) {
    Random random = new Random(seed);
    for (int i = 0; i < 150; i++) {
      String text =
          i % 3 == 0
              ? randomText(random, random.nextInt(600))
              : adversarialText(random, random.nextInt(i % 3 == 1 ? 200 : 5000));
      for (String name : new String[] {"o200k_base", "cl100k_base"}) {
        TokenCounter counter = tokenizers.counter(name);
        assertThat(counter.upperBound(text, 0, text.length()))
            .as("seed %d, %s, text %s", seed, name, text)
            .isGreaterThanOrEqualTo(counter.count(text))
            .isLessThanOrEqualTo(PromptTokens.utf8Bytes(text));
      }
    }
  }

  @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
  @org.junit.jupiter.params.provider.ValueSource(strings = {"o200k_base", "cl100k_base"})
  void everySpacedWordOfTheVocabularyIsOneToken(String name) {
    JtokkitCounter counter = (JtokkitCounter) tokenizers.counter(name);
    assertThat(counter.spacedWordCount()).isGreaterThan(10_000);
    for (String word : counter.spacedWords()) {
      assertThat(counter.count(word)).as(word).isEqualTo(1);
    }
  }

  @Test
  void mergeBoundOfEnglishProseIsFarBelowItsBytes() {
    String prose = "The quick brown fox jumps over the lazy dog near the riverbank at dawn. ";
    String text = prose.repeat(100);
    TokenCounter o200k = tokenizers.counter("o200k_base");
    long bound = o200k.upperBound(text, 0, text.length());
    assertThat(bound).isGreaterThanOrEqualTo(o200k.count(text));
    // 2,300 against 1,601 exact and 7,200 bytes: most words are one-token " word" pieces.
    assertThat((double) bound / PromptTokens.utf8Bytes(text)).isLessThan(0.4);
    assertThat((double) bound / o200k.count(text)).isLessThan(1.5);
  }

  @Test
  void aLongTextWithoutSpacesIsCountedWholeNotCutInsideAPiece() {
    TokenCounter o200k = tokenizers.counter("o200k_base");
    String cjk = "漢字仮名交じり文".repeat(6000); // 48,000 chars, no space anywhere
    assertThat(PromptTokens.chunkEnds(cjk)).containsExactly(cjk.length());
    InferenceRequest request = chat(cjk);
    long exact = PromptTokens.exact(request, o200k);
    PromptTokens.Count count = PromptTokens.countAgainst(request, o200k, exact - 1);
    assertThat(count).isEqualTo(new PromptTokens.Count(exact, PromptTokens.Kind.AT_LEAST));
  }

  @Test
  void aResentConversationIsCountedOnceThenServedFromTheCache() {
    CallCounting o200k = new CallCounting(tokenizers.counter("o200k_base"));
    TokenCountCache cache = new TokenCountCache(100);
    String history = "Summarise the following report for the board. ".repeat(400); // 19 KB
    InferenceRequest first = chat(history);
    long exact = PromptTokens.exact(first, o200k);
    long limit = exact; // undecidable by any bound: every text must be counted

    o200k.calls = 0;
    PromptTokens.Count cold = PromptTokens.countAgainst(first, o200k, limit, cache);
    assertThat(cold).isEqualTo(new PromptTokens.Count(exact, PromptTokens.Kind.EXACT));
    assertThat(o200k.calls).isGreaterThan(1);
    assertThat(cache.misses()).isEqualTo(1);

    o200k.countedChars = 0;
    PromptTokens.Count warm = PromptTokens.countAgainst(first, o200k, limit, cache);
    assertThat(warm).isEqualTo(cold);
    assertThat(cache.hits()).isEqualTo(1);
    // Only the short texts (the system prompt, the roles) were counted again.
    assertThat(o200k.countedChars).isLessThan(100);
  }

  @Test
  void aTextCountedPartWayResumesWhereItStoppedAndEndsExact() {
    CallCounting o200k = new CallCounting(tokenizers.counter("o200k_base"));
    TokenCountCache cache = new TokenCountCache(100);
    InferenceRequest request = chat("word ".repeat(40_000)); // 200 KB, 40,001 tokens
    long exact = PromptTokens.exact(request, o200k);

    PromptTokens.Count over = PromptTokens.countAgainst(request, o200k, 1000, cache);
    assertThat(over.kind()).isEqualTo(PromptTokens.Kind.AT_LEAST);
    assertThat(cache.size()).isEqualTo(1);

    // Again: the first chunk comes from the cache and already decides.
    o200k.countedChars = 0;
    assertThat(PromptTokens.countAgainst(request, o200k, 1000, cache)).isEqualTo(over);
    assertThat(o200k.countedChars).isLessThan(100);

    // The rest is counted on demand and adds up to the whole text's count.
    assertThat(PromptTokens.exact(request, o200k, cache)).isEqualTo(exact);
    o200k.countedChars = 0;
    assertThat(PromptTokens.countAgainst(request, o200k, exact, cache))
        .isEqualTo(new PromptTokens.Count(exact, PromptTokens.Kind.EXACT));
    assertThat(o200k.countedChars).isLessThan(100);
  }

  @Test
  void aDisabledCacheNeverHoldsAnything() {
    TokenCountCache off = TokenCountCache.disabled();
    String text = "x".repeat(TokenCountCache.MIN_CHARS);
    assertThat(off.key("o200k_base", text)).isNull();
    assertThat(off.get(null)).isNull();
    assertThat(new TokenCountCache(10).key("o200k_base", text.substring(1))).isNull();
  }

  /** Counts the calls and characters that reach the real counter. */
  static final class CallCounting implements TokenCounter {
    final TokenCounter delegate;
    int calls;
    long countedChars;

    CallCounting(TokenCounter delegate) {
      this.delegate = delegate;
    }

    @Override
    public String name() {
      return delegate.name();
    }

    @Override
    public long count(String text) {
      calls++;
      countedChars += text.length();
      return delegate.count(text);
    }

    @Override
    public long upperBound(CharSequence text, int start, int end) {
      return delegate.upperBound(text, start, end);
    }

    @Override
    public ChatFormat chatFormat() {
      return delegate.chatFormat();
    }
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

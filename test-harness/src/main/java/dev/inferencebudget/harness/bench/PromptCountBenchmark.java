package dev.inferencebudget.harness.bench;

import dev.inferencebudget.extproc.openai.InferenceRequest;
import dev.inferencebudget.extproc.openai.OpenAiEndpoint;
import dev.inferencebudget.extproc.openai.RequestParser;
import dev.inferencebudget.extproc.tokens.ChatFormat;
import dev.inferencebudget.extproc.tokens.PromptTokens;
import dev.inferencebudget.extproc.tokens.TokenCountCache;
import dev.inferencebudget.extproc.tokens.TokenCounter;
import dev.inferencebudget.extproc.tokens.Tokenizers;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;
import java.util.Random;

/**
 * CPU time (this thread's, so other load on the machine inflates it less than wall time) of the
 * steps that decide a 200 KB prose prompt against a 131,072-token limit with o200k_base: parsing,
 * counting against the limit with the plain byte bound, with the merge bound, with the merge bound
 * and a warm count cache when the limit is tight enough that counting is needed, and counting the
 * whole text.
 *
 * <pre>
 * java -cp test-harness/target/classes:$(cat test-harness/target/classpath.txt) \
 *   dev.inferencebudget.harness.bench.PromptCountBenchmark
 * </pre>
 */
public final class PromptCountBenchmark {
  private PromptCountBenchmark() {}

  public static void main(String[] args) {
    Tokenizers tokenizers = new Tokenizers(Optional.empty(), Runnable::run);
    TokenCounter merge = tokenizers.counter("o200k_base");
    TokenCounter bytesOnly = new BytesBoundOnly(merge);
    String text = ExtProcLoadBenchmark.prose(new Random(42), 200 * 1024 - 64);
    byte[] body =
        ("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\""
                + text
                + "\"}],\"max_tokens\":16}")
            .getBytes(StandardCharsets.UTF_8);
    InferenceRequest request =
        ((RequestParser.Parsed) RequestParser.parse(OpenAiEndpoint.CHAT_COMPLETIONS, body))
            .request();
    long exact = merge.count(text);
    System.out.printf(
        Locale.ROOT,
        "200 KB prose: %d bytes, %d tokens (o200k_base); merge bound %d; limit 131072%n",
        text.length(),
        exact,
        merge.upperBound(text, 0, text.length()));
    // A limit just above the true count: no bound decides, so counting is needed.
    long tight = exact + 100;
    TokenCountCache cache = new TokenCountCache(1000);
    PromptTokens.countAgainst(request, merge, tight, cache); // fills the cache
    ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
    for (int round = 1; round <= 5; round++) {
      int n = 50;
      long t0 = cpu.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        RequestParser.parse(OpenAiEndpoint.CHAT_COMPLETIONS, body);
      }
      long t1 = cpu.getCurrentThreadCpuTime();
      PromptTokens.Count byBytes = null;
      for (int i = 0; i < n; i++) {
        byBytes = PromptTokens.countAgainst(request, bytesOnly, 131_072);
      }
      long t2 = cpu.getCurrentThreadCpuTime();
      PromptTokens.Count byMerge = null;
      for (int i = 0; i < n; i++) {
        byMerge = PromptTokens.countAgainst(request, merge, 131_072);
      }
      long t3 = cpu.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        PromptTokens.countAgainst(request, merge, tight, cache);
      }
      long t4 = cpu.getCurrentThreadCpuTime();
      for (int i = 0; i < n; i++) {
        PromptTokens.countAgainst(request, merge, tight);
      }
      long t5 = cpu.getCurrentThreadCpuTime();
      System.out.printf(
          Locale.ROOT,
          "round %d, CPU ms per request: parse %.2f | vs 131072: byte bound %.2f (%s %d)"
              + " | merge bound %.2f (%s %d) | vs a limit the bound cannot decide: cold %.2f,"
              + " warm cache %.2f%n",
          round,
          (t1 - t0) / (n * 1e6),
          (t2 - t1) / (n * 1e6),
          byBytes.kind(),
          byBytes.tokens(),
          (t3 - t2) / (n * 1e6),
          byMerge.kind(),
          byMerge.tokens(),
          (t5 - t4) / (n * 1e6),
          (t4 - t3) / (n * 1e6));
    }
    tokenizers.close();
  }

  /** The same tokenizer with only the UTF-8 byte bound (the bound before the merge bound). */
  private record BytesBoundOnly(TokenCounter delegate) implements TokenCounter {
    @Override
    public String name() {
      return delegate.name();
    }

    @Override
    public long count(String text) {
      return delegate.count(text);
    }

    @Override
    public ChatFormat chatFormat() {
      return delegate.chatFormat();
    }
  }
}

package dev.inferencebudget.extproc.tokens;

import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.EncodingRegistry;
import com.knuddels.jtokkit.api.EncodingType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tokenizers by name. jtokkit's encodings load at construction; Hugging Face tokenizers load in
 * the background when a model names them ({@link #prepare}), and until one is ready the request
 * path counts with {@code o200k_base} (a close stand-in for modern byte-level BPEs).
 */
public final class Tokenizers implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Tokenizers.class);

  public static final String DEFAULT = "o200k_base";

  private final Map<String, TokenCounter> counters = new ConcurrentHashMap<>();
  private final Map<String, Boolean> loading = new ConcurrentHashMap<>();
  private final Optional<Path> directory;
  private final Executor loader;
  private final TokenCounter fallback;

  /**
   * @param directory where {@code <name>/tokenizer.json} files live
   * @param loader runs the slow Hugging Face loads
   */
  public Tokenizers(Optional<Path> directory, Executor loader) {
    this.directory = Objects.requireNonNull(directory, "directory");
    this.loader = Objects.requireNonNull(loader, "loader");
    fallback = Jtokkit.O200K;
    counters.put("o200k_base", Jtokkit.O200K);
    counters.put("cl100k_base", Jtokkit.CL100K);
  }

  /**
   * jtokkit's encodings, loaded once per JVM (about a second): they are immutable and thread-safe,
   * so every server in the process shares them.
   */
  private static final class Jtokkit {
    static final EncodingRegistry REGISTRY = Encodings.newDefaultEncodingRegistry();
    static final TokenCounter O200K =
        new JtokkitCounter(REGISTRY.getEncoding(EncodingType.O200K_BASE));
    static final TokenCounter CL100K =
        new JtokkitCounter(REGISTRY.getEncoding(EncodingType.CL100K_BASE));
  }

  /** Starts loading every named tokenizer not loaded yet; returns at once. */
  public void prepare(Collection<String> names) {
    for (String name : names) {
      if (name.isEmpty() || counters.containsKey(name) || directory.isEmpty()) {
        continue;
      }
      if (loading.putIfAbsent(name, Boolean.TRUE) != null) {
        continue;
      }
      loader.execute(() -> load(name));
    }
  }

  /** Loads a tokenizer now (startup and tests); false when its file is missing or unreadable. */
  public boolean load(String name) {
    Optional<Path> file = directory.map(d -> d.resolve(name).resolve("tokenizer.json"));
    if (file.isEmpty() || !Files.isRegularFile(file.get())) {
      log.warn("tokenizer {} not found under {}; counting with {}", name, directory, DEFAULT);
      return false;
    }
    try {
      counters.put(name, HuggingFaceCounter.load(name, file.get(), ChatFormat.CHATML));
      log.info("tokenizer {} loaded from {}", name, file.get());
      return true;
    } catch (Exception | UnsatisfiedLinkError e) {
      log.warn(
          "tokenizer {} failed to load from {}; counting with {}", name, file.get(), DEFAULT, e);
      return false;
    }
  }

  /** The counter for {@code name}, or the default while it is missing or still loading. */
  public TokenCounter counter(String name) {
    if (name.isEmpty()) {
      return fallback;
    }
    TokenCounter counter = counters.get(name);
    return counter != null ? counter : fallback;
  }

  @Override
  public void close() {
    for (TokenCounter counter : counters.values()) {
      if (counter instanceof HuggingFaceCounter hf) {
        hf.close();
      }
    }
  }
}

package dev.inferencebudget.extproc.tokens;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.google.common.hash.HashCode;
import com.google.common.hash.Hashing;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.atomic.LongAdder;

/**
 * Exact token counts of whole texts or of their first chunks (chat message contents, prompts),
 * keyed by tokenizer and the SHA-256 of the text. Chat clients resend the whole conversation every
 * turn, so all but the newest message were counted before. SHA-256, not a fast hash: a client who
 * could make two texts collide could have a long prompt counted as a short one. Bounded
 * (least-recently/frequently used entries go first); only texts long enough to be worth a hash are
 * cached.
 */
public final class TokenCountCache {

  /** Shorter texts are counted each time: counting them costs about what hashing does. */
  public static final int MIN_CHARS = 1024;

  /** About 150 bytes per entry: 65,536 entries are about 10 MB. */
  public static final int DEFAULT_ENTRIES = 65_536;

  private final Cache<Key, Progress> counts;
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();

  /** A cache key: the tokenizer's name and the text's SHA-256. */
  public record Key(String tokenizer, HashCode sha256) {
    public Key {
      Objects.requireNonNull(tokenizer, "tokenizer");
      Objects.requireNonNull(sha256, "sha256");
    }
  }

  /**
   * How far a text was counted: the exact tokens of its first {@code chunks} chunks (as {@code
   * PromptTokens} cuts it), the whole text when {@code complete}.
   */
  public record Progress(int chunks, long tokens, boolean complete) {
    public Progress {
      if (chunks < 1 || tokens < 0) {
        throw new IllegalArgumentException("bad progress " + chunks + " chunks, " + tokens);
      }
    }
  }

  /**
   * @param maxEntries 0 disables the cache
   */
  public TokenCountCache(long maxEntries) {
    if (maxEntries < 0) {
      throw new IllegalArgumentException("maxEntries must not be negative: " + maxEntries);
    }
    counts = maxEntries == 0 ? null : Caffeine.newBuilder().maximumSize(maxEntries).build();
  }

  public static TokenCountCache disabled() {
    return new TokenCountCache(0);
  }

  /** The key for {@code text}, or null when it is not worth caching (short, or cache off). */
  public Key key(String tokenizer, String text) {
    if (counts == null || text.length() < MIN_CHARS) {
      return null;
    }
    return new Key(tokenizer, Hashing.sha256().hashString(text, StandardCharsets.UTF_8));
  }

  /** What is known of the text, or null (a null key is a miss that is not recorded). */
  public Progress get(Key key) {
    if (key == null) {
      return null;
    }
    Progress known = counts.getIfPresent(key);
    if (known == null) {
      misses.increment();
    } else {
      hits.increment();
    }
    return known;
  }

  /** Records progress; a later, shorter progress never replaces a longer one. */
  public void put(Key key, Progress progress) {
    if (key != null) {
      counts
          .asMap()
          .merge(key, progress, (old, fresh) -> fresh.chunks() >= old.chunks() ? fresh : old);
    }
  }

  /** Lookups that found something. */
  public long hits() {
    return hits.sum();
  }

  /** Lookups that did not (texts shorter than {@link #MIN_CHARS} are not looked up). */
  public long misses() {
    return misses.sum();
  }

  /** Entries held now (approximate). */
  public long size() {
    return counts == null ? 0 : counts.estimatedSize();
  }
}

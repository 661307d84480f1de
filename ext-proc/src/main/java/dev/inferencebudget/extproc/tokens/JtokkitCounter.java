package dev.inferencebudget.extproc.tokens;

import com.knuddels.jtokkit.api.Encoding;
import java.util.Objects;

/**
 * An OpenAI encoding from jtokkit (vocabularies ship inside its jar), with a bound on its counts
 * that is much tighter than the UTF-8 length for prose ({@link #upperBound}).
 */
public final class JtokkitCounter implements TokenCounter {
  private static final int LETTERS = 26;

  private final Encoding encoding;

  /** {@code [first * 26 + second]}: whether that pair of lowercase ASCII letters is one token. */
  private final boolean[] letterPairIsToken = new boolean[LETTERS * LETTERS];

  /** Vocabulary entries that are a space and lowercase ASCII letters ({@code " model"}). */
  private final SpacedWords spacedWords;

  public JtokkitCounter(Encoding encoding) {
    this.encoding = Objects.requireNonNull(encoding, "encoding");
    this.spacedWords = SpacedWords.load(encoding.getName());
    for (int a = 0; a < LETTERS; a++) {
      for (int b = 0; b < LETTERS; b++) {
        String pair = new String(new char[] {(char) ('a' + a), (char) ('a' + b)});
        letterPairIsToken[a * LETTERS + b] = encoding.countTokensOrdinary(pair) == 1;
      }
    }
  }

  @Override
  public String name() {
    return encoding.getName();
  }

  @Override
  public long count(String text) {
    // Ordinary: text that spells "<|endoftext|>" is a prompt, not a control token (and the
    // non-ordinary variant throws on it).
    return encoding.countTokensOrdinary(text);
  }

  /**
   * A bound that holds for tiktoken's BPE, about 0.7 tokens per byte of English prose instead of 1.
   * Why it holds:
   *
   * <ol>
   *   <li>tiktoken splits the text into pieces with a regex and merges each piece on its own; it
   *       keeps merging while two adjacent parts together are a vocabulary entry. So in a piece's
   *       final tokens, no two neighbours together form a vocabulary entry.
   *   <li>Both encodings' regexes (o200k_base, cl100k_base) keep a run of lowercase ASCII letters
   *       in one piece, except right after a contraction ({@code 's}, {@code 'll}, ...): a run that
   *       follows an apostrophe may lose its first two letters to another piece. Those two are
   *       bounded by their bytes, like every character outside a run.
   *   <li>A token that holds a byte outside every run is bounded by that byte (tokens are
   *       disjoint). The tokens lying wholly inside one run are consecutive, and two neighbouring
   *       one-letter tokens among them never form a pair that is itself a token. {@link #runBound}
   *       is the most parts any cut of the run can have under that rule alone, which is at least
   *       the count of any sub-range's parts (a cut of a sub-range extends to the run without
   *       losing parts).
   *   <li>A space right before a lowercase letter always starts that letter's piece (no other regex
   *       branch can end on a space that a letter follows), and an ASCII non-letter other than an
   *       apostrophe ends it. Such a piece, {@code " model"}, that is itself a vocabulary entry is
   *       one token: tiktoken looks a whole piece up before merging.
   * </ol>
   *
   * <p>{@code PromptTokensTest} checks the bound against exact counts on random and adversarial
   * text (contractions, rare letter pairs, long runs, non-Latin scripts).
   */
  @Override
  public long upperBound(CharSequence text, int start, int end) {
    long bound = 0;
    int i = start;
    while (i < end) {
      char c = text.charAt(i);
      if (!isLowerAscii(c)) {
        bound += c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3;
        i++;
        continue;
      }
      int runStart = i;
      while (i < end && isLowerAscii(text.charAt(i))) {
        i++;
      }
      if (runStart > 0 && text.charAt(runStart - 1) == '\'') {
        int split = Math.min(2, i - runStart);
        bound += split;
        runStart += split;
      } else if (runStart > start
          && text.charAt(runStart - 1) == ' '
          && (i == text.length() || endsPiece(text.charAt(i)))
          && spacedWords.contains(text, runStart - 1, i)) {
        continue; // " word" is one token: the space, already counted as 1, stands for it
      }
      bound += runBound(text, runStart, i);
    }
    return bound;
  }

  /**
   * The most parts a cut of {@code [start, end)} (lowercase letters) can have when no two adjacent
   * one-letter parts form a token: dynamic programming over the run, tracking whether the last part
   * is a single letter. Parts of 2 or 3 letters suffice (longer ones split into those without new
   * one-letter parts).
   */
  private long runBound(CharSequence text, int start, int end) {
    boolean everyPairIsToken = true;
    for (int i = start + 1; i < end && everyPairIsToken; i++) {
      everyPairIsToken = isPairToken(text.charAt(i - 1), text.charAt(i));
    }
    if (everyPairIsToken) {
      // The common case, in closed form: single, pair, single, pair, ... (2 parts per 3 letters).
      return (2L * (end - start) + 1) / 3;
    }
    final long none = Long.MIN_VALUE / 4;
    // best{Multi,Single}[k] for position i + k, k = 0..3, rolled as i advances.
    long multi0 = 0;
    long single0 = none;
    long multi1 = none;
    long single1 = none;
    long multi2 = none;
    long multi3 = none;
    for (int i = start; i < end; i++) {
      long any = Math.max(multi0, single0);
      // one letter
      long viaSingle = multi0 + 1;
      if (single0 != none && !isPairToken(text.charAt(i - 1), text.charAt(i))) {
        viaSingle = Math.max(viaSingle, single0 + 1);
      }
      single1 = Math.max(single1, viaSingle);
      // two and three letters
      if (i + 2 <= end) {
        multi2 = Math.max(multi2, any + 1);
      }
      if (i + 3 <= end) {
        multi3 = Math.max(multi3, any + 1);
      }
      // advance one position
      multi0 = multi1;
      single0 = single1;
      multi1 = multi2;
      single1 = none;
      multi2 = multi3;
      multi3 = none;
    }
    return Math.max(multi0, single0);
  }

  private boolean isPairToken(char first, char second) {
    return letterPairIsToken[(first - 'a') * LETTERS + (second - 'a')];
  }

  /** Whether a piece of letters surely ends before {@code c} (o200k and cl100k alike). */
  private static boolean endsPiece(char c) {
    return c < 0x80 && !Character.isLetter(c) && c != '\'';
  }

  /** How many {@code " word"} vocabulary entries the fast path knows (0 if none were found). */
  int spacedWordCount() {
    return spacedWords.size();
  }

  /** Every {@code " word"} entry; for tests. */
  java.util.List<String> spacedWords() {
    return spacedWords.words();
  }

  private static boolean isLowerAscii(char c) {
    return c >= 'a' && c <= 'z';
  }

  @Override
  public ChatFormat chatFormat() {
    return ChatFormat.OPENAI;
  }

  /**
   * The {@code " word"} entries of an encoding's vocabulary, read once from the {@code .tiktoken}
   * file inside jtokkit's jar (jtokkit does not expose its vocabulary). An open-addressing table
   * looked up by a range of the text, so no substring is built per word.
   */
  static final class SpacedWords {
    private final String[] table;
    private final int size;

    private SpacedWords(String[] table, int size) {
      this.table = table;
      this.size = size;
    }

    static SpacedWords load(String encodingName) {
      java.util.List<String> words = new java.util.ArrayList<>();
      String resource = "com/knuddels/jtokkit/" + encodingName + ".tiktoken";
      try (java.io.InputStream in =
          JtokkitCounter.class.getClassLoader().getResourceAsStream(resource)) {
        if (in != null) {
          java.io.BufferedReader lines =
              new java.io.BufferedReader(
                  new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.US_ASCII));
          String line;
          while ((line = lines.readLine()) != null) {
            int blank = line.indexOf(' ');
            if (blank <= 0) {
              continue;
            }
            byte[] token = java.util.Base64.getDecoder().decode(line.substring(0, blank));
            if (isSpacedWord(token)) {
              words.add(new String(token, java.nio.charset.StandardCharsets.US_ASCII));
            }
          }
        }
      } catch (java.io.IOException | IllegalArgumentException e) {
        words.clear(); // no fast path; the bound stays sound without it
      }
      String[] table = new String[Integer.highestOneBit(Math.max(1, words.size()) * 4)];
      for (String word : words) {
        int slot = hash(word, 0, word.length()) & (table.length - 1);
        while (table[slot] != null) {
          slot = (slot + 1) & (table.length - 1);
        }
        table[slot] = word;
      }
      return new SpacedWords(table, words.size());
    }

    private static boolean isSpacedWord(byte[] token) {
      if (token.length < 2 || token[0] != ' ') {
        return false;
      }
      for (int k = 1; k < token.length; k++) {
        if (token[k] < 'a' || token[k] > 'z') {
          return false;
        }
      }
      return true;
    }

    private static int hash(CharSequence text, int start, int end) {
      int h = 0;
      for (int k = start; k < end; k++) {
        h = 31 * h + text.charAt(k);
      }
      return h ^ (h >>> 16);
    }

    boolean contains(CharSequence text, int start, int end) {
      if (size == 0) {
        return false;
      }
      int length = end - start;
      int slot = hash(text, start, end) & (table.length - 1);
      for (String word = table[slot]; word != null; word = table[slot]) {
        if (word.length() == length && regionEquals(word, text, start)) {
          return true;
        }
        slot = (slot + 1) & (table.length - 1);
      }
      return false;
    }

    private static boolean regionEquals(String word, CharSequence text, int start) {
      for (int k = 0; k < word.length(); k++) {
        if (word.charAt(k) != text.charAt(start + k)) {
          return false;
        }
      }
      return true;
    }

    java.util.List<String> words() {
      java.util.List<String> words = new java.util.ArrayList<>(size);
      for (String word : table) {
        if (word != null) {
          words.add(word);
        }
      }
      return words;
    }

    int size() {
      return size;
    }
  }
}

package dev.inferencebudget.extproc.openai;

import java.util.Optional;

/** The OpenAI endpoints this server admits; every other path passes through untouched. */
public enum OpenAiEndpoint {
  CHAT_COMPLETIONS("/v1/chat/completions", true),
  COMPLETIONS("/v1/completions", true),
  EMBEDDINGS("/v1/embeddings", false),
  MODELS("/v1/models", false);

  private final String path;
  private final boolean generates;

  OpenAiEndpoint(String path, boolean generates) {
    this.path = path;
    this.generates = generates;
  }

  public String path() {
    return path;
  }

  /** Whether the endpoint generates completion tokens (and so honours {@code max_tokens}). */
  public boolean generates() {
    return generates;
  }

  /** The endpoint of an HTTP {@code :path}, ignoring a query string and one trailing slash. */
  public static Optional<OpenAiEndpoint> ofPath(String rawPath) {
    if (rawPath == null) {
      return Optional.empty();
    }
    int query = rawPath.indexOf('?');
    String path = query >= 0 ? rawPath.substring(0, query) : rawPath;
    if (path.length() > 1 && path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    for (OpenAiEndpoint endpoint : values()) {
      if (endpoint.path.equals(path)) {
        return Optional.of(endpoint);
      }
    }
    return Optional.empty();
  }
}

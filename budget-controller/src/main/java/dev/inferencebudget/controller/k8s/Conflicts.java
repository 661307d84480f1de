package dev.inferencebudget.controller.k8s;

import io.fabric8.kubernetes.client.KubernetesClientException;
import java.net.HttpURLConnection;
import java.util.function.Supplier;

/** Retries a write that met a 409 Conflict; each attempt must read fresh state itself. */
public final class Conflicts {

  private Conflicts() {}

  /**
   * Runs {@code attempt}; on a 409 runs it again, at most {@code retries} more times, calling
   * {@code onConflict} for each conflict. Other errors, and the last conflict, propagate.
   */
  public static <T> T retry(int retries, Runnable onConflict, Supplier<T> attempt) {
    for (int i = 0; ; i++) {
      try {
        return attempt.get();
      } catch (KubernetesClientException e) {
        if (!isConflict(e) || i >= retries) {
          throw e;
        }
        onConflict.run();
      }
    }
  }

  public static boolean isConflict(KubernetesClientException e) {
    return e.getCode() == HttpURLConnection.HTTP_CONFLICT;
  }

  public static boolean isNotFound(KubernetesClientException e) {
    return e.getCode() == HttpURLConnection.HTTP_NOT_FOUND;
  }
}

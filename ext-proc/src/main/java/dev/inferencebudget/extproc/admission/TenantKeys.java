package dev.inferencebudget.extproc.admission;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Turns a tenant credential (e.g. {@code Bearer sk-...}) into the key its buckets are stored under:
 * a SHA-256 prefix, so no credential is kept in memory, logs or metrics.
 */
public final class TenantKeys {
  /** Requests without the tenant header share this key. */
  public static final String ANONYMOUS = "anonymous";

  private static final ThreadLocal<MessageDigest> SHA256 =
      ThreadLocal.withInitial(
          () -> {
            try {
              return MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
              throw new IllegalStateException("every JVM has SHA-256", e);
            }
          });

  private TenantKeys() {}

  /** The hashed key of a credential; {@link #ANONYMOUS} for a missing or blank one. */
  public static String hash(String credential) {
    if (credential == null || credential.isBlank()) {
      return ANONYMOUS;
    }
    MessageDigest digest = SHA256.get();
    digest.reset();
    byte[] hash = digest.digest(credential.trim().getBytes(StandardCharsets.UTF_8));
    return HexFormat.of().formatHex(hash, 0, 16);
  }
}

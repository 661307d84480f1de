package dev.inferencebudget.proto.tls;

import io.grpc.ChannelCredentials;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ServerCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Transport credentials of the project's gRPC servers (xDS, link API, ext_proc) and of its gRPC
 * clients, from a directory laid out like a {@code kubernetes.io/tls} Secret mounted as a volume
 * (cert-manager writes the same keys): {@code tls.crt} (PEM certificate chain), {@code tls.key}
 * (PEM PKCS#8 private key) and, optionally, {@code ca.crt}.
 *
 * <p>With {@code ca.crt} the connection is mutual TLS: servers require a client certificate signed
 * by it (unless {@code IBC_TLS_CLIENT_AUTH=none}, for gateways that cannot present one) and clients
 * trust only it and present their own key pair. Without it, servers do not ask for a client
 * certificate and clients trust the JVM's default roots. Without a directory ({@link #plaintext()})
 * everything is plaintext, as before.
 *
 * <p>The files are read when the first credentials are built (a missing file stops the process
 * there) and then again every {@link #reloadPeriod()} on a daemon thread: a certificate that
 * cert-manager renews in the mounted Secret is presented and trusted on new connections within one
 * period, without a restart. All credentials of one instance share one key pair and CA. Whether TLS
 * is mutual is decided at the first read ({@code ca.crt} present or not) and does not change.
 * {@link #close()} stops the reloading.
 */
public final class GrpcTls implements AutoCloseable {

  /** The environment variable naming the directory. */
  public static final String ENV = "IBC_TLS_DIR";

  /** {@code require} (default) or {@code none}: whether servers require client certificates. */
  public static final String CLIENT_AUTH_ENV = "IBC_TLS_CLIENT_AUTH";

  /** Seconds between re-reads of the directory; {@code 0} reads it once. */
  public static final String RELOAD_SECONDS_ENV = "IBC_TLS_RELOAD_SECONDS";

  /**
   * Default of {@link #RELOAD_SECONDS_ENV}: the kubelet itself propagates a changed Secret within
   * about a minute, and cert-manager renews weeks before expiry, so a minute costs nothing.
   */
  public static final Duration DEFAULT_RELOAD_PERIOD = Duration.ofSeconds(60);

  public static final String CERTIFICATE = "tls.crt";
  public static final String PRIVATE_KEY = "tls.key";
  public static final String CA = "ca.crt";

  private final Optional<Path> directory;
  private final boolean requireClientCertificates;
  private final Duration reloadPeriod;

  // guarded by this; created on the first credentials, so building a GrpcTls reads nothing
  private ReloadingKeyMaterial material;
  private ScheduledExecutorService reloader;
  private boolean closed;

  /**
   * @param directory the directory, or empty for plaintext
   * @param requireClientCertificates servers require a client certificate when {@code ca.crt}
   *     exists
   * @param reloadPeriod time between re-reads of the files; zero reads them once
   */
  public GrpcTls(
      Optional<Path> directory, boolean requireClientCertificates, Duration reloadPeriod) {
    this.directory = Objects.requireNonNull(directory, "directory");
    this.requireClientCertificates = requireClientCertificates;
    this.reloadPeriod = Objects.requireNonNull(reloadPeriod, "reloadPeriod");
    if (reloadPeriod.isNegative()) {
      throw new IllegalArgumentException("reloadPeriod = " + reloadPeriod + ", must be >= 0");
    }
  }

  /** As {@link #GrpcTls(Optional, boolean, Duration)} with {@link #DEFAULT_RELOAD_PERIOD}. */
  public GrpcTls(Optional<Path> directory, boolean requireClientCertificates) {
    this(directory, requireClientCertificates, DEFAULT_RELOAD_PERIOD);
  }

  public static GrpcTls plaintext() {
    return new GrpcTls(Optional.empty(), false);
  }

  /** TLS from {@code directory}, mutual when it holds {@code ca.crt}. */
  public static GrpcTls fromDirectory(Path directory) {
    return new GrpcTls(Optional.of(directory), true);
  }

  /**
   * {@code IBC_TLS_DIR} if set and not blank, else plaintext; {@code IBC_TLS_CLIENT_AUTH=none}
   * turns off the client-certificate requirement; {@code IBC_TLS_RELOAD_SECONDS} (default 60, 0 =
   * never) sets the reload period.
   *
   * @throws IllegalArgumentException naming the variable if {@code IBC_TLS_CLIENT_AUTH} is neither
   *     {@code require} nor {@code none}, or {@code IBC_TLS_RELOAD_SECONDS} is not a whole number
   *     {@code >= 0}
   */
  public static GrpcTls fromEnvironment(Map<String, String> env) {
    String dir = env.get(ENV);
    if (dir == null || dir.isBlank()) {
      return plaintext();
    }
    String clientAuth = env.getOrDefault(CLIENT_AUTH_ENV, "require").trim();
    if (!clientAuth.equals("require") && !clientAuth.equals("none")) {
      throw new IllegalArgumentException(
          CLIENT_AUTH_ENV + " = " + clientAuth + ", must be require or none");
    }
    Duration reloadPeriod = DEFAULT_RELOAD_PERIOD;
    String reloadSeconds = env.get(RELOAD_SECONDS_ENV);
    if (reloadSeconds != null && !reloadSeconds.isBlank()) {
      long seconds;
      try {
        seconds = Long.parseLong(reloadSeconds.trim());
      } catch (NumberFormatException e) {
        seconds = -1;
      }
      if (seconds < 0) {
        throw new IllegalArgumentException(
            RELOAD_SECONDS_ENV
                + " = "
                + reloadSeconds
                + ", must be a whole number of seconds >= 0");
      }
      reloadPeriod = Duration.ofSeconds(seconds);
    }
    return new GrpcTls(Optional.of(Path.of(dir)), clientAuth.equals("require"), reloadPeriod);
  }

  /** The directory, or empty for plaintext. */
  public Optional<Path> directory() {
    return directory;
  }

  /** Servers require a client certificate when {@code ca.crt} exists. */
  public boolean requireClientCertificates() {
    return requireClientCertificates;
  }

  /** Time between re-reads of the files; zero reads them once. */
  public Duration reloadPeriod() {
    return reloadPeriod;
  }

  public boolean enabled() {
    return directory.isPresent();
  }

  /** Whether the directory holds {@code ca.crt}: clients trust only it and present a key pair. */
  public boolean hasCa() {
    return directory.map(d -> Files.isRegularFile(d.resolve(CA))).orElse(false);
  }

  /**
   * Credentials for a server: plaintext, TLS, or mutual TLS requiring a client certificate.
   *
   * @throws IOException if a file is missing or unreadable (the process should not start
   *     half-secured)
   */
  public ServerCredentials serverCredentials() throws IOException {
    if (directory.isEmpty()) {
      return InsecureServerCredentials.create();
    }
    ReloadingKeyMaterial m = material();
    TlsServerCredentials.Builder builder =
        TlsServerCredentials.newBuilder().keyManager(m.keyManager());
    if (m.clientCertificateTrust().isPresent() && requireClientCertificates) {
      builder
          .trustManager(m.clientCertificateTrust().get())
          .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    }
    return builder.build();
  }

  /**
   * Credentials for a client: plaintext, TLS trusting {@code ca.crt} (presenting this process's
   * certificate, for mutual TLS), or TLS trusting the default roots when there is no {@code
   * ca.crt}.
   *
   * @throws IOException if a file is missing or unreadable
   */
  public ChannelCredentials channelCredentials() throws IOException {
    if (directory.isEmpty()) {
      return InsecureChannelCredentials.create();
    }
    ReloadingKeyMaterial m = material();
    TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
    if (m.serverCertificateTrust().isPresent()) {
      builder.trustManager(m.serverCertificateTrust().get()).keyManager(m.keyManager());
    }
    return builder.build();
  }

  /** Stops re-reading the files; credentials already built keep the material last read. */
  @Override
  public synchronized void close() {
    closed = true;
    if (reloader != null) {
      reloader.shutdownNow();
    }
  }

  private synchronized ReloadingKeyMaterial material() throws IOException {
    if (material == null) {
      Path d = directory.orElseThrow();
      material = ReloadingKeyMaterial.load(d, Files.isRegularFile(d.resolve(CA)));
      if (!reloadPeriod.isZero() && !closed) {
        reloader =
            Executors.newSingleThreadScheduledExecutor(
                task -> {
                  Thread thread = new Thread(task, "ibc-tls-reload");
                  // never the reason a process stays up
                  thread.setDaemon(true);
                  return thread;
                });
        long periodNanos = reloadPeriod.toNanos();
        ReloadingKeyMaterial reloaded = material;
        reloader.scheduleWithFixedDelay(
            reloaded::reloadKeepingPreviousOnFailure,
            periodNanos,
            periodNanos,
            TimeUnit.NANOSECONDS);
      }
    }
    return material;
  }

  @Override
  public String toString() {
    return "GrpcTls[directory="
        + directory
        + ", requireClientCertificates="
        + requireClientCertificates
        + ", reloadPeriod="
        + reloadPeriod
        + "]";
  }
}

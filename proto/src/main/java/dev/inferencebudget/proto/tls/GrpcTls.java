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
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Transport credentials of the project's gRPC servers (xDS, link API, ext_proc) and of ext-proc's
 * client to the controller, from a directory laid out like a {@code kubernetes.io/tls} Secret
 * mounted as a volume (cert-manager writes the same keys): {@code tls.crt} (PEM certificate chain),
 * {@code tls.key} (PEM PKCS#8 private key) and, optionally, {@code ca.crt}.
 *
 * <p>With {@code ca.crt} the connection is mutual TLS: servers require a client certificate signed
 * by it (unless {@code IBC_TLS_CLIENT_AUTH=none}, for gateways that cannot present one) and clients
 * trust only it and present their own key pair. Without it, servers do not ask for a client
 * certificate and clients trust the JVM's default roots. Without a directory ({@link #plaintext()})
 * everything is plaintext, as before.
 *
 * <p>The files are read when the credentials are built (at start); a renewed certificate takes
 * effect when the process restarts.
 *
 * @param directory the directory, or empty for plaintext
 * @param requireClientCertificates servers require a client certificate when {@code ca.crt} exists
 */
public record GrpcTls(Optional<Path> directory, boolean requireClientCertificates) {

  /** The environment variable naming the directory. */
  public static final String ENV = "IBC_TLS_DIR";

  /** {@code require} (default) or {@code none}: whether servers require client certificates. */
  public static final String CLIENT_AUTH_ENV = "IBC_TLS_CLIENT_AUTH";

  public static final String CERTIFICATE = "tls.crt";
  public static final String PRIVATE_KEY = "tls.key";
  public static final String CA = "ca.crt";

  public GrpcTls {
    Objects.requireNonNull(directory, "directory");
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
   * turns off the client-certificate requirement.
   *
   * @throws IllegalArgumentException naming the variable if {@code IBC_TLS_CLIENT_AUTH} is neither
   *     {@code require} nor {@code none}
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
    return new GrpcTls(Optional.of(Path.of(dir)), clientAuth.equals("require"));
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
    Path d = directory.get();
    TlsServerCredentials.Builder builder =
        TlsServerCredentials.newBuilder()
            .keyManager(
                required(d.resolve(CERTIFICATE)).toFile(),
                required(d.resolve(PRIVATE_KEY)).toFile());
    if (hasCa() && requireClientCertificates) {
      builder
          .trustManager(d.resolve(CA).toFile())
          .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE);
    }
    return builder.build();
  }

  /**
   * Credentials for a client: plaintext, TLS trusting {@code ca.crt} (presenting this process's
   * certificate, for mutual TLS), or TLS trusting the default roots when there is no {@code
   * ca.crt}.
   */
  public ChannelCredentials channelCredentials() throws IOException {
    if (directory.isEmpty()) {
      return InsecureChannelCredentials.create();
    }
    Path d = directory.get();
    TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
    if (hasCa()) {
      builder
          .trustManager(d.resolve(CA).toFile())
          .keyManager(
              required(d.resolve(CERTIFICATE)).toFile(), required(d.resolve(PRIVATE_KEY)).toFile());
    }
    return builder.build();
  }

  private static Path required(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw new IOException(ENV + ": " + file + " does not exist or is not a file");
    }
    return file;
  }
}

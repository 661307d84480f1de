package dev.inferencebudget.proto.tls;

import io.grpc.util.AdvancedTlsX509KeyManager;
import io.grpc.util.AdvancedTlsX509TrustManager;
import io.grpc.util.CertificateUtils;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The key pair and the trusted CA of one Secret directory, held in grpc-java's replaceable
 * managers: every TLS handshake asks the managers, so new material reaches new connections without
 * rebuilding servers or channels. Established connections keep the session they negotiated.
 *
 * <p>grpc-java's own periodic file reloading ({@code updateIdentityCredentials(File, File, period,
 * ...)}) is not used: it enforces a period of at least one minute and reloads only when both
 * modification times changed. Reading the files by path on each period instead follows the
 * kubelet's {@code ..data} symlink swap, and comparing their bytes makes a torn read (a writer
 * caught between two files) heal on the next period.
 */
final class ReloadingKeyMaterial {

  private static final Logger log = LoggerFactory.getLogger(ReloadingKeyMaterial.class);

  private final Path directory;
  private final boolean mutual;
  private final AdvancedTlsX509KeyManager keyManager = new AdvancedTlsX509KeyManager();
  // Two trust managers over the same CA: a client checks the server's name, a server cannot.
  private final Optional<AdvancedTlsX509TrustManager> clientCertificateTrust;
  private final Optional<AdvancedTlsX509TrustManager> serverCertificateTrust;
  private List<byte[]> applied = List.of();

  private ReloadingKeyMaterial(Path directory, boolean mutual) throws GeneralSecurityException {
    this.directory = Objects.requireNonNull(directory, "directory");
    this.mutual = mutual;
    this.clientCertificateTrust =
        mutual
            ? Optional.of(
                trustManager(
                    AdvancedTlsX509TrustManager.Verification.CERTIFICATE_ONLY_VERIFICATION))
            : Optional.empty();
    this.serverCertificateTrust =
        mutual
            ? Optional.of(
                trustManager(
                    AdvancedTlsX509TrustManager.Verification
                        .CERTIFICATE_AND_HOST_NAME_VERIFICATION))
            : Optional.empty();
  }

  /**
   * Reads {@code tls.crt}, {@code tls.key} and, if {@code mutual}, {@code ca.crt} from {@code
   * directory}.
   *
   * @throws IOException naming the file that is missing or unreadable
   */
  static ReloadingKeyMaterial load(Path directory, boolean mutual) throws IOException {
    ReloadingKeyMaterial material;
    try {
      material = new ReloadingKeyMaterial(directory, mutual);
    } catch (GeneralSecurityException e) {
      throw new IOException("no X.509 trust manager in this JVM", e);
    }
    material.reload();
    return material;
  }

  AdvancedTlsX509KeyManager keyManager() {
    return keyManager;
  }

  /** Verifies client certificates against {@code ca.crt} (servers, mutual TLS only). */
  Optional<AdvancedTlsX509TrustManager> clientCertificateTrust() {
    return clientCertificateTrust;
  }

  /** Verifies a server's certificate and name against {@code ca.crt} (clients, mutual TLS only). */
  Optional<AdvancedTlsX509TrustManager> serverCertificateTrust() {
    return serverCertificateTrust;
  }

  /**
   * Re-reads the files and installs them if any changed since the last read. On a failure the
   * material in use stays (a half-renewed Secret never takes a server down) and the next period
   * tries again.
   */
  void reloadKeepingPreviousOnFailure() {
    try {
      if (reload()) {
        log.info("TLS material reloaded from {}", directory);
      }
    } catch (IOException e) {
      log.warn(
          "TLS material in {} not reloaded, keeping the previous: {}", directory, e.toString());
    }
  }

  /**
   * @return whether the files changed and were installed
   */
  synchronized boolean reload() throws IOException {
    Path certificateFile = required(GrpcTls.CERTIFICATE);
    Path keyFile = required(GrpcTls.PRIVATE_KEY);
    List<byte[]> read = new ArrayList<>();
    read.add(Files.readAllBytes(certificateFile));
    read.add(Files.readAllBytes(keyFile));
    if (mutual) {
      read.add(Files.readAllBytes(required(GrpcTls.CA)));
    }
    if (sameBytes(read, applied)) {
      return false;
    }
    X509Certificate[] chain = certificates(GrpcTls.CERTIFICATE, read.get(0));
    PrivateKey key;
    try {
      key = CertificateUtils.getPrivateKey(new ByteArrayInputStream(read.get(1)));
    } catch (IOException | GeneralSecurityException e) {
      throw new IOException(
          GrpcTls.ENV + ": " + keyFile + " is not a PKCS#8 PEM RSA or EC private key", e);
    }
    if (mutual) {
      X509Certificate[] ca = certificates(GrpcTls.CA, read.get(2));
      try {
        for (AdvancedTlsX509TrustManager trust :
            List.of(clientCertificateTrust.orElseThrow(), serverCertificateTrust.orElseThrow())) {
          trust.updateTrustCredentials(ca);
        }
      } catch (GeneralSecurityException e) {
        throw new IOException(
            GrpcTls.ENV + ": " + directory.resolve(GrpcTls.CA) + " not usable", e);
      }
    }
    keyManager.updateIdentityCredentials(chain, key);
    applied = List.copyOf(read);
    return true;
  }

  private X509Certificate[] certificates(String name, byte[] pem) throws IOException {
    X509Certificate[] certificates;
    try {
      certificates = CertificateUtils.getX509Certificates(new ByteArrayInputStream(pem));
    } catch (GeneralSecurityException e) {
      throw new IOException(GrpcTls.ENV + ": " + directory.resolve(name) + " is not PEM X.509", e);
    }
    if (certificates.length == 0) {
      throw new IOException(GrpcTls.ENV + ": " + directory.resolve(name) + " holds no certificate");
    }
    return certificates;
  }

  private Path required(String name) throws IOException {
    Path file = directory.resolve(name);
    if (!Files.isRegularFile(file)) {
      throw new IOException(GrpcTls.ENV + ": " + file + " does not exist or is not a file");
    }
    return file;
  }

  private static boolean sameBytes(List<byte[]> a, List<byte[]> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (!Arrays.equals(a.get(i), b.get(i))) {
        return false;
      }
    }
    return true;
  }

  private static AdvancedTlsX509TrustManager trustManager(
      AdvancedTlsX509TrustManager.Verification verification) throws GeneralSecurityException {
    return AdvancedTlsX509TrustManager.newBuilder().setVerification(verification).build();
  }
}

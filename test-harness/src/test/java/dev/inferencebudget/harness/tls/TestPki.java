package dev.inferencebudget.harness.tls;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away certificate authority, as cert-manager's CA issuer would make one: ECDSA P-256 keys,
 * leaf certificates for {@code localhost} and {@code 127.0.0.1} usable as server and client,
 * written in the layout of a mounted {@code kubernetes.io/tls} Secret.
 */
final class TestPki {

  private final String name;
  private final KeyPair caKey;
  private final X509Certificate ca;
  private final Instant notBefore;
  private long serial = 1;

  /**
   * @param notBefore validity start; TLS checks validity against the system clock, so callers pass
   *     a time shortly before now
   */
  TestPki(String name, Instant notBefore)
      throws GeneralSecurityException, OperatorCreationException {
    this.name = name;
    this.notBefore = notBefore;
    this.caKey = newKeyPair();
    X500Name subject = new X500Name("CN=" + name);
    X509v3CertificateBuilder builder = builder(subject, subject, caKey);
    try {
      builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      builder.addExtension(
          Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
    } catch (IOException e) {
      throw new GeneralSecurityException(e);
    }
    this.ca = sign(builder, caKey);
  }

  /**
   * Writes {@code tls.crt}, {@code tls.key} (PKCS#8) and, if {@code withCa}, {@code ca.crt} into
   * {@code directory} (created).
   */
  Path writeSecret(Path directory, boolean withCa) throws Exception {
    return writeSecret(
        directory,
        withCa,
        new GeneralName[] {
          new GeneralName(GeneralName.dNSName, "localhost"),
          new GeneralName(GeneralName.iPAddress, InetAddress.getLoopbackAddress().getHostAddress())
        });
  }

  /**
   * Like {@link #writeSecret(Path, boolean)}, but the certificate names only {@code dnsNames} (as
   * cert-manager's for the chart's Service names), not the loopback address clients dial.
   */
  Path writeSecret(Path directory, boolean withCa, List<String> dnsNames) throws Exception {
    return writeSecret(
        directory,
        withCa,
        dnsNames.stream()
            .map(n -> new GeneralName(GeneralName.dNSName, n))
            .toArray(GeneralName[]::new));
  }

  private Path writeSecret(Path directory, boolean withCa, GeneralName[] names) throws Exception {
    Files.createDirectories(directory);
    KeyPair leafKey = newKeyPair();
    X509v3CertificateBuilder builder =
        builder(new X500Name("CN=" + name), new X500Name("CN=ibc-leaf-" + serial), leafKey);
    builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
    builder.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
    builder.addExtension(
        Extension.extendedKeyUsage,
        false,
        new ExtendedKeyUsage(
            new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
    builder.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
    X509Certificate leaf = sign(builder, caKey);
    pem(directory.resolve("tls.crt"), leaf);
    pem(directory.resolve("tls.key"), new JcaPKCS8Generator(leafKey.getPrivate(), null));
    if (withCa) {
      pem(directory.resolve("ca.crt"), ca);
    }
    return directory;
  }

  private X509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair key) {
    return new JcaX509v3CertificateBuilder(
        issuer,
        BigInteger.valueOf(serial++),
        Date.from(notBefore),
        Date.from(notBefore.plus(Duration.ofDays(1))),
        subject,
        key.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder builder, KeyPair signer)
      throws GeneralSecurityException, OperatorCreationException {
    return new JcaX509CertificateConverter()
        .getCertificate(
            builder.build(
                new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate())));
  }

  private static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  private static void pem(Path file, Object object) throws IOException {
    try (Writer out = Files.newBufferedWriter(file);
        JcaPEMWriter pem = new JcaPEMWriter(out)) {
      pem.writeObject(object);
    }
  }
}

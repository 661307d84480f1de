package dev.inferencebudget.harness.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * A real Envoy started with the standalone bootstrap, its hosts and ports rewritten to the
 * sandbox's. Used only when an {@code envoy} binary is on PATH; no Envoy can be installed on the
 * development and CI machines, so this path is not exercised by any test here (the rewrite is).
 */
final class EnvoyProcess implements AutoCloseable {

  /** Where the sandbox's processes listen. */
  record Ports(String host, int dataPlanePort, int xdsPort, int extProcPort) {
    Ports {
      Objects.requireNonNull(host, "host");
    }
  }

  private final Process process;
  private final Path directory;

  private EnvoyProcess(Process process, Path directory) {
    this.process = process;
    this.directory = directory;
  }

  static EnvoyProcess start(Path binary, Path bootstrap, Ports ports) {
    try {
      Path directory = Files.createTempDirectory("ibc-sandbox-envoy");
      Path config = directory.resolve("envoy.yaml");
      Files.writeString(config, rewrite(Files.readString(bootstrap), ports));
      Process process =
          new ProcessBuilder(
                  List.of(
                      binary.toString(),
                      "-c",
                      config.toString(),
                      "--log-level",
                      "warn",
                      "--base-id",
                      Long.toString(ProcessHandle.current().pid())))
              .redirectErrorStream(true)
              .redirectOutput(directory.resolve("envoy.log").toFile())
              .start();
      return new EnvoyProcess(process, directory);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + binary, e);
    }
  }

  /**
   * The bootstrap with the Helm Services' hosts ({@code ibc-controller:18000}, {@code
   * ext-proc:9002}) and the listener ({@code 0.0.0.0:8080}) replaced by the sandbox's addresses.
   *
   * @throws IllegalArgumentException if the bootstrap does not contain what is replaced
   */
  static String rewrite(String bootstrap, Ports ports) {
    String out = bootstrap;
    out =
        replaceOnce(
            out,
            "{address: ibc-controller, port_value: 18000}",
            "{address: " + ports.host() + ", port_value: " + ports.xdsPort() + "}");
    out =
        replaceOnce(
            out,
            "{address: ext-proc, port_value: 9002}",
            "{address: " + ports.host() + ", port_value: " + ports.extProcPort() + "}");
    out =
        replaceOnce(
            out,
            "{address: 0.0.0.0, port_value: 8080}",
            "{address: " + ports.host() + ", port_value: " + ports.dataPlanePort() + "}");
    return out;
  }

  private static String replaceOnce(String text, String target, String replacement) {
    int at = text.indexOf(target);
    if (at < 0 || text.indexOf(target, at + 1) >= 0) {
      throw new IllegalArgumentException(
          "the Envoy bootstrap must contain " + target + " exactly once");
    }
    return text.replace(target, replacement);
  }

  /** Envoy's log file. */
  Path log() {
    return directory.resolve("envoy.log");
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}

package dev.inferencebudget.harness.sandbox;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real Envoy started with the standalone bootstrap, its hosts and ports rewritten to the
 * sandbox's ({@link DataPlane.Ports#rewriteEnvoyBootstrap}), in a temporary directory that also
 * holds its log. No Envoy can be installed on the development and CI machines: {@code
 * SandboxEnvoyProcessIT} runs this with a fake {@code envoy} (a shell script) instead, so the
 * command line, the bootstrap and the handling of an exiting Envoy are tested, a real Envoy
 * accepting the bootstrap is not.
 */
final class EnvoyProcess implements DataPlane {

  private final Process process;
  private final Path directory;
  private final int port;

  private EnvoyProcess(Process process, Path directory, int port) {
    this.process = process;
    this.directory = directory;
    this.port = port;
  }

  static EnvoyProcess start(Path binary, Path bootstrap, Ports ports) {
    try {
      Path directory = Files.createTempDirectory("ibc-sandbox-envoy");
      Path config = directory.resolve("envoy.yaml");
      Files.writeString(config, ports.rewriteEnvoyBootstrap(Files.readString(bootstrap)));
      Process process =
          new ProcessBuilder(
                  List.of(
                      binary.toString(),
                      "-c",
                      config.toString(),
                      "--log-level",
                      "warn",
                      // several Envoys on one host need distinct shared-memory ids
                      "--base-id",
                      Long.toString(ProcessHandle.current().pid())))
              .redirectErrorStream(true)
              .redirectOutput(directory.resolve("envoy.log").toFile())
              .start();
      return new EnvoyProcess(process, directory, ports.dataPlanePort());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + binary, e);
    }
  }

  @Override
  public int port() {
    return port;
  }

  @Override
  public Optional<String> failure() {
    if (process.isAlive()) {
      return Optional.empty();
    }
    return Optional.of("envoy exited with code " + process.exitValue() + "; its log: " + log());
  }

  /** Envoy's log file (stdout and stderr). */
  Path log() {
    return directory.resolve("envoy.log");
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}

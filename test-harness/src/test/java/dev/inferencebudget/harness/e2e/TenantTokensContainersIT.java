package dev.inferencebudget.harness.e2e;

import org.junit.jupiter.api.BeforeAll;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * {@link TenantTokensScenarios} on K3s and the {@code envoyproxy/envoy} image (see {@link
 * Containers}); skipped without Docker.
 */
@Testcontainers(disabledWithoutDocker = true)
class TenantTokensContainersIT extends TenantTokensScenarios {
  @BeforeAll
  static void startSystem() throws Exception {
    use(Containers.start(E2e.config()));
  }
}

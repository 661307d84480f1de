package dev.inferencebudget.harness.e2e;

import org.junit.jupiter.api.BeforeAll;

/** {@link TenantTokensScenarios} on the embedded API server and the Envoy stand-in. */
class TenantTokensIT extends TenantTokensScenarios {
  @BeforeAll
  static void startSystem() throws Exception {
    use(E2e.start(E2e.config()));
  }
}

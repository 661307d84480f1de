package dev.inferencebudget.harness.e2e;

import org.junit.jupiter.api.BeforeAll;

/** {@link RestartScenarios} on the embedded API server and the Envoy stand-in. */
class RestartIT extends RestartScenarios {
  @BeforeAll
  static void startSystem() throws Exception {
    use(E2e.start(CONFIG));
  }
}

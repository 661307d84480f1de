package dev.inferencebudget.harness.e2e;

import org.junit.jupiter.api.BeforeAll;

/** {@link ScaleFromZeroScenarios} on the embedded API server and the Envoy stand-in. */
class ScaleFromZeroIT extends ScaleFromZeroScenarios {
  @BeforeAll
  static void startSystem() throws Exception {
    use(E2e.start(E2e.config()));
  }
}

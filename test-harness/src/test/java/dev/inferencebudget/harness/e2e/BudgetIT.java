package dev.inferencebudget.harness.e2e;

import org.junit.jupiter.api.BeforeAll;

/** {@link BudgetScenarios} on the embedded API server and the Envoy stand-in. */
class BudgetIT extends BudgetScenarios {
  @BeforeAll
  static void startSystem() throws Exception {
    use(E2e.start(CONFIG));
  }
}

package dev.inferencebudget.harness.fleet;

import java.time.Duration;
import java.util.Objects;

/**
 * The keep-alive policies the simulator compares; each maps to a BudgetedModel configuration of the
 * decision core.
 */
public sealed interface KeepAlivePolicy {
  /** A short name for tables, files and charts. */
  String label();

  /** The baseline: {@code replicas.min = 1} for every model, never scaled to zero. */
  record AlwaysOn() implements KeepAlivePolicy {
    @Override
    public String label() {
      return "always-on";
    }
  }

  /** Scale to zero after a fixed {@code idleTimeout} without requests. */
  record Fixed(Duration idleTimeout) implements KeepAlivePolicy {
    public Fixed {
      Objects.requireNonNull(idleTimeout, "idleTimeout");
      if (idleTimeout.isNegative() || idleTimeout.isZero()) {
        throw new IllegalArgumentException("idleTimeout must be > 0, got " + idleTimeout);
      }
    }

    @Override
    public String label() {
      return "fixed-" + Durations.format(idleTimeout);
    }
  }

  /** The decision core's adaptive keep-alive (learns each model's inter-arrival times). */
  record Adaptive() implements KeepAlivePolicy {
    @Override
    public String label() {
      return "adaptive";
    }
  }
}

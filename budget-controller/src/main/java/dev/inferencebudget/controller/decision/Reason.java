package dev.inferencebudget.controller.decision;

import java.util.Objects;

/**
 * Why something changed or was refused, for a Kubernetes event ({@code kind.eventReason()} is the
 * event's reason, {@code message} its message) and for status conditions.
 */
public record Reason(Kind kind, String message) {

  public Reason {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(message, "message");
  }

  /** The kinds of reasons; each maps to a CamelCase event reason and a normal/warning type. */
  public enum Kind {
    ACTIVATED("Activated", false),
    SCALED_UP("ScaledUp", false),
    SCALED_DOWN("ScaledDown", false),
    SCALED_TO_ZERO("ScaledToZero", false),
    PREWARMED("Prewarmed", false),
    FLOOR("MinimumReplicas", false),
    CAPPED("MaximumReplicas", false),
    PANIC_STARTED("PanicStarted", false),
    PANIC_ENDED("PanicEnded", false),
    COLD_START_DONE("ColdStartDone", false),
    PREEMPTED("Preempted", true),
    PREEMPTING("Preempting", false),
    WAITING_FOR_MEMORY("WaitingForMemory", false),
    BUDGET_BLOCKED("BudgetBlocked", true),
    BUDGET_MISSING("BudgetMissing", true),
    THRESHOLD_CROSSED("ProtectionThresholdCrossed", true),
    THRESHOLD_CLEARED("ProtectionThresholdCleared", false);

    private final String eventReason;
    private final boolean warning;

    Kind(String eventReason, boolean warning) {
      this.eventReason = eventReason;
      this.warning = warning;
    }

    public String eventReason() {
      return eventReason;
    }

    /** Whether the event is of type Warning (else Normal). */
    public boolean warning() {
      return warning;
    }
  }
}

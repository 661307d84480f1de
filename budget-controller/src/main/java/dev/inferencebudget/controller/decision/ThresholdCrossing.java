package dev.inferencebudget.controller.decision;

/**
 * Whether this decision moved a budget's reservation across its protection threshold, compared with
 * the previous decision (a Warning event and a metric when it rises above).
 */
public enum ThresholdCrossing {
  NONE,
  ROSE_ABOVE,
  FELL_BELOW
}

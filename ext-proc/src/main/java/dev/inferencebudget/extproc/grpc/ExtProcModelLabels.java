package dev.inferencebudget.extproc.grpc;

/** Model labels used before a request names its model. */
final class ExtProcModelLabels {
  /** The request never named a model (headers-level answers). */
  static final String NONE = "none";

  private ExtProcModelLabels() {}
}

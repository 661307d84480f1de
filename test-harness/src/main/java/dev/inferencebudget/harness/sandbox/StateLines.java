package dev.inferencebudget.harness.sandbox;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Renders a {@link SandboxState} as the command's live state lines (pure formatting). */
final class StateLines {

  private StateLines() {}

  /** One line per budget, then one per model; stable for equal states. */
  static List<String> render(SandboxState state) {
    List<String> lines = new ArrayList<>();
    int keyWidth = 0;
    for (SandboxState.Budget b : state.budgets()) {
      keyWidth = Math.max(keyWidth, b.key().length());
    }
    for (SandboxState.Model m : state.models()) {
      keyWidth = Math.max(keyWidth, m.key().length());
    }
    String keyFormat = "%-" + Math.max(keyWidth, 1) + "s";
    for (SandboxState.Budget b : state.budgets()) {
      long percent =
          b.gpuMemoryBytes() == 0 ? 0 : 100 * b.reservedGpuMemoryBytes() / b.gpuMemoryBytes();
      lines.add(
          String.format(
              Locale.ROOT,
              "  budget " + keyFormat + "  reserved %s / %s (%d%%), pods hold %s  %s",
              b.key(),
              gib(b.reservedGpuMemoryBytes()),
              gib(b.gpuMemoryBytes()),
              percent,
              gib(b.occupiedGpuMemoryBytes()),
              b.state()));
    }
    for (SandboxState.Model m : state.models()) {
      lines.add(
          String.format(
              Locale.ROOT,
              "  model  " + keyFormat + "  %-13s replicas desired %d, ready %d/%d%s  held %d",
              m.key(),
              m.state().isEmpty() ? "-" : m.state(),
              m.desiredReplicas(),
              m.readyReplicas(),
              m.replicas(),
              m.terminatingReplicas() == 0 ? "" : ", terminating " + m.terminatingReplicas(),
              m.heldRequests()));
    }
    return lines;
  }

  /** Bytes in GiB, whole when exact ({@code 80Gi}), else one decimal ({@code 0.5Gi}). */
  static String gib(long bytes) {
    if (bytes % (1L << 30) == 0) {
      return (bytes >> 30) + "Gi";
    }
    return String.format(Locale.ROOT, "%.1fGi", bytes / (double) (1L << 30));
  }
}

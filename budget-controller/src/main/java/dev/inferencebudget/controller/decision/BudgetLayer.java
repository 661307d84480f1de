package dev.inferencebudget.controller.decision;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The budget layer, the final say. It never lets the memory held at any instant exceed the budget:
 *
 * <ul>
 *   <li>A model's committed memory is {@code (max(desired on the workload, previous decision, live
 *       pods) + terminating pods) * perReplica}: replicas the workload will create, pods that
 *       exist, and pods that are leaving but still hold their GPU. Counting the previous decision
 *       means a grant the shell has not applied (or the informer not yet shown) is never granted
 *       twice.
 *   <li>A scale-up is granted only from {@code budget - sum(committed)}: memory free now. A
 *       scale-down in the same decision frees nothing; its memory is free once its pods are gone,
 *       which a later observation shows. So while one model scales down and another up, both are
 *       counted.
 *   <li>Grants go in priority order, one replica at a time round-robin among equal priorities
 *       (fewest replicas first). Once a model is refused, no model of lower priority grows in the
 *       same budget.
 *   <li>Below priority {@code protectedPriority} a model may not take the reservation above the
 *       protection threshold.
 *   <li>With {@code IdleLowerPriority}, a refused model that memory already being released would
 *       not cover has idle lower-priority models scaled to their floor (least priority, longest
 *       idle first), only if that covers its next replica. It waits (not refused) until the memory
 *       is free.
 * </ul>
 */
final class BudgetLayer {
  private BudgetLayer() {}

  /** One model's claim on its budget; the layer fills in {@link #granted} and the outcome. */
  static final class Claim {
    final String key;
    final int priority;
    final long perReplicaBytes;
    final int desiredOnWorkload;

    /** The previous decision; without one (first decision, restart) the workload's count. */
    final int previousDecision;

    final int live;
    final int terminating;
    final int wanted;
    final int floor;
    final boolean idle;
    final Optional<Instant> idleSince;

    int granted;
    BudgetRefusal refusal;
    String waitingFor;
    boolean refusedBehind;
    final List<Reason> reasons = new ArrayList<>();

    Claim(
        String key,
        int priority,
        long perReplicaBytes,
        int desiredOnWorkload,
        int previousDecision,
        int live,
        int terminating,
        int wanted,
        int floor,
        boolean idle,
        Optional<Instant> idleSince) {
      this.key = key;
      this.priority = priority;
      this.perReplicaBytes = perReplicaBytes;
      this.desiredOnWorkload = desiredOnWorkload;
      this.previousDecision = previousDecision;
      this.live = live;
      this.terminating = terminating;
      this.wanted = wanted;
      this.floor = floor;
      this.idle = idle;
      this.idleSince = idleSince;
    }

    /**
     * Replicas that need no new memory: the previous decision's. Live pods above it are not
     * reusable even when the observation still shows them live: the shell may have applied the
     * scale-down after the observation was taken, so they may be terminating already, and a replica
     * above the previous decision is a new pod.
     */
    int covered() {
      return previousDecision;
    }

    /**
     * The most memory this model's pods may hold now: the workload's count, the previous decision
     * (applied or not) or the live pods, whichever is largest, plus terminating pods.
     */
    long committedBytes() {
      return (Math.max(Math.max(desiredOnWorkload, previousDecision), live) + (long) terminating)
          * perReplicaBytes;
    }

    /** What the model holds or is granted after this decision. */
    long reservedAfterBytes() {
      return (Math.max(granted, live) + (long) terminating) * perReplicaBytes;
    }

    /** Memory that will be freed once this model converges on its grant. */
    long releasingBytes() {
      return Math.max(0, committedBytes() - (long) granted * perReplicaBytes);
    }
  }

  /** Totals for the budget; the claims carry the per-model outcome. */
  record Totals(long committedBytes, long reservedAfterBytes, long heldBytes) {}

  static Totals apply(Optional<BudgetSpec> budget, String budgetKey, List<Claim> claims) {
    long committed = 0;
    for (Claim c : claims) {
      c.granted = Math.min(c.wanted, c.covered());
      committed += c.committedBytes();
    }
    if (budget.isEmpty()) {
      for (Claim c : claims) {
        if (c.wanted > c.granted) {
          long needed = (c.wanted - c.granted) * c.perReplicaBytes;
          refuse(c, budgetKey, needed, 0, "budget " + budgetKey + " does not exist");
        }
      }
      return totals(claims, committed);
    }
    BudgetSpec b = budget.get();
    long reserved = committed;

    // Priority levels, highest first.
    TreeMap<Integer, List<Claim>> levels = new TreeMap<>(Comparator.reverseOrder());
    for (Claim c : claims) {
      if (c.wanted > c.granted) {
        levels.computeIfAbsent(c.priority, p -> new ArrayList<>()).add(c);
      }
    }
    Claim refusedAbove = null;
    for (List<Claim> level : levels.values()) {
      if (refusedAbove != null) {
        for (Claim c : level) {
          long needed = (c.wanted - c.granted) * c.perReplicaBytes;
          long free = Math.max(0, b.gpuMemoryBytes() - reserved);
          refuse(
              c,
              b.key(),
              needed,
              free,
              "budget "
                  + b.key()
                  + " serves higher-priority "
                  + refusedAbove.key
                  + " first: needs "
                  + Bytes.format(needed)
                  + ", has "
                  + Bytes.format(free)
                  + " free");
          c.refusedBehind = true;
        }
        continue;
      }
      List<Claim> active = new ArrayList<>(level);
      Claim firstRefused = null;
      while (!active.isEmpty()) {
        active.sort(Comparator.<Claim>comparingInt(c -> c.granted).thenComparing(c -> c.key));
        for (Claim c : List.copyOf(active)) {
          long limit = b.isProtected(c.priority) ? b.gpuMemoryBytes() : b.thresholdBytes();
          if (reserved + c.perReplicaBytes <= limit) {
            c.granted++;
            reserved += c.perReplicaBytes;
            if (c.granted >= c.wanted) {
              active.remove(c);
            }
          } else {
            refuseForLimit(b, c, reserved, limit);
            firstRefused = firstRefused == null ? c : firstRefused;
            active.remove(c);
          }
        }
      }
      refusedAbove = firstRefused;
    }

    // Make room: memory on its way out first, then idle lower-priority models.
    List<Claim> refused = new ArrayList<>();
    for (Claim c : claims) {
      if (c.refusal != null && !c.refusedBehind) {
        refused.add(c);
      }
    }
    refused.sort(Comparator.<Claim>comparingInt(c -> -c.priority).thenComparing(c -> c.key));
    for (Claim c : refused) {
      long limit = b.isProtected(c.priority) ? b.gpuMemoryBytes() : b.thresholdBytes();
      long shortfall = reserved + c.perReplicaBytes - limit;
      long releasing = 0;
      for (Claim o : claims) {
        releasing += o.releasingBytes();
      }
      if (releasing >= shortfall) {
        wait(c, Bytes.format(releasing) + " being released in budget " + b.key());
        continue;
      }
      if (b.preemption() != BudgetSpec.Preemption.IDLE_LOWER_PRIORITY) {
        continue;
      }
      long need = shortfall - releasing;
      List<Claim> victims = new ArrayList<>();
      long releasable = 0;
      for (Claim o : claims) {
        if (o.priority < c.priority && o.idle && o.granted > o.floor) {
          victims.add(o);
          releasable += (o.granted - o.floor) * o.perReplicaBytes;
        }
      }
      if (releasable < need) {
        continue;
      }
      victims.sort(
          Comparator.<Claim>comparingInt(o -> o.priority)
              .thenComparing(o -> o.idleSince.orElse(Instant.MIN))
              .thenComparing(o -> o.key));
      List<String> names = new ArrayList<>();
      for (Claim v : victims) {
        if (need <= 0) {
          break;
        }
        long release = (v.granted - v.floor) * v.perReplicaBytes;
        v.granted = v.floor;
        need -= release;
        names.add(v.key);
        v.reasons.add(
            new Reason(
                Reason.Kind.PREEMPTED,
                "preempted "
                    + v.key
                    + " to make room for "
                    + c.key
                    + " in budget "
                    + b.key()
                    + ": scaled to "
                    + v.floor
                    + ", releasing "
                    + Bytes.format(release)));
      }
      c.reasons.add(
          new Reason(
              Reason.Kind.PREEMPTING,
              "preempting idle lower-priority "
                  + String.join(", ", names)
                  + " to make room in budget "
                  + b.key()));
      wait(c, "preempted " + String.join(", ", names) + " to release its memory");
    }
    return totals(claims, committed);
  }

  private static void wait(Claim c, String what) {
    c.waitingFor = what;
    c.reasons.add(
        new Reason(
            Reason.Kind.WAITING_FOR_MEMORY,
            "waiting for " + what + ": " + c.refusal.message().replaceFirst("^blocked: ", "")));
    c.refusal = null;
  }

  private static void refuseForLimit(BudgetSpec b, Claim c, long reserved, long limit) {
    long needed = (c.wanted - c.granted) * c.perReplicaBytes;
    long free = Math.max(0, limit - reserved);
    String message;
    if (limit == b.gpuMemoryBytes()) {
      message =
          "budget "
              + b.key()
              + " needs "
              + Bytes.format(needed)
              + ", has "
              + Bytes.format(free)
              + " free";
    } else {
      message =
          "budget "
              + b.key()
              + " is at its protection threshold "
              + b.protectionThresholdPercent()
              + "% ("
              + Bytes.format(limit)
              + ") and priority "
              + c.priority
              + " is below the protected priority "
              + b.protectedPriority()
              + ": needs "
              + Bytes.format(needed)
              + ", has "
              + Bytes.format(free)
              + " free below the threshold";
    }
    refuse(c, b.key(), needed, free, message);
  }

  private static void refuse(Claim c, String budgetKey, long needed, long free, String message) {
    c.refusal = new BudgetRefusal(budgetKey, needed, free, "blocked: " + message);
  }

  private static Totals totals(List<Claim> claims, long committed) {
    long after = 0;
    long held = 0;
    for (Claim c : claims) {
      after += c.reservedAfterBytes();
      held += (c.live + (long) c.terminating) * c.perReplicaBytes;
    }
    return new Totals(committed, after, held);
  }
}

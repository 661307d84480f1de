package dev.inferencebudget.harness.fleet;

import dev.inferencebudget.harness.fleet.FleetAutoscaler.ModelObservation;
import dev.inferencebudget.harness.fleet.FleetAutoscaler.ScalingDirective;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.function.LongConsumer;

/**
 * A discrete-event simulation of the fleet in virtual time: request arrivals (from the trace),
 * request completions, replicas becoming ready, replicas releasing their GPU, and controller ticks.
 * It is the simulator's shell around the decision core: on every tick (and when a request arrives
 * for a model at zero, as an activation would) it observes every model, asks the {@link
 * FleetAutoscaler}, and applies the directives: start replicas (ready after the model's load time),
 * terminate replicas (they stop taking requests, drain, and hold their memory for the termination
 * delay).
 *
 * <p>Requests: a request for a model without a ready replica is held (it "waited for a cold
 * start"); it is served when a replica is ready, refused at once when the budget refuses the
 * model's activation (the fast error of the design), or answered 503 after the hold timeout. Queued
 * requests are served FIFO per model.
 *
 * <p>Hand-written rather than a DES library: the loop is a priority queue of five event kinds, and
 * owning it keeps the run deterministic (ties broken by insertion order) and fast enough for a day
 * of virtual time in seconds. Not thread-safe; one instance per run.
 */
public final class FleetSimulation {
  private static final int ARRIVAL = 0;
  private static final int COMPLETION = 1;
  private static final int READY = 2;
  private static final int RELEASE = 3;
  private static final int TICK = 4;

  private final Fleet fleet;
  private final SimulationSettings settings;
  private final List<TraceRequest> trace;
  private final int[] modelOfRequest;
  private final FleetAutoscaler autoscaler;
  private final String policyLabel;

  private final PriorityQueue<Event> events =
      new PriorityQueue<>(
          (a, b) ->
              a.atMicros != b.atMicros
                  ? Long.compare(a.atMicros, b.atMicros)
                  : Long.compare(a.seq, b.seq));
  private final ModelState[] models;
  private long seq;
  private long now;
  private long reservedBytes;
  private long lastAccountedMicros;
  private double byteMicros;
  private long overBudgetMicros;
  private long peakReservedBytes;
  private long coldStarts;
  private long replicaStarts;
  private long served;
  private long refusedByBudget;
  private long holdTimeouts;
  private long waitedForColdStart;
  private long resolved;
  private final long[] waits;
  private int waitCount;
  private final List<PolicyResult.Sample> samples = new ArrayList<>();
  private long nextSampleMicros;

  /**
   * @param modelOfRequest for each trace request, the index of its model in the fleet
   */
  public FleetSimulation(
      Fleet fleet,
      SimulationSettings settings,
      List<TraceRequest> trace,
      int[] modelOfRequest,
      FleetAutoscaler autoscaler,
      String policyLabel) {
    this.fleet = Objects.requireNonNull(fleet, "fleet");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.trace = List.copyOf(trace);
    this.modelOfRequest = Objects.requireNonNull(modelOfRequest, "modelOfRequest");
    this.autoscaler = Objects.requireNonNull(autoscaler, "autoscaler");
    this.policyLabel = Objects.requireNonNull(policyLabel, "policyLabel");
    if (modelOfRequest.length != this.trace.size()) {
      throw new IllegalArgumentException("one model per request expected");
    }
    for (int model : modelOfRequest) {
      if (model < 0 || model >= fleet.models().size()) {
        throw new IllegalArgumentException("model index " + model + " not in the fleet");
      }
    }
    this.models = new ModelState[fleet.models().size()];
    for (int i = 0; i < models.length; i++) {
      models[i] = new ModelState(i, fleet.models().get(i));
    }
    this.waits = new long[this.trace.size()];
  }

  /**
   * Runs the replay to its end: every request resolved and the virtual clock past the last arrival.
   *
   * @param progress called with the number of requests resolved so far, now and then
   */
  public PolicyResult run(LongConsumer progress) {
    Objects.requireNonNull(progress, "progress");
    long tickMicros = settings.tickInterval().toNanos() / 1_000;
    long sampleMicros = settings.sampleInterval().toNanos() / 1_000;
    int nextArrival = 0;
    long lastArrivalMicros = trace.isEmpty() ? 0 : arrivalMicros(trace.size() - 1);
    schedule(0, TICK, -1, null, -1);
    long reported = 0;
    while (true) {
      boolean arrivalNext =
          nextArrival < trace.size()
              && (events.isEmpty() || arrivalMicros(nextArrival) <= events.peek().atMicros);
      long at =
          arrivalNext
              ? arrivalMicros(nextArrival)
              : events.isEmpty() ? Long.MAX_VALUE : events.peek().atMicros;
      if (at == Long.MAX_VALUE) {
        break;
      }
      if (!arrivalNext
          && events.peek().kind == TICK
          && at > lastArrivalMicros
          && resolved == trace.size()) {
        break; // replay over: nothing left to serve, nothing left to decide for the report
      }
      advanceTo(at, sampleMicros);
      if (arrivalNext) {
        onArrival(nextArrival++);
      } else {
        Event event = events.poll();
        switch (event.kind) {
          case COMPLETION -> onCompletion(event);
          case READY -> onReady(event);
          case RELEASE -> onRelease(event);
          case TICK -> {
            reconcile();
            schedule(now + tickMicros, TICK, -1, null, -1);
          }
          default -> throw new IllegalStateException("unknown event kind " + event.kind);
        }
      }
      if (resolved - reported >= 256) {
        progress.accept(resolved);
        reported = resolved;
      }
    }
    advanceTo(now, sampleMicros);
    progress.accept(resolved);
    long[] sortedWaits = Arrays.copyOf(waits, waitCount);
    Arrays.sort(sortedWaits);
    return new PolicyResult(
        policyLabel,
        byteMicros / 3_600_000_000.0,
        coldStarts,
        replicaStarts,
        trace.size(),
        served,
        refusedByBudget,
        holdTimeouts,
        waitedForColdStart,
        sortedWaits,
        peakReservedBytes,
        overBudgetMicros,
        now,
        samples);
  }

  private long arrivalMicros(int request) {
    return Math.round(trace.get(request).offsetMicros() * settings.stretch());
  }

  /** Moves the clock, integrating reserved memory and taking the samples due on the way. */
  private void advanceTo(long at, long sampleMicros) {
    while (nextSampleMicros <= at) {
      accountUntil(nextSampleMicros);
      samples.add(sample(nextSampleMicros));
      nextSampleMicros += sampleMicros;
    }
    accountUntil(at);
    now = at;
  }

  private void accountUntil(long at) {
    long dt = at - lastAccountedMicros;
    if (dt > 0) {
      byteMicros += (double) reservedBytes * dt;
      if (reservedBytes > fleet.budgetGpuMemoryBytes()) {
        overBudgetMicros += dt;
      }
      lastAccountedMicros = at;
    }
  }

  private PolicyResult.Sample sample(long at) {
    int[] replicas = new int[models.length];
    int[] ready = new int[models.length];
    long[] reserved = new long[models.length];
    for (int i = 0; i < models.length; i++) {
      ModelState model = models[i];
      replicas[i] = model.starting + model.ready;
      ready[i] = model.ready;
      reserved[i] = model.replicas.size() * model.profile.gpuMemoryPerReplicaBytes();
    }
    return new PolicyResult.Sample(at, replicas, ready, reserved);
  }

  private void onArrival(int request) {
    int index = modelOfRequest[request];
    ModelState model = models[index];
    TraceRequest traced = trace.get(request);
    model.lastRequestMicros = now;
    model.seenRequest = true;
    model.arrivalsSinceObservation++;
    boolean cold = model.ready == 0;
    if (cold) {
      waitedForColdStart++;
    }
    model.queue.addLast(
        new Queued(
            now,
            model.profile.serviceMicros(traced.contextTokens(), traced.generatedTokens()),
            cold));
    dispatch(model);
    if (cold && model.starting == 0) {
      reconcile(); // the activation: ext-proc tells the controller at once, it does not wait for
      // the next tick
    }
  }

  private void dispatch(ModelState model) {
    while (!model.queue.isEmpty()) {
      Replica replica = model.freeReplica();
      if (replica == null) {
        return;
      }
      Queued next = model.queue.pollFirst();
      replica.inFlight++;
      model.inFlight++;
      waits[waitCount++] = now - next.arrivalMicros;
      schedule(now + next.serviceMicros, COMPLETION, model.index(), replica, replica.generation);
    }
  }

  private void onCompletion(Event event) {
    ModelState model = models[event.model];
    Replica replica = event.replica;
    replica.inFlight--;
    model.inFlight--;
    served++;
    resolved++;
    if (replica.state == ReplicaState.TERMINATING) {
      maybeRelease(model, replica);
    } else {
      dispatch(model);
    }
  }

  private void onReady(Event event) {
    ModelState model = models[event.model];
    Replica replica = event.replica;
    if (replica.state != ReplicaState.STARTING || replica.generation != event.generation) {
      return; // terminated while starting
    }
    replica.state = ReplicaState.READY;
    model.starting--;
    model.ready++;
    dispatch(model);
  }

  private void onRelease(Event event) {
    ModelState model = models[event.model];
    Replica replica = event.replica;
    replica.terminationDelayOver = true;
    maybeRelease(model, replica);
  }

  private void maybeRelease(ModelState model, Replica replica) {
    if (replica.terminationDelayOver && replica.inFlight == 0 && model.replicas.remove(replica)) {
      model.terminating--;
      changeReserved(-model.profile.gpuMemoryPerReplicaBytes());
    }
  }

  /** One controller pass: observe, decide, apply. */
  private void reconcile() {
    Instant virtualNow = virtual(now);
    List<ModelObservation> observed = new ArrayList<>(models.length);
    for (ModelState model : models) {
      int waiting = model.queue.size();
      boolean holding = model.ready == 0 && waiting > 0;
      observed.add(
          new ModelObservation(
              model.starting,
              model.ready,
              model.terminating,
              model.seenRequest ? Optional.of(virtual(model.lastRequestMicros)) : Optional.empty(),
              model.inFlight,
              holding ? 0 : waiting,
              holding ? waiting : 0,
              holding
                  ? Optional.of(virtual(model.queue.peekFirst().arrivalMicros))
                  : Optional.empty(),
              model.arrivalsSinceObservation));
      model.arrivalsSinceObservation = 0;
    }
    List<ScalingDirective> directives = autoscaler.decide(observed, virtualNow);
    if (directives.size() != models.length) {
      throw new IllegalStateException(
          "autoscaler returned "
              + directives.size()
              + " directives for "
              + models.length
              + " models");
    }
    // Scale-downs first: the decision core counts terminating replicas as reserved, so the order
    // does not matter
    // for the budget, but it keeps the reserved-memory peak of a tick honest.
    for (int i = 0; i < models.length; i++) {
      ModelState model = models[i];
      int desired = Math.min(directives.get(i).desiredReplicas(), model.profile.maxReplicas());
      while (model.starting + model.ready > desired) {
        terminate(model, model.replicaToTerminate());
      }
    }
    for (int i = 0; i < models.length; i++) {
      ModelState model = models[i];
      ScalingDirective directive = directives.get(i);
      int desired = Math.min(directive.desiredReplicas(), model.profile.maxReplicas());
      while (model.starting + model.ready < desired) {
        start(model);
      }
      if (model.starting + model.ready == 0
          && !model.queue.isEmpty()
          && directive.budgetBlocked()) {
        refusedByBudget += model.queue.size();
        resolved += model.queue.size();
        model.queue.clear();
      }
      expireHeld(model);
    }
  }

  private Instant virtual(long micros) {
    return settings.start().plusNanos(micros * 1_000);
  }

  private void expireHeld(ModelState model) {
    long holdMicros = settings.holdTimeout().toNanos() / 1_000;
    if (model.ready > 0) {
      return; // requests queued behind a ready replica are served in turn; the hold timeout is for
      // cold starts
    }
    while (!model.queue.isEmpty()
        && model.queue.peekFirst().held
        && now - model.queue.peekFirst().arrivalMicros >= holdMicros) {
      model.queue.pollFirst();
      holdTimeouts++;
      resolved++;
    }
  }

  private void start(ModelState model) {
    if (model.starting + model.ready == 0) {
      coldStarts++;
    }
    replicaStarts++;
    Replica replica = new Replica();
    model.replicas.add(replica);
    model.starting++;
    changeReserved(model.profile.gpuMemoryPerReplicaBytes());
    schedule(
        now + model.profile.loadTime().toNanos() / 1_000,
        READY,
        model.index(),
        replica,
        replica.generation);
  }

  private void terminate(ModelState model, Replica replica) {
    if (replica.state == ReplicaState.STARTING) {
      model.starting--;
    } else {
      model.ready--;
    }
    replica.state = ReplicaState.TERMINATING;
    replica.generation++;
    model.terminating++;
    long delayMicros = settings.terminationDelay().toNanos() / 1_000;
    schedule(now + delayMicros, RELEASE, model.index(), replica, replica.generation);
  }

  private void changeReserved(long deltaBytes) {
    reservedBytes += deltaBytes;
    peakReservedBytes = Math.max(peakReservedBytes, reservedBytes);
  }

  private void schedule(long at, int kind, int model, Replica replica, long generation) {
    events.add(new Event(at, seq++, kind, model, replica, generation));
  }

  private record Event(
      long atMicros, long seq, int kind, int model, Replica replica, long generation) {}

  private record Queued(long arrivalMicros, long serviceMicros, boolean held) {}

  private enum ReplicaState {
    STARTING,
    READY,
    TERMINATING
  }

  private static final class Replica {
    ReplicaState state = ReplicaState.STARTING;
    long generation;
    int inFlight;
    boolean terminationDelayOver;
  }

  private final class ModelState {
    final int index;
    final ModelProfile profile;
    final List<Replica> replicas = new ArrayList<>();
    final ArrayDeque<Queued> queue = new ArrayDeque<>();
    int starting;
    int ready;
    int terminating;
    int inFlight;
    long lastRequestMicros;
    long arrivalsSinceObservation;
    boolean seenRequest;

    ModelState(int index, ModelProfile profile) {
      this.index = index;
      this.profile = profile;
    }

    int index() {
      return index;
    }

    Replica freeReplica() {
      Replica best = null;
      for (Replica replica : replicas) {
        if (replica.state == ReplicaState.READY
            && replica.inFlight < profile.maxConcurrency()
            && (best == null || replica.inFlight < best.inFlight)) {
          best = replica;
        }
      }
      return best;
    }

    /**
     * A starting replica first (it serves nobody yet), else the ready one with the fewest requests
     * in flight.
     */
    Replica replicaToTerminate() {
      Replica best = null;
      for (Replica replica : replicas) {
        if (replica.state == ReplicaState.STARTING) {
          best = replica;
        }
      }
      if (best != null) {
        return best;
      }
      for (Replica replica : replicas) {
        if (replica.state == ReplicaState.READY
            && (best == null || replica.inFlight < best.inFlight)) {
          best = replica;
        }
      }
      return best;
    }
  }
}

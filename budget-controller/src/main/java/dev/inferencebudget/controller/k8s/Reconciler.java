package dev.inferencebudget.controller.k8s;

import dev.inferencebudget.controller.api.Quantities;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelSpec;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelStatus;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudget;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudgetStatus;
import dev.inferencebudget.controller.api.v1alpha1.ModelReservation;
import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.controller.decision.BudgetDecision;
import dev.inferencebudget.controller.decision.BudgetSpec;
import dev.inferencebudget.controller.decision.Decider;
import dev.inferencebudget.controller.decision.DeciderState;
import dev.inferencebudget.controller.decision.Decision;
import dev.inferencebudget.controller.decision.FleetState;
import dev.inferencebudget.controller.decision.KeepAliveHistogram;
import dev.inferencebudget.controller.decision.LoadSample;
import dev.inferencebudget.controller.decision.ModelDecision;
import dev.inferencebudget.controller.decision.ModelMemory;
import dev.inferencebudget.controller.decision.ModelObservation;
import dev.inferencebudget.controller.decision.ModelState;
import dev.inferencebudget.controller.decision.PendingActivation;
import dev.inferencebudget.controller.decision.Reason;
import dev.inferencebudget.controller.decision.ReplicaCounts;
import dev.inferencebudget.controller.k8s.route.HttpRouteReconciler;
import dev.inferencebudget.controller.k8s.route.RouteAcceptance;
import dev.inferencebudget.controller.link.ActivationHandler;
import dev.inferencebudget.controller.link.LeaderLink;
import dev.inferencebudget.controller.link.LoadAggregator;
import dev.inferencebudget.controller.link.ModelStatePublisher;
import dev.inferencebudget.controller.link.PeerRoutability;
import dev.inferencebudget.controller.metrics.ControllerMetrics;
import dev.inferencebudget.controller.observe.GpuMemoryObserver;
import dev.inferencebudget.proto.v1.PeerReport;
import dev.inferencebudget.xds.XdsControlPlane;
import dev.inferencebudget.xds.api.Endpoint;
import dev.inferencebudget.xds.api.ModelEndpoints;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One reconcile of the whole fleet per cycle, on one thread: read the caches, build the decision
 * core's input, decide, and (on the leader only) apply the output: scale targets, write statuses
 * that changed, record events. Every replica, leader or standby, feeds xDS and publishes model
 * states to ext-proc. Cycles run on any cache change (debounced), on activations, at the decision's
 * next timer and at least every tick.
 *
 * <p>The shell does no arithmetic of its own: replicas, states, reservations and reasons all come
 * from {@link Decider}. What it adds is what the decision core cannot see: a missing target, a
 * second writer of the target's replicas, two models claiming one model name, a spec that does not
 * convert.
 *
 * <p>With several controller replicas, a standby passes what reaches it on to the leader ({@link
 * LeaderLink}) and republishes the leader's model states while it can; routability counts the
 * Envoys of every replica ({@link PeerRoutability}, see docs/controller.md).
 */
public final class Reconciler implements ActivationHandler {

  private static final Logger log = LoggerFactory.getLogger(Reconciler.class);

  /** Condition types of a BudgetedModel. */
  public static final String READY = "Ready";

  public static final String COLD_STARTING = "ColdStarting";
  public static final String BUDGET_EXCEEDED = "BudgetExceeded";
  public static final String TARGET_FOUND = "TargetFound";
  public static final String SINGLE_WRITER = "SingleWriter";
  public static final String MODEL_NAMES_UNIQUE = "ModelNamesUnique";
  public static final String SPEC_VALID = "SpecValid";
  public static final String MEMORY_WITHIN_RESERVATION = "MemoryWithinReservation";

  /** Condition types of an InferenceBudget. */
  public static final String ABOVE_PROTECTION_THRESHOLD = "AboveProtectionThreshold";

  private static final int DEFAULT_VLLM_PORT = 8000;

  private final ClusterCaches caches;
  private final ReplicaScaler scaler;
  private final StatusWriter statusWriter;
  private final EventRecorder events;
  private final XdsControlPlane xds;
  private final ModelStatePublisher publisher;
  private final LoadAggregator loads;
  private final ControllerMetrics metrics;
  private final Clock clock;
  private final ControllerConfig config;
  private final ScheduledExecutorService executor;
  private final HttpRouteReconciler routes;
  private final LeaderLink leaderLink;
  private final PeerRoutability peers;
  private final Decider decider = new Decider();

  // Confined to the executor thread.
  private DeciderState state = DeciderState.empty();
  private boolean restoreFromStatus = true;
  private boolean leader;
  private Instant leaderSince = Instant.MIN;
  private final Map<String, Long> arrivalsSeen = new HashMap<>();
  private final Map<String, LastWrite> lastWrites = new HashMap<>();
  private final Map<String, Instant> coldStartsOpen = new HashMap<>();
  private final Map<String, ConvertedSpec> convertedSpecs = new HashMap<>();
  private final Map<String, BuiltState> builtStates = new HashMap<>();
  private final Map<String, StatusInput> unchangedStatuses = new HashMap<>();
  private List<ModelEndpoints> lastEndpoints = List.of();
  private ScheduledFuture<?> timer;

  // Shared with gRPC threads.
  private final Map<String, PendingActivation> pending = new ConcurrentHashMap<>();
  private volatile Map<String, ModelOutcome> outcomes = Map.of();
  private final AtomicBoolean cycleQueued = new AtomicBoolean();
  private volatile Duration lastCycleTime = Duration.ZERO;
  private volatile List<GpuMemoryObserver.Target> gpuTargets = List.of();
  private volatile Map<String, Map<String, Long>> gpuReadings = Map.of();

  /** What an activation is answered from: the latest cycle's outcome of a model. */
  private record ModelOutcome(ModelState state, Optional<ActivationHandler.Refusal> refusal) {}

  /** The replicas this controller last set on a target, and what they were before. */
  private record LastWrite(int replicas, int before) {}

  public Reconciler(
      ClusterCaches caches,
      ReplicaScaler scaler,
      StatusWriter statusWriter,
      EventRecorder events,
      XdsControlPlane xds,
      ModelStatePublisher publisher,
      LoadAggregator loads,
      ControllerMetrics metrics,
      Clock clock,
      ControllerConfig config,
      ScheduledExecutorService executor,
      HttpRouteReconciler routes,
      LeaderLink leaderLink,
      PeerRoutability peers) {
    this.caches = Objects.requireNonNull(caches, "caches");
    this.scaler = Objects.requireNonNull(scaler, "scaler");
    this.statusWriter = Objects.requireNonNull(statusWriter, "statusWriter");
    this.events = Objects.requireNonNull(events, "events");
    this.xds = Objects.requireNonNull(xds, "xds");
    this.publisher = Objects.requireNonNull(publisher, "publisher");
    this.loads = Objects.requireNonNull(loads, "loads");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.config = Objects.requireNonNull(config, "config");
    this.executor = Objects.requireNonNull(executor, "executor");
    this.routes = Objects.requireNonNull(routes, "routes");
    this.leaderLink = Objects.requireNonNull(leaderLink, "leaderLink");
    this.peers = Objects.requireNonNull(peers, "peers");
  }

  /** Asks for a cycle soon; a burst of requests within the debounce gives one cycle. */
  public void requestCycle() {
    if (cycleQueued.compareAndSet(false, true)) {
      executor.schedule(this::runQueuedCycle, config.debounce().toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  /** Called on leadership changes; the new leader rebuilds its state from status. */
  public void leadershipChanged(boolean isLeader) {
    executor.execute(
        () -> {
          leader = isLeader;
          leaderSince = clock.instant();
          restoreFromStatus = true;
          metrics.leader(isLeader);
          cycle();
        });
  }

  /**
   * Called by xDS when a model's routability over this replica's Envoys changes: a standby tells
   * the leader at once; every replica republishes after a cycle (releases holds).
   */
  public void routabilityChanged(String modelKey, boolean routable) {
    executor.execute(
        () -> {
          if (!leader) {
            reportToLeader();
          }
          requestCycle();
        });
  }

  /** What this replica's Envoys can route to, for the leader (sent only when it changed). */
  private void reportToLeader() {
    leaderLink.report(
        PeerReport.newBuilder()
            .setReplica(config.leaderElection().identity())
            .setConnectedEnvoys(xds.syncedClients())
            .addAllRoutable(new TreeSet<>(xds.routableModels()))
            .build());
  }

  /**
   * Runs one cycle on the reconciler thread, waits for it and returns how long it took (tests and
   * the scale benchmark).
   */
  public Duration cycleAndWait() throws InterruptedException {
    try {
      executor.submit(this::cycle).get();
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException(e.getCause());
    }
    return lastCycleTime;
  }

  /** The duration of the latest cycle (for the benchmark). */
  public Duration lastCycleTime() {
    return lastCycleTime;
  }

  @Override
  public Outcome activate(String modelKey, String replica, Instant requestedAt) {
    ModelOutcome outcome = outcomes.get(modelKey);
    if (outcome == null) {
      return Outcome.unknownModel();
    }
    pending.merge(
        modelKey,
        new PendingActivation(1, requestedAt),
        (a, b) ->
            new PendingActivation(
                a.heldRequests() + 1,
                a.requestedAt().isBefore(b.requestedAt()) ? a.requestedAt() : b.requestedAt()));
    requestCycle();
    if (outcome.state() == ModelState.BUDGET_BLOCKED && outcome.refusal().isPresent()) {
      return Outcome.refused(outcome.refusal().get());
    }
    return Outcome.accepted();
  }

  private void runQueuedCycle() {
    cycleQueued.set(false);
    cycle();
  }

  /** Runs one cycle now; must run on the executor. Never throws (a crash loop helps nobody). */
  void cycle() {
    long started = System.nanoTime();
    Optional<Instant> next = Optional.empty();
    try {
      next = reconcile(clock.instant());
    } catch (RuntimeException e) {
      log.error("decision cycle failed; retrying at the next tick", e);
    } finally {
      lastCycleTime = Duration.ofNanos(System.nanoTime() - started);
      metrics.cycle(lastCycleTime);
      scheduleTimer(next);
    }
  }

  private void scheduleTimer(Optional<Instant> next) {
    if (timer != null) {
      timer.cancel(false);
    }
    Duration delay = config.tick();
    if (next.isPresent()) {
      Duration untilNext = Duration.between(clock.instant(), next.get());
      if (untilNext.compareTo(delay) < 0) {
        delay = untilNext.isNegative() ? Duration.ZERO : untilNext;
      }
    }
    timer = executor.schedule(this::cycle, delay.toMillis(), TimeUnit.MILLISECONDS);
  }

  private Optional<Instant> reconcile(Instant now) {
    List<InferenceBudget> budgetResources = caches.budgets();
    List<BudgetedModel> modelResources = new ArrayList<>(caches.models());
    // The oldest claim on a model name wins; ties by key so every replica agrees.
    modelResources.sort(
        Comparator.comparing(
                (BudgetedModel m) -> String.valueOf(m.getMetadata().getCreationTimestamp()))
            .thenComparing(Reconciler::key));

    Map<String, String> nameOwners = new HashMap<>();
    List<ModelView> views = new ArrayList<>();
    for (BudgetedModel m : modelResources) {
      views.add(view(m, nameOwners));
    }

    // Decision input.
    List<BudgetSpec> budgetSpecs = new ArrayList<>();
    Map<String, InferenceBudget> budgetsByKey = new TreeMap<>();
    for (InferenceBudget b : budgetResources) {
      try {
        budgetSpecs.add(EdgeConversion.budgetSpec(key(b), b.getSpec()));
        budgetsByKey.put(key(b), b);
      } catch (IllegalArgumentException e) {
        if (leader) {
          events.record(b, true, "InvalidSpec", e.getMessage());
        }
      }
    }
    Map<String, LoadAggregator.ModelLoadView> load = loads.snapshot();
    List<dev.inferencebudget.controller.decision.ModelSpec> specs = new ArrayList<>();
    List<ModelObservation> observations = new ArrayList<>();
    for (ModelView v : views) {
      if (!v.decided()) {
        continue;
      }
      specs.add(v.spec().get());
      observations.add(observation(v, load.get(v.key()), now));
    }
    FleetState fleet = new FleetState(budgetSpecs, specs, observations);
    // A new leader writes nothing during the startup grace: ext-proc replicas reconnect and report
    // what they hold first. Until then it decides like a standby, from status.
    boolean writing = leader && !now.isBefore(leaderSince.plus(config.startupGrace()));
    if (restoreFromStatus) {
      state = restoredState(views, budgetResources);
      restoreFromStatus = !writing;
    }
    Decision decision = decider.decide(fleet, state, now);
    if (writing) {
      state = decision.nextState();
    }

    if (writing) {
      routes.reconcile(modelResources);
    }
    Map<String, ModelOutcome> newOutcomes = new HashMap<>();
    Map<String, ControllerMetrics.ModelFigures> figures = new TreeMap<>();
    List<ModelEndpoints> endpoints = new ArrayList<>();
    Map<String, ObservedGpuMemory> observed = observedGpuMemory(views);
    List<GpuMemoryObserver.Target> targets = new ArrayList<>();
    for (ModelView v : views) {
      targets.addAll(v.readyReplicas());
      Optional<ModelDecision> d = Optional.ofNullable(decision.models().get(v.key()));
      if (writing) {
        apply(v, d, Optional.ofNullable(observed.get(v.key())), now);
      }
      d.ifPresent(
          md -> md.coldStartStartedAt().ifPresent(t -> coldStartsOpen.putIfAbsent(v.key(), t)));
      ModelState modelState = d.map(ModelDecision::state).orElse(ModelState.SCALED_TO_ZERO);
      Optional<ActivationHandler.Refusal> refusal =
          d.flatMap(ModelDecision::refusal)
              .map(
                  r ->
                      new ActivationHandler.Refusal(
                          r.budgetKey(), r.neededBytes(), r.freeBytes(), r.message()));
      if (v.problem().isPresent()) {
        refusal = Optional.of(new ActivationHandler.Refusal("", 0, 0, v.problem().get().message()));
        modelState = ModelState.BUDGET_BLOCKED;
      }
      newOutcomes.put(v.key(), new ModelOutcome(modelState, refusal));
      figures.put(
          v.key(),
          new ControllerMetrics.ModelFigures(
              d.map(ModelDecision::desiredReplicas).orElse(0),
              v.replicas().ready(),
              modelState.statusName()));
      endpoints.add(new ModelEndpoints(v.key(), v.endpoints()));
    }
    if (writing) {
      Map<String, List<ModelView>> viewsByBudget = new HashMap<>();
      for (ModelView v : views) {
        if (v.decided()) {
          viewsByBudget.computeIfAbsent(v.spec().get().budgetKey(), k -> new ArrayList<>()).add(v);
        }
      }
      for (BudgetDecision bd : decision.budgets().values()) {
        InferenceBudget b = budgetsByKey.get(bd.budgetKey());
        if (b != null) {
          applyBudget(
              b,
              bd,
              viewsByBudget.getOrDefault(bd.budgetKey(), List.of()),
              decision,
              observed,
              now);
        }
      }
    }
    outcomes = Map.copyOf(newOutcomes);
    gpuTargets = List.copyOf(targets);
    // The xDS diff over every model costs more than comparing the lists when nothing changed.
    if (!endpoints.equals(lastEndpoints)) {
      xds.update(endpoints);
      lastEndpoints = endpoints;
    }
    if (!leader) {
      reportToLeader();
    }
    // Routability may have changed with this update; read it again for the published states.
    Predicate<String> routable = peers.combine(xds.routableModels(), xds.syncedClients());
    List<dev.inferencebudget.proto.v1.ModelState> withRoutable = new ArrayList<>();
    for (ModelView v : views) {
      boolean isRoutable = routable.test(v.key());
      if (isRoutable) {
        pending.remove(v.key());
        Instant started = coldStartsOpen.remove(v.key());
        if (started != null) {
          metrics.coldStart(v.key(), Duration.between(started, now));
        }
      }
      withRoutable.add(protoState(v, newOutcomes.get(v.key()), isRoutable));
    }
    // A standby republishes the leader's states while it receives them (LeaderLink).
    if (!leaderLink.relaying()) {
      publisher.publish(withRoutable);
    }
    metrics.models(figures);
    Map<String, Long> observedByModel = new TreeMap<>();
    Map<String, Long> observedByBudget = new TreeMap<>();
    for (ModelView v : views) {
      ObservedGpuMemory o = observed.get(v.key());
      if (o != null) {
        observedByModel.put(v.key(), o.bytes());
        v.spec().ifPresent(spec -> observedByBudget.merge(spec.budgetKey(), o.bytes(), Long::sum));
      }
    }
    metrics.observedGpuMemory(observedByModel, observedByBudget);
    Map<String, long[]> budgetFigures = new TreeMap<>();
    decision
        .budgets()
        .forEach(
            (k, bd) -> budgetFigures.put(k, new long[] {bd.reservedBytes(), bd.gpuMemoryBytes()}));
    metrics.budgets(budgetFigures);
    pending.keySet().removeIf(k -> !newOutcomes.containsKey(k));
    convertedSpecs.keySet().removeIf(k -> !newOutcomes.containsKey(k));
    builtStates.keySet().removeIf(k -> !newOutcomes.containsKey(k));
    unchangedStatuses.keySet().removeIf(k -> !newOutcomes.containsKey(k));
    Optional<Instant> next = decision.nextDecisionAt();
    if (leader && !writing) {
      // Decide again when the grace ends: activations held back by it must not wait for a tick.
      Instant graceEnd = leaderSince.plus(config.startupGrace());
      if (next.isEmpty() || next.get().isAfter(graceEnd)) {
        next = Optional.of(graceEnd);
      }
    }
    return next;
  }

  // ---- reading the caches --------------------------------------------------------------------

  private ModelView view(BudgetedModel m, Map<String, String> nameOwners) {
    String key = key(m);
    String ns = m.getMetadata().getNamespace();
    BudgetedModelSpec spec = m.getSpec();
    List<String> conflicting = new ArrayList<>();
    if (spec != null) {
      for (String name : spec.modelNames()) {
        String owner = nameOwners.putIfAbsent(name, key);
        if (owner != null && !owner.equals(key)) {
          conflicting.add(name + " (claimed by " + owner + ")");
        }
      }
    }
    ConvertedSpec converted = convertedSpecs.get(key);
    if (converted == null || converted.spec() != spec) {
      converted = convert(key, ns, spec);
      convertedSpecs.put(key, converted);
    }
    Optional<dev.inferencebudget.controller.decision.ModelSpec> decisionSpec =
        converted.converted();
    Optional<ModelView.Problem> problem = converted.problem();
    String target = spec == null || spec.targetRef() == null ? null : spec.targetRef().name();
    Optional<Deployment> deployment =
        target == null ? Optional.empty() : caches.deployment(ns, target);
    if (problem.isEmpty() && deployment.isEmpty()) {
      problem =
          Optional.of(
              new ModelView.Problem(
                  TARGET_FOUND,
                  "DeploymentNotFound",
                  "target Deployment "
                      + ns
                      + "/"
                      + target
                      + " does not exist; the model is not scaled and reserves nothing"));
    }
    ReplicaCounts counts = ReplicaCounts.NONE;
    List<Endpoint> endpoints = List.of();
    List<String> nodes = List.of();
    Optional<String> writer = Optional.empty();
    List<GpuMemoryObserver.Target> targets = new ArrayList<>();
    if (deployment.isPresent()) {
      Deployment d = deployment.get();
      int desired = specReplicas(d);
      int starting = 0;
      int ready = 0;
      int terminating = 0;
      List<Endpoint> eps = new ArrayList<>();
      TreeSet<String> nodeSet = new TreeSet<>();
      Map<String, String> selector =
          d.getSpec() == null || d.getSpec().getSelector() == null
              ? Map.of()
              : d.getSpec().getSelector().getMatchLabels();
      for (Pod p : caches.pods(ns, selector)) {
        // EndpointSlices (a Service's view) first, the pod itself when no slice names it.
        Optional<ClusterCaches.SliceEndpoint> slice =
            caches.sliceEndpoint(ns, p.getMetadata().getName());
        boolean isReady =
            slice.map(ClusterCaches.SliceEndpoint::ready).orElseGet(() -> podReady(p));
        if (p.getMetadata().getDeletionTimestamp() != null
            || slice.map(ClusterCaches.SliceEndpoint::terminating).orElse(false)) {
          terminating++;
          continue;
        }
        if (isReady) {
          ready++;
        } else {
          starting++;
        }
        if (p.getSpec() != null && p.getSpec().getNodeName() != null) {
          nodeSet.add(p.getSpec().getNodeName());
        }
        String ip =
            slice
                .map(ClusterCaches.SliceEndpoint::address)
                .orElse(p.getStatus() == null ? null : p.getStatus().getPodIP());
        int port =
            slice.map(ClusterCaches.SliceEndpoint::port).filter(Objects::nonNull).orElse(port(p));
        if (ip != null && !ip.isBlank()) {
          eps.add(new Endpoint(ip, port, isReady));
          if (isReady) {
            targets.add(
                new GpuMemoryObserver.Target(key, p.getMetadata().getName(), ip, port, gpus(p)));
          }
        }
      }
      counts = new ReplicaCounts(desired, starting, ready, terminating);
      endpoints = eps;
      nodes = List.copyOf(nodeSet);
      writer = externalWriter(m, d);
    }
    return new ModelView(
        key,
        m,
        decisionSpec,
        deployment,
        counts,
        endpoints,
        nodes,
        writer,
        problem,
        conflicting,
        targets);
  }

  /**
   * The GPU memory observer's last readings of the models' current ready replicas, compared with
   * what each replica reserves.
   */
  private Map<String, ObservedGpuMemory> observedGpuMemory(List<ModelView> views) {
    Map<String, Map<String, Long>> readings = gpuReadings;
    Map<String, ObservedGpuMemory> out = new HashMap<>();
    if (readings.isEmpty()) {
      return out;
    }
    for (ModelView v : views) {
      Map<String, Long> byPod = readings.get(v.key());
      if (byPod == null) {
        continue;
      }
      long total = 0;
      boolean any = false;
      List<String> over = new ArrayList<>();
      for (GpuMemoryObserver.Target t : v.readyReplicas()) {
        Long bytes = byPod.get(t.pod());
        if (bytes == null) {
          continue;
        }
        any = true;
        total += bytes;
        if (v.spec().isPresent() && bytes > v.spec().get().gpuMemoryPerReplicaBytes()) {
          over.add(t.pod() + " uses " + Quantities.ofBytes(bytes));
        }
      }
      if (any) {
        out.put(v.key(), new ObservedGpuMemory(total, over));
      }
    }
    return out;
  }

  /** The ready replicas of the latest cycle, for the GPU memory observer. */
  public List<GpuMemoryObserver.Target> gpuTargets() {
    return gpuTargets;
  }

  /** New readings from the GPU memory observer (model → pod → bytes); a cycle reports them. */
  public void gpuMemoryObserved(Map<String, Map<String, Long>> readings) {
    gpuReadings = Map.copyOf(readings);
    requestCycle();
  }

  /** Edge conversion of a spec; cached per model because it parses durations and quantities. */
  private record ConvertedSpec(
      BudgetedModelSpec spec,
      Optional<dev.inferencebudget.controller.decision.ModelSpec> converted,
      Optional<ModelView.Problem> problem) {}

  private static ConvertedSpec convert(String key, String ns, BudgetedModelSpec spec) {
    try {
      return new ConvertedSpec(
          spec, Optional.of(EdgeConversion.modelSpec(key, ns, spec)), Optional.empty());
    } catch (IllegalArgumentException | NullPointerException e) {
      return new ConvertedSpec(
          spec,
          Optional.empty(),
          Optional.of(
              new ModelView.Problem(
                  SPEC_VALID, "InvalidSpec", "spec cannot be used: " + e.getMessage())));
    }
  }

  /** Compares a cached object by identity: the informer replaces an object when it changes. */
  private record Identity(Object of) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Identity other && other.of == of;
    }

    @Override
    public int hashCode() {
      return System.identityHashCode(of);
    }
  }

  /** What a model's status is built from (besides the clock, which only stamps transitions). */
  private record StatusInput(
      Identity resource,
      Optional<ModelDecision> decision,
      Optional<ModelView.Problem> problem,
      Instant lastScaleTime,
      Instant lastRequest,
      Optional<KeepAliveHistogram> histogram,
      ReplicaCounts replicas,
      List<String> nodes,
      Optional<String> externalWriter,
      List<String> conflictingNames,
      boolean targetFound,
      Optional<RouteAcceptance.Verdict> routeVerdict,
      Optional<ObservedGpuMemory> observed) {}

  /** What a published model state is built from; an equal input reuses the built proto. */
  private record StateInput(
      Identity spec,
      ModelOutcome outcome,
      boolean routable,
      int readyReplicas,
      List<Endpoint> endpoints,
      List<String> conflictingNames) {}

  private record BuiltState(StateInput input, dev.inferencebudget.proto.v1.ModelState proto) {}

  private dev.inferencebudget.proto.v1.ModelState protoState(
      ModelView v, ModelOutcome outcome, boolean routable) {
    StateInput input =
        new StateInput(
            new Identity(v.resource().getSpec()),
            outcome,
            routable,
            v.replicas().ready(),
            v.endpoints(),
            v.conflictingNames());
    BuiltState built = builtStates.get(v.key());
    if (built == null || !built.input().equals(input)) {
      built =
          new BuiltState(
              input,
              ModelStates.toProto(
                  v, outcome.state(), outcome.refusal(), routable, v.replicas().ready()));
      builtStates.put(v.key(), built);
    }
    return built.proto();
  }

  /**
   * Who else writes the target's replicas: an HPA (KEDA creates one for its ScaledObject) or a
   * person or tool that changed them since this controller last set them.
   */
  private Optional<String> externalWriter(BudgetedModel m, Deployment d) {
    String ns = d.getMetadata().getNamespace();
    String name = d.getMetadata().getName();
    for (HorizontalPodAutoscaler hpa : caches.horizontalPodAutoscalers(ns)) {
      var ref = hpa.getSpec() == null ? null : hpa.getSpec().getScaleTargetRef();
      if (ref != null && "Deployment".equals(ref.getKind()) && name.equals(ref.getName())) {
        Map<String, String> labels = hpa.getMetadata().getLabels();
        String scaledObject = labels == null ? null : labels.get("scaledobject.keda.sh/name");
        return Optional.of(
            scaledObject != null
                ? "KEDA ScaledObject " + ns + "/" + scaledObject
                : "HorizontalPodAutoscaler " + ns + "/" + hpa.getMetadata().getName());
      }
    }
    int actual = specReplicas(d);
    LastWrite last = lastWrites.get(key(m));
    if (last == null && m.getStatus() != null && m.getStatus().desiredReplicas() != null) {
      int recorded = m.getStatus().desiredReplicas();
      last = new LastWrite(recorded, recorded);
    }
    // The cache may still show the value from before our own write: that is lag, not a writer.
    if (last != null && actual != last.replicas() && actual != last.before()) {
      return Optional.of(
          "another writer (spec.replicas is "
              + actual
              + ", the controller last set "
              + last.replicas()
              + ")");
    }
    return Optional.empty();
  }

  private ModelObservation observation(
      ModelView v, LoadAggregator.ModelLoadView load, Instant now) {
    ModelObservation o = ModelObservation.of(v.key(), v.replicas());
    Instant lastRequest =
        v.resource().getStatus() == null ? null : v.resource().getStatus().lastRequestTime();
    if (load != null && load.lastRequest() != null) {
      lastRequest =
          lastRequest == null || load.lastRequest().isAfter(lastRequest)
              ? load.lastRequest()
              : lastRequest;
    }
    PendingActivation activation = pending.get(v.key());
    // An activation is a request that arrived; recording it as such persists it in status, so a
    // restarted controller does not take a model in the middle of a cold start for idle.
    if (activation != null
        && (lastRequest == null || activation.requestedAt().isAfter(lastRequest))) {
      lastRequest = activation.requestedAt();
    }
    if (lastRequest != null) {
      o = o.withLastRequestTime(lastRequest);
    }
    if (activation != null) {
      int held = load == null ? 0 : load.held();
      o =
          o.withPendingActivation(
              new PendingActivation(
                  Math.max(held, activation.heldRequests()), activation.requestedAt()));
    }
    if (load != null) {
      long before = arrivalsSeen.getOrDefault(v.key(), load.arrivalsTotal());
      arrivalsSeen.put(v.key(), load.arrivalsTotal());
      Optional<Duration> ttft =
          load.ttftP95Seconds() > 0
              ? Optional.of(Duration.ofNanos((long) (load.ttftP95Seconds() * 1e9)))
              : Optional.empty();
      o =
          o.withLoad(
              new LoadSample(
                  now,
                  load.inFlight(),
                  load.queued(),
                  load.held(),
                  Math.max(0, load.arrivalsTotal() - before),
                  ttft));
    }
    return o;
  }

  /** What the decision core remembers, rebuilt from the statuses this controller wrote. */
  private static DeciderState restoredState(List<ModelView> views, List<InferenceBudget> budgets) {
    Map<String, ModelMemory> memories = new TreeMap<>();
    for (ModelView v : views) {
      BudgetedModelStatus s = v.resource().getStatus();
      if (s == null || !v.decided()) {
        continue;
      }
      int desired = s.desiredReplicas() != null ? s.desiredReplicas() : v.replicas().desired();
      ModelState st =
          s.state() == null ? ModelState.SCALED_TO_ZERO : ModelState.valueOf(s.state().name());
      memories.put(
          v.key(),
          ModelMemory.restored(
              desired,
              st,
              Optional.ofNullable(s.lastRequestTime()),
              Optional.ofNullable(s.idleSince()),
              EdgeConversion.keepAliveHistogram(s.idleGaps()),
              Optional.ofNullable(s.coldStartTime())));
    }
    Map<String, Boolean> above = new TreeMap<>();
    for (InferenceBudget b : budgets) {
      if (b.getStatus() != null && b.getStatus().state() != null) {
        above.put(
            key(b),
            b.getStatus().state()
                != dev.inferencebudget.controller.api.v1alpha1.BudgetState.AVAILABLE);
      }
    }
    return new DeciderState(memories, above);
  }

  // ---- applying the decision (leader only) ---------------------------------------------------

  private void apply(
      ModelView v,
      Optional<ModelDecision> decision,
      Optional<ObservedGpuMemory> observed,
      Instant now) {
    BudgetedModel m = v.resource();
    BudgetedModelStatus old = m.getStatus();
    Instant lastScaleTime = old == null ? null : old.lastScaleTime();
    Optional<ModelView.Problem> problem = v.problem();
    if (decision.isPresent() && v.deployment().isPresent()) {
      ModelDecision d = decision.get();
      int actual = v.replicas().desired();
      if (v.externalWriter().isPresent()) {
        events.record(
            m,
            true,
            "ExternalWriter",
            v.externalWriter().get()
                + " also sets the replicas of Deployment "
                + v.deployment().get().getMetadata().getName()
                + "; the controller does not scale it while that lasts (it still accounts its pods"
                + " against the budget and routes to them)");
      } else if (d.desiredReplicas() != actual) {
        if (actual == 0 && d.desiredReplicas() > 0) {
          preferWarmNodes(v);
        }
        try {
          scaler.scale(
              m.getMetadata().getNamespace(),
              v.deployment().get().getMetadata().getName(),
              d.desiredReplicas());
          lastWrites.put(v.key(), new LastWrite(d.desiredReplicas(), actual));
          lastScaleTime = now;
        } catch (KubernetesClientException e) {
          if (Conflicts.isNotFound(e)) {
            problem =
                Optional.of(
                    new ModelView.Problem(
                        TARGET_FOUND,
                        "DeploymentNotFound",
                        "target Deployment disappeared while scaling it"));
          } else {
            log.warn("scaling {} to {} failed: {}", v.key(), d.desiredReplicas(), e.getMessage());
            events.record(
                m,
                true,
                "ScaleFailed",
                "scaling to " + d.desiredReplicas() + " failed: " + e.getMessage());
          }
        }
      }
      if (d.replicasChanged() || d.stateChanged()) {
        for (Reason r : d.reasons()) {
          events.record(m, r.kind().warning(), r.kind().eventReason(), r.message());
          metrics.decision(r.kind().eventReason());
        }
      } else {
        d.refusal().ifPresent(r -> events.record(m, true, "BudgetBlocked", r.message()));
      }
    }
    if (problem.isPresent()) {
      events.record(m, true, problem.get().reason(), problem.get().message());
    }
    if (!v.conflictingNames().isEmpty()) {
      events.record(
          m,
          true,
          "ModelNameConflict",
          "model names already claimed by an older BudgetedModel: "
              + String.join(", ", v.conflictingNames())
              + "; ext-proc does not route them here");
    }
    if (observed.isPresent() && !observed.get().overReservation().isEmpty()) {
      events.record(
          m,
          true,
          "MemoryOverReservation",
          "replicas use more GPU memory than the "
              + v.resource().getSpec().gpuMemoryPerReplica()
              + " each reserves: "
              + String.join(", ", observed.get().overReservation()));
    }
    Instant lastRequest = state.model(v.key()).flatMap(ModelMemory::lastRequestSeen).orElse(null);
    Optional<KeepAliveHistogram> histogram = state.model(v.key()).flatMap(ModelMemory::histogram);
    // Building and comparing 2,000 statuses is a large part of a settled cycle: when the cached
    // resource is the same object and nothing the status is built from changed since a cycle that
    // found nothing to write, there is still nothing to write.
    StatusInput input =
        new StatusInput(
            new Identity(m),
            decision,
            problem,
            lastScaleTime,
            lastRequest,
            histogram,
            v.replicas(),
            v.nodes(),
            v.externalWriter(),
            v.conflictingNames(),
            v.deployment().isPresent(),
            routes.verdict(m),
            observed);
    if (input.equals(unchangedStatuses.get(v.key()))) {
      return;
    }
    BudgetedModelStatus next =
        StatusBuilder.model(
            v, decision, problem, lastScaleTime, lastRequest, histogram, observed, now);
    next = routes.withCondition(m, next, now);
    if (next.equals(old)) {
      unchangedStatuses.put(v.key(), input);
    } else {
      unchangedStatuses.remove(v.key());
      try {
        statusWriter.model(m, next);
      } catch (KubernetesClientException e) {
        log.warn("status of {} not written: {}", v.key(), e.getMessage());
      }
    }
  }

  private void applyBudget(
      InferenceBudget b,
      BudgetDecision d,
      List<ModelView> views,
      Decision decision,
      Map<String, ObservedGpuMemory> observed,
      Instant now) {
    Long observedBytes = null;
    for (ModelView v : views) {
      ObservedGpuMemory o = observed.get(v.key());
      if (o != null) {
        observedBytes = (observedBytes == null ? 0 : observedBytes) + o.bytes();
      }
    }
    for (Reason r : d.reasons()) {
      events.record(b, r.kind().warning(), r.kind().eventReason(), r.message());
    }
    List<ModelReservation> reservations = new ArrayList<>();
    for (ModelView v : views) {
      ModelDecision md = decision.models().get(v.key());
      if (md == null || !d.reservedBytesByModel().containsKey(v.key())) {
        continue;
      }
      reservations.add(
          new ModelReservation(
              v.resource().getMetadata().getName(),
              v.spec().get().priority(),
              md.desiredReplicas(),
              Quantities.ofBytes(md.reservedGpuMemoryBytes()),
              dev.inferencebudget.controller.api.v1alpha1.ModelState.valueOf(md.state().name())));
    }
    InferenceBudgetStatus next = StatusBuilder.budget(b, d, reservations, observedBytes, now);
    if (!next.equals(b.getStatus())) {
      try {
        statusWriter.budget(b, next);
      } catch (KubernetesClientException e) {
        log.warn("status of budget {} not written: {}", d.budgetKey(), e.getMessage());
      }
    }
  }

  // ---- helpers -------------------------------------------------------------------------------

  static String key(io.fabric8.kubernetes.api.model.HasMetadata r) {
    return r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
  }

  /** A Deployment's {@code spec.replicas}; Kubernetes defaults an unset value to 1. */
  private static int specReplicas(Deployment d) {
    return d.getSpec() == null || d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
  }

  private static boolean podReady(Pod p) {
    if (p.getStatus() == null || p.getStatus().getConditions() == null) {
      return false;
    }
    return p.getStatus().getConditions().stream()
        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }

  /**
   * Node warmth (opt-in per model, {@code spec.nodeWarmth}): before a scale from zero, the target's
   * pods prefer the nodes the model last ran on ({@code status.lastNodes}). Best effort: a failure
   * is logged and the scale goes ahead.
   */
  private void preferWarmNodes(ModelView v) {
    BudgetedModel m = v.resource();
    if (m.getSpec() == null
        || !Boolean.TRUE.equals(m.getSpec().nodeWarmth())
        || m.getStatus() == null
        || m.getStatus().lastNodes().isEmpty()) {
      return;
    }
    try {
      scaler.preferNodes(
          m.getMetadata().getNamespace(),
          v.deployment().get().getMetadata().getName(),
          m.getStatus().lastNodes());
    } catch (KubernetesClientException e) {
      log.warn("node warmth for {} not applied: {}", v.key(), e.getMessage());
    }
  }

  /** GPUs the pod's containers ask for ({@code nvidia.com/gpu} limits), at least 1. */
  private static int gpus(Pod p) {
    int gpus = 0;
    if (p.getSpec() != null && p.getSpec().getContainers() != null) {
      for (var c : p.getSpec().getContainers()) {
        var limits = c.getResources() == null ? null : c.getResources().getLimits();
        var q = limits == null ? null : limits.get("nvidia.com/gpu");
        if (q != null) {
          try {
            gpus += Integer.parseInt(q.getAmount());
          } catch (NumberFormatException e) {
            // not a whole number of devices: count the container as one
            gpus++;
          }
        }
      }
    }
    return Math.max(1, gpus);
  }

  /** The container port named {@code http}, else the first declared, else vLLM's 8000. */
  private static int port(Pod p) {
    Integer first = null;
    if (p.getSpec() != null && p.getSpec().getContainers() != null) {
      for (var c : p.getSpec().getContainers()) {
        if (c.getPorts() == null) {
          continue;
        }
        for (ContainerPort cp : c.getPorts()) {
          if ("http".equals(cp.getName())) {
            return cp.getContainerPort();
          }
          if (first == null) {
            first = cp.getContainerPort();
          }
        }
      }
    }
    return first != null ? first : DEFAULT_VLLM_PORT;
  }
}

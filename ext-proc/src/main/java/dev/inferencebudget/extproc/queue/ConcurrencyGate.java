package dev.inferencebudget.extproc.queue;

import com.google.common.base.Ticker;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.api.Scheduler;
import dev.inferencebudget.extproc.openai.AdmissionError;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Hands out in-flight slots per model and queues requests beyond the model's concurrency limit.
 *
 * <p>Each model has one lock. Waiters are called after it is released, so a waiter may take its own
 * locks (the gRPC stream's) without ordering problems.
 */
public final class ConcurrencyGate {

  /** Weights of the virtual token counter: output tokens cost more to serve than input tokens. */
  static final long PROMPT_WEIGHT = 1;

  static final long COMPLETION_WEIGHT = 2;

  /** Told when a queued request gets its slot or gives up. Called once, never under a lock. */
  public interface Waiter {
    void granted(Slot slot);

    void refused(AdmissionError error);
  }

  /** What {@link #enter} did with a request. */
  public sealed interface Entry permits Granted, Queued, Refused {}

  /** A slot at once. */
  public record Granted(Slot slot) implements Entry {}

  /** Waiting; the waiter hears the outcome. Cancel the ticket if the client leaves. */
  public record Queued(Ticket ticket) implements Entry {}

  /** Queue full or queueing disabled. */
  public record Refused(AdmissionError error) implements Entry {}

  private final Scheduler scheduler;
  private final Ticker ticker;
  private final Map<String, ModelGate> gates = new ConcurrentHashMap<>();
  private long sequence;

  public ConcurrencyGate(Scheduler scheduler, Ticker ticker) {
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.ticker = Objects.requireNonNull(ticker, "ticker");
  }

  /**
   * Takes a slot of {@code model} if one is free, else queues the request (bounded by the model's
   * queue length, waiting at most its queue wait).
   *
   * @param promptTokens charged to the tenant's virtual counter when the request is dispatched
   */
  public Entry enter(
      ModelState model,
      String tenant,
      int priority,
      long promptTokens,
      Duration waitCap,
      Waiter waiter) {
    Objects.requireNonNull(waiter, "waiter");
    ModelGate gate = gate(model);
    return gate.enter(model, tenant, priority, promptTokens, waitCap, waiter);
  }

  /** Applies a model's new capacity and endpoints, and dispatches waiters that now fit. */
  public void update(ModelState model) {
    ModelGate gate = gates.get(model.key());
    if (gate != null) {
      gate.dispatchAfter(() -> gate.apply(model));
    }
  }

  public int inFlight(String modelKey) {
    ModelGate gate = gates.get(modelKey);
    return gate == null ? 0 : gate.inFlight();
  }

  public int queued(String modelKey) {
    ModelGate gate = gates.get(modelKey);
    return gate == null ? 0 : gate.queued();
  }

  /** In-flight requests per endpoint address of a model (endpoint-picker bookkeeping). */
  public Map<String, Integer> endpointLoad(String modelKey) {
    ModelGate gate = gates.get(modelKey);
    return gate == null ? Map.of() : gate.endpointLoad();
  }

  private ModelGate gate(ModelState model) {
    return gates.computeIfAbsent(model.key(), k -> new ModelGate(model));
  }

  private synchronized long nextSequence() {
    return ++sequence;
  }

  /** An in-flight slot; release it when the response ends or the client leaves. Idempotent. */
  public final class Slot {
    private final ModelGate gate;
    private final String tenant;
    private final Optional<String> endpoint;
    private final Duration queueWait;
    private boolean released;

    private Slot(ModelGate gate, String tenant, Optional<String> endpoint, Duration queueWait) {
      this.gate = gate;
      this.tenant = tenant;
      this.endpoint = endpoint;
      this.queueWait = queueWait;
    }

    /** The least-loaded ready endpoint when the slot was granted, if the model has endpoints. */
    public Optional<String> endpoint() {
      return endpoint;
    }

    /** How long the request waited in the queue (zero if it did not). */
    public Duration queueWait() {
      return queueWait;
    }

    /** Frees the slot; {@code completionTokens} served count toward the tenant's fair share. */
    public void release(long completionTokens) {
      synchronized (this) {
        if (released) {
          return;
        }
        released = true;
      }
      gate.dispatchAfter(() -> gate.release(this, completionTokens));
    }
  }

  /** A queued request; {@link #cancel} removes it without calling its waiter. */
  public final class Ticket {
    private final ModelGate gate;
    private final String tenant;
    private final int priority;
    private final long promptTokens;
    private final Waiter waiter;
    private final long sequenceNumber;
    private final long enqueuedNanos;
    private Scheduler.Cancellable timer;
    private boolean done;

    private Ticket(ModelGate gate, String tenant, int priority, long promptTokens, Waiter waiter) {
      this.gate = gate;
      this.tenant = tenant;
      this.priority = priority;
      this.promptTokens = promptTokens;
      this.waiter = waiter;
      this.sequenceNumber = nextSequence();
      this.enqueuedNanos = ticker.read();
    }

    public void cancel() {
      gate.dispatchAfter(
          () -> {
            gate.remove(this);
            return List.of();
          });
    }
  }

  /** One model's slots and queue. */
  private final class ModelGate {
    private ModelState model;
    private int inFlight;
    private int queued;
    private final Map<String, Integer> endpointInFlight = new HashMap<>();

    /** priority (highest first) → tenant → that tenant's waiting tickets in arrival order. */
    private final TreeMap<Integer, Map<String, ArrayDeque<Ticket>>> waiting =
        new TreeMap<>(Collections.reverseOrder());

    /** The virtual token counter of each tenant with requests waiting or recently served. */
    private final Map<String, Long> counters = new HashMap<>();

    ModelGate(ModelState model) {
      this.model = model;
    }

    synchronized int inFlight() {
      return inFlight;
    }

    synchronized int queued() {
      return queued;
    }

    synchronized Map<String, Integer> endpointLoad() {
      return Map.copyOf(endpointInFlight);
    }

    Entry enter(
        ModelState latest,
        String tenant,
        int priority,
        long promptTokens,
        Duration waitCap,
        Waiter waiter) {
      List<Runnable> earlier;
      Entry entry;
      synchronized (this) {
        model = latest;
        // A capacity rise seen first here serves those already waiting before this newcomer.
        earlier = dispatch();
        entry = admit(tenant, priority, promptTokens, waitCap, waiter);
      }
      earlier.forEach(Runnable::run);
      return entry;
    }

    private Entry admit(
        String tenant, int priority, long promptTokens, Duration waitCap, Waiter waiter) {
      if (queued == 0 && inFlight < model.concurrencyLimit()) {
        return new Granted(grant(tenant, promptTokens, Duration.ZERO));
      }
      ModelState.AdmissionPolicy policy = model.admission();
      if (queued >= policy.queueLength()) {
        return new Refused(
            AdmissionError.overloaded(
                "queue_full",
                "The model "
                    + model.key()
                    + " is at capacity and its queue is full ("
                    + policy.queueLength()
                    + " waiting). Please retry shortly.",
                Duration.ofSeconds(1)));
      }
      Ticket ticket = new Ticket(this, tenant, priority, promptTokens, waiter);
      Map<String, ArrayDeque<Ticket>> level =
          waiting.computeIfAbsent(priority, p -> new HashMap<>());
      ArrayDeque<Ticket> own = level.computeIfAbsent(tenant, t -> new ArrayDeque<>());
      if (own.isEmpty()) {
        liftCounter(tenant);
      }
      own.addLast(ticket);
      queued++;
      Duration wait = policy.queueWait().compareTo(waitCap) <= 0 ? policy.queueWait() : waitCap;
      ticket.timer = scheduler.schedule(wait, () -> expire(ticket, wait));
      return new Queued(ticket);
    }

    /**
     * VTC's counter lift: a tenant that joins the backlog starts no lower than the least-served
     * backlogged tenant, so an idle spell does not buy it a burst ahead of everyone.
     */
    private void liftCounter(String tenant) {
      long floor = Long.MAX_VALUE;
      for (Map<String, ArrayDeque<Ticket>> level : waiting.values()) {
        for (Map.Entry<String, ArrayDeque<Ticket>> e : level.entrySet()) {
          if (!e.getValue().isEmpty() && !e.getKey().equals(tenant)) {
            floor = Math.min(floor, counters.getOrDefault(e.getKey(), 0L));
          }
        }
      }
      if (floor != Long.MAX_VALUE) {
        counters.merge(tenant, floor, Math::max);
      }
    }

    private Slot grant(String tenant, long promptTokens, Duration queueWait) {
      inFlight++;
      counters.merge(tenant, PROMPT_WEIGHT * promptTokens, Long::sum);
      Optional<String> endpoint = leastLoadedEndpoint();
      endpoint.ifPresent(address -> endpointInFlight.merge(address, 1, Integer::sum));
      return new Slot(this, tenant, endpoint, queueWait);
    }

    private Optional<String> leastLoadedEndpoint() {
      String best = null;
      int bestLoad = Integer.MAX_VALUE;
      for (ModelState.Endpoint endpoint : model.endpoints()) {
        if (!endpoint.ready()) {
          continue;
        }
        int load = endpointInFlight.getOrDefault(endpoint.address(), 0);
        if (load < bestLoad) {
          best = endpoint.address();
          bestLoad = load;
        }
      }
      return Optional.ofNullable(best);
    }

    List<Runnable> release(Slot slot, long completionTokens) {
      inFlight--;
      slot.endpoint.ifPresent(
          address -> endpointInFlight.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1));
      if (queued > 0) {
        counters.merge(slot.tenant, COMPLETION_WEIGHT * completionTokens, Long::sum);
      }
      return dispatch();
    }

    List<Runnable> apply(ModelState latest) {
      model = latest;
      return dispatch();
    }

    /** Grants slots to waiters while there is room; returns the calls to make after unlocking. */
    private List<Runnable> dispatch() {
      List<Runnable> calls = new ArrayList<>();
      while (queued > 0 && inFlight < model.concurrencyLimit()) {
        Ticket next = pickNext();
        removeQueued(next);
        next.done = true;
        next.timer.cancel();
        Duration waited = Duration.ofNanos(ticker.read() - next.enqueuedNanos);
        Slot slot = grant(next.tenant, next.promptTokens, waited);
        calls.add(() -> next.waiter.granted(slot));
      }
      if (queued == 0) {
        counters.clear(); // fairness is among the backlogged; nobody is
      }
      return calls;
    }

    /** Highest priority first; within it the tenant served least, then the oldest ticket. */
    private Ticket pickNext() {
      Map<String, ArrayDeque<Ticket>> level = waiting.firstEntry().getValue();
      Ticket best = null;
      long bestCounter = Long.MAX_VALUE;
      for (Map.Entry<String, ArrayDeque<Ticket>> e : level.entrySet()) {
        Ticket head = e.getValue().peekFirst();
        long counter = counters.getOrDefault(e.getKey(), 0L);
        if (counter < bestCounter
            || (counter == bestCounter && head.sequenceNumber < best.sequenceNumber)) {
          best = head;
          bestCounter = counter;
        }
      }
      return best;
    }

    private void removeQueued(Ticket ticket) {
      Map<String, ArrayDeque<Ticket>> level = waiting.get(ticket.priority);
      ArrayDeque<Ticket> own = level.get(ticket.tenant);
      own.remove(ticket);
      if (own.isEmpty()) {
        level.remove(ticket.tenant);
        if (level.isEmpty()) {
          waiting.remove(ticket.priority);
        }
      }
      queued--;
    }

    /** Removes a ticket still waiting; true if it was. */
    boolean remove(Ticket ticket) {
      if (ticket.done) {
        return false;
      }
      ticket.done = true;
      ticket.timer.cancel();
      removeQueued(ticket);
      if (queued == 0) {
        counters.clear();
      }
      return true;
    }

    private void expire(Ticket ticket, Duration wait) {
      boolean expired;
      synchronized (this) {
        expired = remove(ticket);
      }
      if (expired) {
        ticket.waiter.refused(
            AdmissionError.unavailable(
                "queue_timeout",
                "The request waited "
                    + wait.toSeconds()
                    + "s for a free replica of "
                    + model.key()
                    + " and timed out. Please retry.",
                Duration.ofSeconds(Math.max(1, Math.min(wait.toSeconds(), 30)))));
      }
    }

    /** Runs a locked step, then the waiter calls it produced, unlocked. */
    void dispatchAfter(java.util.function.Supplier<List<Runnable>> step) {
      List<Runnable> calls;
      synchronized (this) {
        calls = step.get();
      }
      for (Iterator<Runnable> it = calls.iterator(); it.hasNext(); ) {
        it.next().run();
      }
    }
  }
}

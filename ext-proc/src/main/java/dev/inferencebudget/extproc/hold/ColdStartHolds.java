package dev.inferencebudget.extproc.hold;

import com.google.common.base.Ticker;
import dev.inferencebudget.extproc.api.ControllerLink;
import dev.inferencebudget.extproc.api.ControllerLink.Activation;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.api.ModelState.BudgetRefusal;
import dev.inferencebudget.extproc.api.ModelStateSource;
import dev.inferencebudget.extproc.api.ModelTable;
import dev.inferencebudget.extproc.api.Scheduler;
import dev.inferencebudget.extproc.openai.AdmissionError;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The requests held for cold models. One lock guards everything: cold starts are rare and short
 * lists, and a single lock makes "register, then re-check the table" race-free against table
 * updates. Waiters are called after the lock is released.
 */
public final class ColdStartHolds {
  private static final Logger log = LoggerFactory.getLogger(ColdStartHolds.class);

  /** Told once: the model can serve now, or the request is refused. */
  public interface Waiter {
    void released(ModelState model);

    void refused(AdmissionError error);
  }

  /** What {@link #hold} did. */
  public sealed interface Entry permits Held, Refused, Servable {}

  /** Held; cancel the ticket if the client leaves. */
  public record Held(Ticket ticket) implements Entry {}

  public record Refused(AdmissionError error) implements Entry {}

  /** The model became servable before the request was held: go on at once. */
  public record Servable(ModelState model) implements Entry {}

  private final ModelStateSource source;
  private final ControllerLink controller;
  private final Scheduler scheduler;
  private final Ticker ticker;
  private final Predicate<ModelState> servable;
  private final Map<String, Set<Ticket>> held = new HashMap<>();
  private final Set<String> activated = new java.util.HashSet<>();

  /**
   * @param servable when a held request may go on (routable; in endpoint-picker mode also a ready
   *     endpoint)
   */
  public ColdStartHolds(
      ModelStateSource source,
      ControllerLink controller,
      Scheduler scheduler,
      Ticker ticker,
      Predicate<ModelState> servable) {
    this.source = Objects.requireNonNull(source, "source");
    this.controller = Objects.requireNonNull(controller, "controller");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.ticker = Objects.requireNonNull(ticker, "ticker");
    this.servable = Objects.requireNonNull(servable, "servable");
  }

  /** A held request. */
  public final class Ticket {
    private final String modelKey;
    private final Waiter waiter;
    private final long heldAtNanos;
    private Scheduler.Cancellable timer;

    private Ticket(String modelKey, Waiter waiter) {
      this.modelKey = modelKey;
      this.waiter = waiter;
      this.heldAtNanos = ticker.read();
    }

    /** How long it has been held. */
    public Duration heldFor() {
      return Duration.ofNanos(ticker.read() - heldAtNanos);
    }

    /** The client left: forget the request without calling its waiter. */
    public void cancel() {
      synchronized (ColdStartHolds.this) {
        removeLocked(this);
      }
    }
  }

  /** 503 that names the budget refusing the model's scale-up. */
  public static AdmissionError budgetRefused(String modelKey, BudgetRefusal refusal) {
    String message =
        "The model "
            + modelKey
            + " cannot start: its GPU budget "
            + refusal.budget()
            + " is full"
            + (refusal.neededBytes() > 0
                ? " (needs " + refusal.neededBytes() + " bytes, " + refusal.freeBytes() + " free)"
                : "")
            + (refusal.message().isEmpty() ? "." : ": " + refusal.message());
    return AdmissionError.unavailable("budget_exceeded", message, Duration.ofSeconds(30));
  }

  /**
   * Holds a request for a model that cannot serve now; activates the model on its first hold.
   *
   * @param waitCap the longest this request may be held (Envoy's message deadline), on top of the
   *     model's hold timeout
   */
  public Entry hold(ModelState model, Duration waitCap, Waiter waiter) {
    Ticket ticket;
    boolean activate;
    synchronized (this) {
      ModelState latest = source.current().byKey(model.key()).orElse(model);
      if (servable.test(latest)) {
        return new Servable(latest);
      }
      if (latest.budgetRefusal().isPresent()) {
        return new Refused(budgetRefused(latest.key(), latest.budgetRefusal().get()));
      }
      Set<Ticket> tickets = held.computeIfAbsent(latest.key(), k -> new LinkedHashSet<>());
      int max = latest.coldStart().maxHeldRequests();
      if (tickets.size() >= max) {
        if (tickets.isEmpty()) {
          held.remove(latest.key());
        }
        return new Refused(
            AdmissionError.overloaded(
                "too_many_held_requests",
                "The model "
                    + latest.key()
                    + " is starting and already holds "
                    + max
                    + " requests. Please retry shortly.",
                Duration.ofSeconds(5)));
      }
      ticket = new Ticket(latest.key(), waiter);
      tickets.add(ticket);
      Duration holdTimeout = min(latest.coldStart().holdTimeout(), waitCap);
      ticket.timer = scheduler.schedule(holdTimeout, () -> expire(ticket, holdTimeout));
      activate = activated.add(latest.key());
    }
    if (activate) {
      activate(model.key());
    }
    return new Held(ticket);
  }

  private void activate(String modelKey) {
    controller
        .activate(modelKey)
        .whenComplete(
            (activation, failure) -> {
              if (failure != null) {
                log.warn(
                    "activation of {} failed; held requests wait for a table change",
                    modelKey,
                    failure);
                synchronized (this) {
                  activated.remove(modelKey); // the next held request asks again
                }
                return;
              }
              onActivation(modelKey, activation);
            });
  }

  private void onActivation(String modelKey, Activation activation) {
    switch (activation.result()) {
      case ACCEPTED -> {}
      case REFUSED ->
          refuseAll(modelKey, budgetRefused(modelKey, activation.refusal().orElseThrow()));
      case UNKNOWN_MODEL -> refuseAll(modelKey, AdmissionError.modelNotFound(modelKey));
    }
  }

  /** Releases or refuses held requests according to a new table. */
  public void onTable(ModelTable table) {
    List<Runnable> calls = new ArrayList<>();
    synchronized (this) {
      for (String key : List.copyOf(held.keySet())) {
        Optional<ModelState> model = table.byKey(key);
        if (model.isEmpty()) {
          calls.addAll(drainLocked(key, w -> w.refused(AdmissionError.modelNotFound(key))));
        } else if (servable.test(model.get())) {
          ModelState ready = model.get();
          calls.addAll(drainLocked(key, w -> w.released(ready)));
        } else if (model.get().budgetRefusal().isPresent()) {
          AdmissionError error = budgetRefused(key, model.get().budgetRefusal().get());
          calls.addAll(drainLocked(key, w -> w.refused(error)));
        }
      }
    }
    calls.forEach(Runnable::run);
  }

  private void refuseAll(String modelKey, AdmissionError error) {
    List<Runnable> calls;
    synchronized (this) {
      calls = drainLocked(modelKey, w -> w.refused(error));
    }
    calls.forEach(Runnable::run);
  }

  private List<Runnable> drainLocked(String modelKey, java.util.function.Consumer<Waiter> outcome) {
    Set<Ticket> tickets = held.remove(modelKey);
    activated.remove(modelKey);
    if (tickets == null) {
      return List.of();
    }
    List<Runnable> calls = new ArrayList<>(tickets.size());
    for (Ticket ticket : tickets) {
      ticket.timer.cancel();
      calls.add(() -> outcome.accept(ticket.waiter));
    }
    return calls;
  }

  private void expire(Ticket ticket, Duration holdTimeout) {
    boolean expired;
    synchronized (this) {
      expired = removeLocked(ticket);
    }
    if (expired) {
      ticket.waiter.refused(
          AdmissionError.unavailable(
              "cold_start_timeout",
              "The model "
                  + ticket.modelKey
                  + " did not become ready within "
                  + holdTimeout.toSeconds()
                  + "s. Please retry.",
              Duration.ofSeconds(10)));
    }
  }

  private boolean removeLocked(Ticket ticket) {
    Set<Ticket> tickets = held.get(ticket.modelKey);
    if (tickets == null || !tickets.remove(ticket)) {
      return false;
    }
    ticket.timer.cancel();
    if (tickets.isEmpty()) {
      held.remove(ticket.modelKey);
      activated.remove(ticket.modelKey);
    }
    return true;
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  public synchronized int held(String modelKey) {
    Set<Ticket> tickets = held.get(modelKey);
    return tickets == null ? 0 : tickets.size();
  }

  public synchronized int heldTotal() {
    return held.values().stream().mapToInt(Set::size).sum();
  }
}

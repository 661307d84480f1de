package dev.inferencebudget.extproc.flow;

import dev.inferencebudget.extproc.admission.RateLimits;
import dev.inferencebudget.extproc.admission.TenantKeys;
import dev.inferencebudget.extproc.admission.TenantRateLimiter;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.api.ModelState.AdmissionPolicy;
import dev.inferencebudget.extproc.api.ModelState.MaxTokensPolicy;
import dev.inferencebudget.extproc.hold.ColdStartHolds;
import dev.inferencebudget.extproc.metrics.ExtProcMetrics;
import dev.inferencebudget.extproc.openai.AdmissionError;
import dev.inferencebudget.extproc.openai.InferenceRequest;
import dev.inferencebudget.extproc.openai.OpenAiEndpoint;
import dev.inferencebudget.extproc.openai.RequestParser;
import dev.inferencebudget.extproc.openai.Usage;
import dev.inferencebudget.extproc.openai.UsageScanner;
import dev.inferencebudget.extproc.queue.ConcurrencyGate;
import dev.inferencebudget.extproc.tokens.PromptTokens;
import dev.inferencebudget.extproc.tokens.TokenCounter;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * One request's admission and accounting. Every entry point takes the transport's lock, and so do
 * the callbacks from holds and queues, so the flow is a plain state machine: {@code NEW} → ({@code
 * HELD} → ) ({@code QUEUED} → ) {@code FORWARDED} → {@code DONE}, or {@code DONE} from anywhere on
 * refusal or cancellation. Whatever it took (bucket charge, slot, hold, queue place) is given back
 * exactly once.
 */
public final class RequestFlow {

  /** Margin kept between our own wait deadlines and Envoy's, so our 503 arrives before its 504. */
  static final Duration DEADLINE_MARGIN = Duration.ofSeconds(1);

  /** The cap on waits when Envoy's deadline is not ours to extend (overrides disabled). */
  static final Duration NO_DEADLINE = Duration.ofDays(1);

  private enum Phase {
    NEW,
    HELD,
    QUEUED,
    FORWARDED,
    DONE
  }

  private final AdmissionEngine engine;
  private final OpenAiEndpoint endpoint;
  private final UnaryOperator<String> header;
  private final Object lock;
  private final FlowListener listener;

  private Phase phase = Phase.NEW;
  private ModelState model;
  private String modelLabel = ExtProcMetrics.UNKNOWN_MODEL;
  private String tenant = TenantKeys.ANONYMOUS;
  private int priority;
  private long promptTokens;
  private Optional<byte[]> rewrittenBody = Optional.empty();
  private TenantRateLimiter.Reservation reservation;
  private ColdStartHolds.Ticket holdTicket;
  private ConcurrencyGate.Ticket queueTicket;
  private ConcurrencyGate.Slot slot;
  private long waitStartNanos = -1;
  private boolean overrideSent;
  private long waitDeadlineNanos = Long.MAX_VALUE;
  private long forwardedNanos;
  private boolean firstByteSeen;
  private int responseStatus;
  private UsageScanner scanner = UsageScanner.NONE;

  RequestFlow(
      AdmissionEngine engine,
      OpenAiEndpoint endpoint,
      UnaryOperator<String> header,
      Object lock,
      FlowListener listener) {
    this.engine = engine;
    this.endpoint = endpoint;
    this.header = header;
    this.lock = lock;
    this.listener = listener;
  }

  /** The model label for metrics ({@code unknown} until the model is known). */
  public String modelLabel() {
    synchronized (lock) {
      return modelLabel;
    }
  }

  /** Admits the request whose whole body is {@code body}; the listener hears the outcome. */
  public void onBody(byte[] body) {
    synchronized (lock) {
      if (phase != Phase.NEW) {
        return;
      }
      RequestParser.Result parsed = RequestParser.parse(endpoint, body);
      if (parsed instanceof RequestParser.Rejected rejected) {
        refuse(rejected.error());
        return;
      }
      InferenceRequest request = ((RequestParser.Parsed) parsed).request();
      Optional<ModelState> found = engine.models.current().byName(request.model());
      if (found.isEmpty()) {
        refuse(AdmissionError.modelNotFound(request.model()));
        return;
      }
      model = found.get();
      modelLabel = model.key();
      engine.load.arrival(model.key());
      AdmissionPolicy policy = model.admission();
      String tenantHeader =
          policy.tenantHeader().isEmpty()
              ? engine.config.tenantHeaderDefault()
              : policy.tenantHeader();
      tenant = TenantKeys.hash(header.apply(tenantHeader));
      priority = requestPriority();

      // Token bounds: the UTF-8 length decides whenever it can; the tokenizer runs otherwise.
      TokenCounter counter = engine.tokenizers.counter(policy.tokenizer());
      // Images and audio cost what the model's policy says each one costs: their tokens depend on
      // the model's encoder, not on anything the request's bytes tell.
      long media =
          request.images() * policy.imageTokens() + request.audios() * policy.audioTokens();
      long prompt = PromptTokens.upperBound(request, counter.chatFormat()) + media;
      boolean exact = false;
      if (policy.maxPromptTokens() > 0 && prompt > policy.maxPromptTokens()) {
        PromptTokens.Count count =
            PromptTokens.countAgainst(
                request, counter, policy.maxPromptTokens() - media, engine.countCache);
        prompt = count.tokens() + media;
        exact = count.kind() == PromptTokens.Kind.EXACT;
        if (!count.fits(policy.maxPromptTokens() - media)) {
          engine.metrics.promptTokens(modelLabel, true, prompt);
          refuse(
              AdmissionError.contextLengthExceeded(
                  prompt, count.kind() == PromptTokens.Kind.AT_LEAST, policy.maxPromptTokens()));
          return;
        }
      }
      long completion = 0;
      if (endpoint.generates()) {
        Optional<Long> allowed = completionTokens(request, policy, body);
        if (allowed.isEmpty()) {
          return; // refused
        }
        completion = allowed.get() * request.n();
      }

      // Tenant rates: charge the bound if the bucket has room for it, else the exact count.
      TenantRateLimiter.Decision decision = null;
      if (policy.tokensPerMinute() > 0 || policy.requestsPerMinute() > 0) {
        decision = engine.limiter.charge(tenant, model.key(), policy, prompt + completion);
        if (decision.refusal().isPresent() && !exact && policy.tokensPerMinute() > 0) {
          prompt = PromptTokens.exact(request, counter, engine.countCache) + media;
          exact = true;
          decision = engine.limiter.charge(tenant, model.key(), policy, prompt + completion);
        }
        if (decision.refusal().isPresent()) {
          engine.metrics.promptTokens(modelLabel, exact, prompt);
          refuse(decision.refusal().get());
          return;
        }
        reservation = decision.reservation().orElseThrow();
        engine.metrics.charged(modelLabel, prompt + completion);
      }
      engine.metrics.promptTokens(modelLabel, exact, prompt);
      promptTokens = prompt;
      afterCharge();
    }
  }

  private int requestPriority() {
    String name = engine.config.priorityHeader();
    if (name.isEmpty()) {
      return model.priority();
    }
    String value = header.apply(name);
    if (value == null) {
      return model.priority();
    }
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      return model.priority();
    }
  }

  /**
   * The completion tokens a request may generate per choice under the policy, rewriting the body to
   * say so when it clamps or caps; empty when the request was refused.
   */
  private Optional<Long> completionTokens(
      InferenceRequest request, AdmissionPolicy policy, byte[] body) {
    long max = policy.maxCompletionTokens();
    if (max == 0) {
      return Optional.of(request.maxTokens().orElse(0));
    }
    if (request.maxTokens().isEmpty()) {
      // vLLM would otherwise generate up to the context length.
      rewrittenBody = Optional.of(BodyRewrite.insertMaxTokens(body, max));
      return Optional.of(max);
    }
    long asked = request.maxTokens().getAsLong();
    if (asked <= max) {
      return Optional.of(asked);
    }
    if (policy.maxTokensPolicy() == MaxTokensPolicy.REJECT) {
      refuse(
          AdmissionError.invalidRequest(
              "max_tokens is too large: "
                  + asked
                  + ". This model supports at most "
                  + max
                  + " completion tokens.",
              "max_tokens",
              "invalid_value"));
      return Optional.empty();
    }
    rewrittenBody = Optional.of(BodyRewrite.replace(body, request.maxTokensSpan(), max));
    return Optional.of(max);
  }

  /** Charged: forward now, hold for a cold model, or queue for a saturated one. */
  private void afterCharge() {
    if (engine.servable(model)) {
      enterGate(model);
      return;
    }
    phase = Phase.HELD;
    armDeadline();
    ColdStartHolds.Entry entry = engine.holds.hold(model, remainingWait(), new HoldWaiter());
    if (entry instanceof ColdStartHolds.Refused refused) {
      refuse(refused.error());
    } else if (entry instanceof ColdStartHolds.Servable servable) {
      enterGate(servable.model());
    } else if (entry instanceof ColdStartHolds.Held held) {
      if (phase == Phase.HELD) {
        holdTicket = held.ticket();
        sendOverride();
      }
    }
  }

  private void enterGate(ModelState latest) {
    model = latest;
    phase = Phase.QUEUED;
    armDeadline();
    ConcurrencyGate.Entry entry =
        engine.gate.enter(
            latest, tenant, priority, promptTokens, remainingWait(), new QueueWaiter());
    if (entry instanceof ConcurrencyGate.Granted granted) {
      forward(granted.slot());
    } else if (entry instanceof ConcurrencyGate.Refused refused) {
      refuse(refused.error());
    } else if (entry instanceof ConcurrencyGate.Queued queued) {
      if (phase == Phase.QUEUED) {
        queueTicket = queued.ticket();
        sendOverride();
      }
    }
  }

  /**
   * Fixes, the first time this request may wait, the deadline Envoy will enforce once it has our
   * override: our own timeouts end a margin before it, so the client gets our 503, not a 504.
   */
  private void armDeadline() {
    if (waitStartNanos >= 0) {
      return;
    }
    waitStartNanos = engine.ticker.read();
    Duration override = engine.config.holdOverrideTimeout();
    if (overridesEnabled()) {
      waitDeadlineNanos = waitStartNanos + override.minus(DEADLINE_MARGIN).toNanos();
    }
  }

  /** Extends Envoy's deadline for the request body once, when the request really waits. */
  private void sendOverride() {
    if (!overrideSent && overridesEnabled()) {
      overrideSent = true;
      listener.waiting(engine.config.holdOverrideTimeout());
    }
  }

  private boolean overridesEnabled() {
    return !engine.config.maxMessageTimeout().isZero()
        && !engine.config.holdOverrideTimeout().isZero();
  }

  private Duration remainingWait() {
    if (waitDeadlineNanos == Long.MAX_VALUE) {
      return NO_DEADLINE;
    }
    return Duration.ofNanos(Math.max(0, waitDeadlineNanos - engine.ticker.read()));
  }

  private void forward(ConcurrencyGate.Slot granted) {
    phase = Phase.FORWARDED;
    slot = granted;
    queueTicket = null;
    if (!granted.queueWait().isZero()) {
      engine.metrics.queueWait(modelLabel, granted.queueWait());
    }
    forwardedNanos = engine.ticker.read();
    engine.metrics.request(modelLabel, "admitted", "ok");
    listener.proceed(new Route(model.key(), granted.endpoint(), rewrittenBody));
  }

  private void refuse(AdmissionError error) {
    if (phase == Phase.DONE) {
      return;
    }
    phase = Phase.DONE;
    holdTicket = null;
    queueTicket = null;
    if (reservation != null) {
      reservation.cancel();
    }
    engine.metrics.request(modelLabel, "rejected", error.code());
    listener.refuse(error);
  }

  /** The backend's response headers arrived; returns the headers to add to the response. */
  public Map<String, String> onResponseHeaders(
      int status, String contentType, String contentEncoding) {
    synchronized (lock) {
      if (phase != Phase.FORWARDED) {
        return Map.of();
      }
      responseStatus = status;
      scanner = UsageScanner.forResponse(contentType, contentEncoding);
      return reservation == null ? Map.of() : reservation.limits().headers();
    }
  }

  /** A chunk of the response body; {@code end} on the last one. */
  public void onResponseBody(ByteBuffer chunk, boolean end) {
    synchronized (lock) {
      if (phase != Phase.FORWARDED) {
        return;
      }
      if (!firstByteSeen && chunk.hasRemaining()) {
        firstByteSeen = true;
        Duration ttfb = Duration.ofNanos(engine.ticker.read() - forwardedNanos);
        engine.metrics.timeToFirstByte(modelLabel, ttfb);
        engine.load.timeToFirstByte(modelLabel, ttfb);
      }
      scanner.accept(chunk);
      if (end) {
        complete();
      }
    }
  }

  /** The response ended (last body chunk, trailers, or headers-only response). */
  public void complete() {
    synchronized (lock) {
      if (phase != Phase.FORWARDED) {
        return;
      }
      phase = Phase.DONE;
      scanner.finish();
      Optional<Usage> usage = scanner.usage();
      long completion = 0;
      if (usage.isPresent()) {
        Usage used = usage.get();
        completion = used.completionTokens();
        engine.metrics.settled(modelLabel, used.promptTokens(), used.completionTokens());
        engine.load.tokens(modelLabel, used.promptTokens(), used.completionTokens());
        if (reservation != null) {
          reservation.settle(used.totalTokens());
        }
      } else if (reservation != null) {
        if (responseStatus >= 400) {
          reservation.settle(0); // the backend refused: nothing was generated
        } else {
          reservation.keep();
        }
      }
      slot.release(completion);
    }
  }

  /**
   * The stream ended: Envoy closed it after the last response, or the client went away. Gives back
   * whatever is still held. Idempotent.
   */
  public void close(boolean cancelled) {
    synchronized (lock) {
      switch (phase) {
        case NEW -> phase = Phase.DONE;
        case HELD, QUEUED -> {
          phase = Phase.DONE;
          if (holdTicket != null) {
            holdTicket.cancel();
            engine.metrics.held(modelLabel, holdTicket.heldFor());
          }
          if (queueTicket != null) {
            queueTicket.cancel();
          }
          if (reservation != null) {
            reservation.cancel();
          }
          engine.metrics.request(modelLabel, "cancelled", "client_closed");
        }
        case FORWARDED -> {
          if (cancelled) {
            // The client left mid-response: settle with what is known, free the slot at once.
            phase = Phase.DONE;
            Optional<Usage> usage = scanner.usage();
            if (reservation != null) {
              usage.ifPresentOrElse(u -> reservation.settle(u.totalTokens()), reservation::keep);
            }
            slot.release(usage.map(Usage::completionTokens).orElse(0L));
          } else {
            complete();
          }
        }
        case DONE -> {}
      }
    }
  }

  /** The limits after this request's charge (for tests and logs). */
  public RateLimits limits() {
    synchronized (lock) {
      return reservation == null ? RateLimits.NONE : reservation.limits();
    }
  }

  private final class HoldWaiter implements ColdStartHolds.Waiter {
    @Override
    public void released(ModelState model) {
      synchronized (lock) {
        if (phase != Phase.HELD) {
          return;
        }
        if (holdTicket != null) {
          engine.metrics.held(modelLabel, holdTicket.heldFor());
        }
        holdTicket = null;
        enterGate(model);
      }
    }

    @Override
    public void refused(AdmissionError error) {
      synchronized (lock) {
        if (phase != Phase.HELD) {
          return;
        }
        if (holdTicket != null) {
          engine.metrics.held(modelLabel, holdTicket.heldFor());
        }
        refuse(error);
      }
    }
  }

  private final class QueueWaiter implements ConcurrencyGate.Waiter {
    @Override
    public void granted(ConcurrencyGate.Slot granted) {
      synchronized (lock) {
        if (phase != Phase.QUEUED) {
          granted.release(0); // the client left while the grant was on its way
          return;
        }
        forward(granted);
      }
    }

    @Override
    public void refused(AdmissionError error) {
      synchronized (lock) {
        if (phase == Phase.QUEUED) {
          refuse(error);
        }
      }
    }
  }
}

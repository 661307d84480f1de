package dev.inferencebudget.harness.envoy;

import io.envoyproxy.envoy.config.common.mutation_rules.v3.HeaderMutationRules;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor.RouteCacheAction;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.HeaderSendMode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The ext_proc filter configuration: the fields of Envoy's {@code ExternalProcessor} (EP) that the
 * spec covers, with Envoy's defaults. The processing mode and mutation rules are Envoy's own proto
 * messages, so a configuration read from xDS converts without loss ({@link #fromProto}).
 *
 * @param processingMode what is sent to the server, per direction (rule 3 defaults: headers SEND,
 *     bodies NONE, trailers SKIP; {@code DEFAULT} header mode means SEND for headers and SKIP for
 *     trailers)
 * @param failureModeAllow on a stream error, timeout or spurious message, continue without ext_proc
 *     (rules 4, 5, 12)
 * @param messageTimeout armed on every message that needs a response (rule 12; default 200 ms, at
 *     most 3600 s)
 * @param maxMessageTimeout upper bound of {@code override_message_timeout}; zero disables overrides
 *     (rule 13)
 * @param statusOnError the local reply code for stream errors and spurious messages (rules 4, 5;
 *     Envoy 1.36)
 * @param allowModeOverride honour {@code mode_override} in responses to headers messages (rule 3)
 * @param allowedOverrideModes if not empty, the only modes a {@code mode_override} may select (rule
 *     3)
 * @param routeCacheAction DEFAULT follows {@code clear_route_cache}, CLEAR always, RETAIN never
 *     (rule 21)
 * @param mutationRules which header changes are allowed (rule 19)
 * @param forwardingNamespaces dynamic metadata namespaces sent in {@code metadata_context} (rule 2)
 * @param receivingNamespaces dynamic metadata namespaces accepted from the server (rule 23)
 * @param requestAttributes attributes sent with the first request-direction message (rule 2)
 * @param responseAttributes attributes sent with the first response-direction message (rule 2)
 * @param disableImmediateResponse treat an ImmediateResponse as spurious (rule 17)
 * @param maxHeadersCount the HCM's {@code max_headers_count}: a mutation that exceeds it is an
 *     error (rule 19)
 * @param extProcMaxRequests the ext_proc cluster's circuit breaker {@code max_requests}: open
 *     streams beyond it fail (conformance case 19; Envoy's default is 1024)
 */
public record ExtProcFilterConfig(
    ProcessingMode processingMode,
    boolean failureModeAllow,
    Duration messageTimeout,
    Duration maxMessageTimeout,
    int statusOnError,
    boolean allowModeOverride,
    List<ProcessingMode> allowedOverrideModes,
    RouteCacheAction routeCacheAction,
    HeaderMutationRules mutationRules,
    List<String> forwardingNamespaces,
    List<String> receivingNamespaces,
    List<String> requestAttributes,
    List<String> responseAttributes,
    boolean disableImmediateResponse,
    int maxHeadersCount,
    int extProcMaxRequests) {

  /** The largest message timeout Envoy accepts (EP {@code message_timeout} validation, rule 13). */
  public static final Duration MAX_TIMEOUT = Duration.ofSeconds(3600);

  public ExtProcFilterConfig {
    Objects.requireNonNull(processingMode, "processingMode");
    Objects.requireNonNull(messageTimeout, "messageTimeout");
    Objects.requireNonNull(maxMessageTimeout, "maxMessageTimeout");
    Objects.requireNonNull(routeCacheAction, "routeCacheAction");
    Objects.requireNonNull(mutationRules, "mutationRules");
    allowedOverrideModes = List.copyOf(allowedOverrideModes);
    forwardingNamespaces = List.copyOf(forwardingNamespaces);
    receivingNamespaces = List.copyOf(receivingNamespaces);
    requestAttributes = List.copyOf(requestAttributes);
    responseAttributes = List.copyOf(responseAttributes);
    requireTimeout("messageTimeout", messageTimeout);
    requireTimeout("maxMessageTimeout", maxMessageTimeout);
    if (statusOnError < 200 || statusOnError > 599) {
      throw new IllegalArgumentException(
          "statusOnError = " + statusOnError + ", must be in [200, 599]");
    }
    if (maxHeadersCount < 1) {
      throw new IllegalArgumentException("maxHeadersCount = " + maxHeadersCount + ", must be >= 1");
    }
    if (extProcMaxRequests < 1) {
      throw new IllegalArgumentException(
          "extProcMaxRequests = " + extProcMaxRequests + ", must be >= 1");
    }
    // Rule 11 (CFG verifyProcessingModeConfig): FDS needs trailers SEND and fail-closed.
    if (processingMode.getRequestBodyMode() == BodySendMode.FULL_DUPLEX_STREAMED) {
      requireFullDuplexAllowed("request", processingMode.getRequestTrailerMode(), failureModeAllow);
    }
    if (processingMode.getResponseBodyMode() == BodySendMode.FULL_DUPLEX_STREAMED) {
      requireFullDuplexAllowed(
          "response", processingMode.getResponseTrailerMode(), failureModeAllow);
    }
  }

  /** Envoy's defaults (EP, PM): headers SEND, bodies NONE, trailers SKIP, 200 ms, fail closed. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from this configuration. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.processingMode = processingMode;
    b.failureModeAllow = failureModeAllow;
    b.messageTimeout = messageTimeout;
    b.maxMessageTimeout = maxMessageTimeout;
    b.statusOnError = statusOnError;
    b.allowModeOverride = allowModeOverride;
    b.allowedOverrideModes = new ArrayList<>(allowedOverrideModes);
    b.routeCacheAction = routeCacheAction;
    b.mutationRules = mutationRules;
    b.forwardingNamespaces = new ArrayList<>(forwardingNamespaces);
    b.receivingNamespaces = new ArrayList<>(receivingNamespaces);
    b.requestAttributes = new ArrayList<>(requestAttributes);
    b.responseAttributes = new ArrayList<>(responseAttributes);
    b.disableImmediateResponse = disableImmediateResponse;
    b.maxHeadersCount = maxHeadersCount;
    b.extProcMaxRequests = extProcMaxRequests;
    return b;
  }

  /**
   * Converts Envoy's filter config as it arrives over xDS or in a bootstrap. {@code
   * disable_clear_route_cache} becomes RETAIN; setting it together with a non-default {@code
   * route_cache_action} is rejected, as Envoy does (rule 21). {@code status_on_error} is not in the
   * protos this project builds against, so it is passed separately.
   */
  public static ExtProcFilterConfig fromProto(ExternalProcessor proto, int statusOnError) {
    Objects.requireNonNull(proto, "proto");
    RouteCacheAction action = proto.getRouteCacheAction();
    if (proto.getDisableClearRouteCache()) {
      if (action != RouteCacheAction.DEFAULT) {
        throw new IllegalArgumentException(
            "disable_clear_route_cache and route_cache_action can not be set to none-default at"
                + " the same time");
      }
      action = RouteCacheAction.RETAIN;
    }
    Builder b =
        builder()
            .processingMode(proto.getProcessingMode())
            .failureModeAllow(proto.getFailureModeAllow())
            .maxMessageTimeout(
                toDuration(proto.hasMaxMessageTimeout(), proto.getMaxMessageTimeout()))
            .statusOnError(statusOnError)
            .allowModeOverride(proto.getAllowModeOverride())
            .allowedOverrideModes(proto.getAllowedOverrideModesList())
            .routeCacheAction(action)
            .mutationRules(proto.getMutationRules())
            .forwardingNamespaces(
                proto.getMetadataOptions().getForwardingNamespaces().getUntypedList())
            .receivingNamespaces(
                proto.getMetadataOptions().getReceivingNamespaces().getUntypedList())
            .requestAttributes(proto.getRequestAttributesList())
            .responseAttributes(proto.getResponseAttributesList())
            .disableImmediateResponse(proto.getDisableImmediateResponse());
    if (proto.hasMessageTimeout()) {
      b.messageTimeout(toDuration(true, proto.getMessageTimeout()));
    }
    return b.build();
  }

  /** Whether request headers are sent (PM: DEFAULT means SEND for headers). */
  static boolean sendsHeaders(HeaderSendMode mode) {
    return mode != HeaderSendMode.SKIP;
  }

  /** Whether trailers are sent (PM: DEFAULT means SKIP for trailers). */
  static boolean sendsTrailers(HeaderSendMode mode) {
    return mode == HeaderSendMode.SEND;
  }

  /**
   * Whether {@code override_message_timeout} can ever be accepted (rule 13: needs at least 1 ms).
   */
  boolean overridesEnabled() {
    return maxMessageTimeout.toMillis() >= 1;
  }

  private static Duration toDuration(boolean present, com.google.protobuf.Duration d) {
    return present ? Duration.ofSeconds(d.getSeconds(), d.getNanos()) : Duration.ZERO;
  }

  private static void requireTimeout(String name, Duration d) {
    if (d.isNegative() || d.compareTo(MAX_TIMEOUT) > 0) {
      throw new IllegalArgumentException(name + " = " + d + ", must be in [0s, 3600s]");
    }
  }

  private static void requireFullDuplexAllowed(
      String direction, HeaderSendMode trailerMode, boolean failureModeAllow) {
    if (trailerMode != HeaderSendMode.SEND) {
      throw new IllegalArgumentException(
          "FULL_DUPLEX_STREAMED "
              + direction
              + " body mode requires "
              + direction
              + "_trailer_mode SEND, got "
              + trailerMode);
    }
    if (failureModeAllow) {
      throw new IllegalArgumentException(
          "FULL_DUPLEX_STREAMED " + direction + " body mode requires failure_mode_allow false");
    }
  }

  /** Builder with Envoy's defaults. */
  public static final class Builder {
    private ProcessingMode processingMode =
        ProcessingMode.newBuilder()
            .setRequestHeaderMode(HeaderSendMode.SEND)
            .setResponseHeaderMode(HeaderSendMode.SEND)
            .setRequestTrailerMode(HeaderSendMode.SKIP)
            .setResponseTrailerMode(HeaderSendMode.SKIP)
            .build();
    private boolean failureModeAllow = false;
    private Duration messageTimeout = Duration.ofMillis(200);
    private Duration maxMessageTimeout = Duration.ZERO;
    private int statusOnError = 500;
    private boolean allowModeOverride = false;
    private List<ProcessingMode> allowedOverrideModes = new ArrayList<>();
    private RouteCacheAction routeCacheAction = RouteCacheAction.DEFAULT;
    private HeaderMutationRules mutationRules = HeaderMutationRules.getDefaultInstance();
    private List<String> forwardingNamespaces = new ArrayList<>();
    private List<String> receivingNamespaces = new ArrayList<>();
    private List<String> requestAttributes = new ArrayList<>();
    private List<String> responseAttributes = new ArrayList<>();
    private boolean disableImmediateResponse = false;
    private int maxHeadersCount = 100;
    private int extProcMaxRequests = 1024;

    private Builder() {}

    public Builder processingMode(ProcessingMode v) {
      processingMode = v;
      return this;
    }

    /** Shorthand for the body modes, keeping header and trailer modes. */
    public Builder bodyModes(BodySendMode request, BodySendMode response) {
      processingMode =
          processingMode.toBuilder()
              .setRequestBodyMode(request)
              .setResponseBodyMode(response)
              .build();
      return this;
    }

    public Builder failureModeAllow(boolean v) {
      failureModeAllow = v;
      return this;
    }

    public Builder messageTimeout(Duration v) {
      messageTimeout = v;
      return this;
    }

    public Builder maxMessageTimeout(Duration v) {
      maxMessageTimeout = v;
      return this;
    }

    public Builder statusOnError(int v) {
      statusOnError = v;
      return this;
    }

    public Builder allowModeOverride(boolean v) {
      allowModeOverride = v;
      return this;
    }

    public Builder allowedOverrideModes(List<ProcessingMode> v) {
      allowedOverrideModes = new ArrayList<>(v);
      return this;
    }

    public Builder routeCacheAction(RouteCacheAction v) {
      routeCacheAction = v;
      return this;
    }

    public Builder mutationRules(HeaderMutationRules v) {
      mutationRules = v;
      return this;
    }

    public Builder forwardingNamespaces(List<String> v) {
      forwardingNamespaces = new ArrayList<>(v);
      return this;
    }

    public Builder receivingNamespaces(List<String> v) {
      receivingNamespaces = new ArrayList<>(v);
      return this;
    }

    public Builder requestAttributes(List<String> v) {
      requestAttributes = new ArrayList<>(v);
      return this;
    }

    public Builder responseAttributes(List<String> v) {
      responseAttributes = new ArrayList<>(v);
      return this;
    }

    public Builder disableImmediateResponse(boolean v) {
      disableImmediateResponse = v;
      return this;
    }

    public Builder maxHeadersCount(int v) {
      maxHeadersCount = v;
      return this;
    }

    public Builder extProcMaxRequests(int v) {
      extProcMaxRequests = v;
      return this;
    }

    public ExtProcFilterConfig build() {
      return new ExtProcFilterConfig(
          processingMode,
          failureModeAllow,
          messageTimeout,
          maxMessageTimeout,
          statusOnError,
          allowModeOverride,
          allowedOverrideModes,
          routeCacheAction,
          mutationRules,
          forwardingNamespaces,
          receivingNamespaces,
          requestAttributes,
          responseAttributes,
          disableImmediateResponse,
          maxHeadersCount,
          extProcMaxRequests);
    }
  }
}

package dev.inferencebudget.harness.envoy;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.BoolValue;
import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.envoyproxy.envoy.config.common.mutation_rules.v3.HeaderMutationRules;
import io.envoyproxy.envoy.config.core.v3.HeaderValue;
import io.envoyproxy.envoy.config.core.v3.HeaderValueOption;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor.RouteCacheAction;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ProcessingMode.BodySendMode;
import io.envoyproxy.envoy.service.ext_proc.v3.CommonResponse;
import io.envoyproxy.envoy.service.ext_proc.v3.HeaderMutation;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingRequest;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.Test;

/**
 * Rules 17–24: immediate responses, header mutations, route cache, metadata, ORIGINAL_DST (cases
 * 10–12, 15, 17).
 */
class ExtProcMutationAndRoutingTest extends StandInTestSupport {

  static ExtProcFilterConfig.Builder config(BodySendMode request, BodySendMode response) {
    return ExtProcFilterConfig.builder()
        .bodyModes(request, response)
        .messageTimeout(Duration.ofSeconds(5));
  }

  /** Answers request headers with {@code common}, everything else with CONTINUE. */
  static BiConsumer<ScriptedExtProcServer.ScriptedStream, ProcessingRequest> onRequestHeaders(
      CommonResponse common) {
    return (s, r) ->
        s.send(r.hasRequestHeaders() ? Responses.requestHeaders(common) : Responses.continueFor(r));
  }

  static BiConsumer<ScriptedExtProcServer.ScriptedStream, ProcessingRequest> onRequestHeaders(
      ProcessingResponse response) {
    return (s, r) -> s.send(r.hasRequestHeaders() ? response : Responses.continueFor(r));
  }

  static CommonResponse mutate(HeaderMutation m) {
    return CommonResponse.newBuilder().setHeaderMutation(m).build();
  }

  // --- ImmediateResponse (rule 17, case 10)

  @Test
  void immediateResponseOnTheRequestPathWithJsonBodyAndRetryAfter() throws Exception {
    String body = "{\"error\":{\"message\":\"slow down\",\"type\":\"rate_limit_exceeded\"}}";
    start(
        onRequestHeaders(
            Responses.immediate(
                429,
                body,
                Responses.setHeaders(
                    Map.of("content-type", "application/json", "retry-after", "30")),
                "tenant over rate")),
        config(BodySendMode.NONE, BodySendMode.NONE).build());

    var response = get("/v1/models");

    assertThat(response.statusCode()).isEqualTo(429);
    assertThat(response.body()).isEqualTo(body);
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(response.headers().firstValue("retry-after")).hasValue("30");
    assertThat(lastLog().responseCodeDetails()).isEqualTo("tenant_over_rate");
    assertThat(upstream.received()).isEmpty();
    assertThat(extProc.nextStream().all)
        .hasSize(1); // local replies are not sent back to the processor
  }

  @Test
  void immediateResponseBodyIsTextPlainByDefault() throws Exception {
    start(
        onRequestHeaders(Responses.immediate(403, "no", null, null)),
        config(BodySendMode.NONE, BodySendMode.NONE).build());

    var response = get("/v1/models");

    assertThat(response.statusCode()).isEqualTo(403);
    assertThat(response.headers().firstValue("content-type")).hasValue("text/plain");
  }

  @Test
  void immediateResponseWithoutStatusOrBelow200Becomes200() throws Exception {
    start(
        onRequestHeaders(Responses.immediate(-1, "missing", null, null)),
        config(BodySendMode.NONE, BodySendMode.NONE).build());
    assertThat(get("/v1/models").statusCode()).isEqualTo(200);

    extProc.script(onRequestHeaders(Responses.immediate(100, "continue?", null, null)));
    var response = get("/v1/models");
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("continue?");
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void immediateResponseAfterResponseHeadersWereSentResetsTheStream() throws Exception {
    start(
        (s, r) -> {
          if (r.hasResponseBody()) {
            s.send(Responses.immediate(429, "too late", null, "late"));
          } else {
            s.send(Responses.continueFor(r));
          }
        },
        config(BodySendMode.NONE, BodySendMode.STREAMED).build());
    upstream.handler((req, body) -> req.response().setChunked(true).end("data: {}\n\n"));

    org.junit.jupiter.api.Assertions.assertThrows(
        java.io.IOException.class, () -> get("/v1/models"));

    AccessLogEntry log = lastLog();
    assertThat(log.downstreamReset()).isTrue();
    assertThat(log.responseCode()).isEqualTo(200);
    assertThat(log.responseCodeDetails()).isEqualTo("late");
  }

  @Test
  void immediateResponseIsSpuriousWhenDisabled() throws Exception {
    start(
        onRequestHeaders(Responses.immediate(429, "x", null, null)),
        config(BodySendMode.NONE, BodySendMode.NONE).disableImmediateResponse(true).build());

    assertThat(get("/v1/models").statusCode()).isEqualTo(500);
    assertThat(envoy.stats().get(ExtProcStats.SPURIOUS_MSGS_RECEIVED)).isEqualTo(1);
  }

  // --- Header mutations (rules 18, 19, case 11)

  @Test
  void valueAndRawValueBothSetIs500() throws Exception {
    HeaderMutation m =
        HeaderMutation.newBuilder()
            .addSetHeaders(
                HeaderValueOption.newBuilder()
                    .setHeader(
                        HeaderValue.newBuilder()
                            .setKey("x-a")
                            .setValue("v")
                            .setRawValue(ByteString.copyFromUtf8("raw"))))
            .build();
    start(onRequestHeaders(mutate(m)), config(BodySendMode.NONE, BodySendMode.NONE).build());

    assertThat(get("/v1/models").statusCode()).isEqualTo(500);
    assertThat(lastLog().responseCodeDetails()).contains("raw_value");
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void valueOnlyYieldsAnEmptyHeader() throws Exception {
    HeaderMutation m =
        HeaderMutation.newBuilder()
            .addSetHeaders(
                HeaderValueOption.newBuilder()
                    .setHeader(HeaderValue.newBuilder().setKey("x-value-only").setValue("lost")))
            .build();
    start(onRequestHeaders(mutate(m)), config(BodySendMode.NONE, BodySendMode.NONE).build());

    assertThat(get("/v1/models").statusCode()).isEqualTo(200);
    assertThat(upstream.received().get(0).headers().get("x-value-only")).isEmpty();
  }

  @Test
  void authorityAndEnvoyHeadersAreIgnoredAndCounted() throws Exception {
    start(
        onRequestHeaders(
            mutate(
                Responses.setHeaders(
                    Map.of(":authority", "evil.example", "x-envoy-foo", "1", "x-ok", "yes")))),
        config(BodySendMode.NONE, BodySendMode.NONE).build());

    assertThat(get("/v1/models").statusCode()).isEqualTo(200);

    var headers = upstream.received().get(0).headers();
    assertThat(headers.get("host")).isNotEqualTo("evil.example");
    assertThat(headers.contains("x-envoy-foo")).isFalse();
    assertThat(headers.get("x-ok")).isEqualTo("yes");
    assertThat(envoy.stats().get(ExtProcStats.REJECTED_HEADER_MUTATIONS)).isEqualTo(2);
  }

  @Test
  void disallowedMutationIsAnErrorWithDisallowIsError() throws Exception {
    start(
        onRequestHeaders(mutate(Responses.setHeaders(Map.of("x-envoy-foo", "1")))),
        config(BodySendMode.NONE, BodySendMode.NONE)
            .mutationRules(
                HeaderMutationRules.newBuilder().setDisallowIsError(BoolValue.of(true)).build())
            .build());

    assertThat(get("/v1/models").statusCode()).isEqualTo(500);
  }

  @Test
  void pathCanChangeButPseudoHeadersAndHostCannotBeRemoved() throws Exception {
    HeaderMutation m =
        HeaderMutation.newBuilder()
            .addSetHeaders(Responses.set(":path", "/rewritten"))
            .addRemoveHeaders(":method")
            .addRemoveHeaders("host")
            .addRemoveHeaders("x-remove-me")
            .build();
    start(onRequestHeaders(mutate(m)), config(BodySendMode.NONE, BodySendMode.NONE).build());

    var response =
        send(
            java.net.http.HttpRequest.newBuilder(uri("/original"))
                .header("x-remove-me", "1")
                .GET()
                .build());

    assertThat(response.statusCode()).isEqualTo(200);
    var received = upstream.received().get(0);
    assertThat(received.path()).isEqualTo("/rewritten");
    assertThat(received.method()).isEqualTo("GET");
    assertThat(received.headers().contains("x-remove-me")).isFalse();
  }

  @Test
  void invalidCharactersInAMutationAre500() throws Exception {
    start(
        onRequestHeaders(mutate(Responses.setHeaders(Map.of("x-bad", "line\r\nbreak")))),
        config(BodySendMode.NONE, BodySendMode.NONE).build());
    assertThat(get("/v1/models").statusCode()).isEqualTo(500);

    extProc.script(onRequestHeaders(mutate(Responses.setHeaders(Map.of("bad name", "v")))));
    assertThat(get("/v1/models").statusCode()).isEqualTo(500);
    assertThat(upstream.received()).isEmpty();
  }

  @Test
  void tooManyHeadersAfterMutationIs500() throws Exception {
    HeaderMutation.Builder m = HeaderMutation.newBuilder();
    for (int i = 0; i < 30; i++) {
      m.addSetHeaders(Responses.set("x-h" + i, "v"));
    }
    start(
        onRequestHeaders(mutate(m.build())),
        config(BodySendMode.NONE, BodySendMode.NONE).maxHeadersCount(20).build());

    assertThat(get("/v1/models").statusCode()).isEqualTo(500);
  }

  // --- Route cache (rules 21, 22, case 12)

  /** Only the header route exists, so a request that is not re-routed gets 404. */
  void headerRouteOnly() {
    envoy.routes().update(List.of(Route.onHeader("m1", ROUTING_HEADER, "m1", "m1")));
  }

  @Test
  void routingHeaderWithClearRouteCacheRoutesTheRequest() throws Exception {
    start(
        onRequestHeaders(Responses.route(ROUTING_HEADER, "m1")),
        config(BodySendMode.NONE, BodySendMode.NONE).build());
    headerRouteOnly();

    assertThat(get("/v1/models").statusCode()).isEqualTo(200);
    assertThat(lastLog().route()).hasValue("m1");
  }

  @Test
  void mutationWithoutClearRouteCacheKeepsTheOriginalRoute() throws Exception {
    start(
        onRequestHeaders(mutate(Responses.setHeaders(Map.of(ROUTING_HEADER, "m1")))),
        config(BodySendMode.NONE, BodySendMode.NONE).build());
    headerRouteOnly();

    assertThat(get("/v1/models").statusCode()).isEqualTo(404);
    assertThat(lastLog().responseCodeDetails()).isEqualTo("route_not_found");
  }

  @Test
  void clearRouteCacheWithoutAHeaderMutationIsIgnoredAndCounted() throws Exception {
    start(
        onRequestHeaders(CommonResponse.newBuilder().setClearRouteCache(true).build()),
        config(BodySendMode.NONE, BodySendMode.NONE).build());

    assertThat(get("/v1/models").statusCode()).isEqualTo(200);
    assertThat(lastLog().route()).hasValue("default");
    assertThat(envoy.stats().get(ExtProcStats.CLEAR_ROUTE_CACHE_IGNORED)).isEqualTo(1);
  }

  @Test
  void clearRouteCacheInABufferedBodyResponseRoutesByBody() throws Exception {
    start(
        (s, r) -> {
          if (r.hasRequestBody()) {
            // Rule 22: headers were answered with an empty CONTINUE; the route comes with the body
            // response.
            s.send(Responses.requestBody(Responses.route(ROUTING_HEADER, "m1")));
          } else {
            s.send(Responses.continueFor(r));
          }
        },
        config(BodySendMode.BUFFERED, BodySendMode.NONE).build());
    headerRouteOnly();

    assertThat(post("/v1/chat/completions", "{\"model\":\"m1\"}").statusCode()).isEqualTo(200);
    assertThat(upstream.received().get(0).headers().get(ROUTING_HEADER)).isEqualTo("m1");
  }

  @Test
  void retainNeverClearsAndClearAlwaysClears() throws Exception {
    start(
        onRequestHeaders(Responses.route(ROUTING_HEADER, "m1")),
        config(BodySendMode.NONE, BodySendMode.NONE)
            .routeCacheAction(RouteCacheAction.RETAIN)
            .build());
    headerRouteOnly();
    assertThat(get("/v1/models").statusCode()).isEqualTo(404);
    closeAll();

    start(
        onRequestHeaders(mutate(Responses.setHeaders(Map.of(ROUTING_HEADER, "m1")))),
        config(BodySendMode.NONE, BodySendMode.NONE)
            .routeCacheAction(RouteCacheAction.CLEAR)
            .build());
    headerRouteOnly();
    assertThat(get("/v1/models").statusCode()).isEqualTo(200);
  }

  @Test
  void clearRouteCacheOnTheResponsePathIsIgnored() throws Exception {
    start(
        (s, r) ->
            s.send(
                r.hasResponseHeaders()
                    ? Responses.responseHeaders(Responses.route("x-response", "1"))
                    : Responses.continueFor(r)),
        config(BodySendMode.NONE, BodySendMode.NONE).build());

    var response = get("/v1/models");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.headers().firstValue("x-response")).hasValue("1");
    assertThat(envoy.stats().get(ExtProcStats.CLEAR_ROUTE_CACHE_IGNORED)).isEqualTo(1);
  }

  @Test
  void disableClearRouteCacheTogetherWithRouteCacheActionIsAConfigError() {
    var proto =
        io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor.newBuilder()
            .setDisableClearRouteCache(true)
            .setRouteCacheAction(RouteCacheAction.CLEAR)
            .build();
    org.junit.jupiter.api.Assertions.assertThrows(
        IllegalArgumentException.class, () -> ExtProcFilterConfig.fromProto(proto, 500));
    assertThat(
            ExtProcFilterConfig.fromProto(proto.toBuilder().clearRouteCacheAction().build(), 500)
                .routeCacheAction())
        .isEqualTo(RouteCacheAction.RETAIN);
  }

  // --- Dynamic metadata (rule 23, case 15)

  @Test
  void dynamicMetadataOutsideTheReceivingNamespacesIsDropped() throws Exception {
    Struct lb =
        Struct.newBuilder().putFields("x", Value.newBuilder().setStringValue("1").build()).build();
    ProcessingResponse response =
        Responses.requestHeaders(Responses.common()).toBuilder()
            .setDynamicMetadata(
                Struct.newBuilder()
                    .putFields("envoy.lb", Value.newBuilder().setStructValue(lb).build())
                    .putFields("other", Value.newBuilder().setStructValue(lb).build()))
            .build();
    start(
        onRequestHeaders(response),
        config(BodySendMode.NONE, BodySendMode.NONE)
            .receivingNamespaces(List.of("envoy.lb"))
            .build());

    assertThat(get("/v1/models").statusCode()).isEqualTo(200);
    assertThat(lastLog().dynamicMetadata()).containsOnlyKeys("envoy.lb");
    assertThat(lastLog().dynamicMetadata().get("envoy.lb")).isEqualTo(lb);
  }

  // --- ORIGINAL_DST (rule 24, case 17)

  void originalDestinationOnly() {
    envoy.clusters().update(Cluster.originalDestination("original_destination_cluster"));
    envoy.routes().update(List.of(Route.onPrefix("epp", "/", "original_destination_cluster")));
  }

  @Test
  void originalDestinationRoutesToTheEndpointNamedInTheHeader() throws Exception {
    startServer(StandInTestSupport::continueAll, 64 * 1024 * 1024);
    startStandIn(config(BodySendMode.NONE, BodySendMode.NONE).build(), b -> b);
    originalDestinationOnly();
    extProc.script(
        onRequestHeaders(
            mutate(
                Responses.setHeaders(
                    Map.of(Cluster.DESTINATION_ENDPOINT_HEADER, "127.0.0.1:" + upstream.port())))));

    assertThat(get("/v1/models").statusCode()).isEqualTo(200);
    assertThat(lastLog().upstreamHost()).hasValue("127.0.0.1:" + upstream.port());
  }

  @Test
  void originalDestinationWithTheHeaderMissingOrMalformedIs503() throws Exception {
    start(StandInTestSupport::continueAll, config(BodySendMode.NONE, BodySendMode.NONE).build());
    originalDestinationOnly();

    assertThat(get("/v1/models").statusCode()).isEqualTo(503);
    assertThat(lastLog().responseCodeDetails()).isEqualTo("no_healthy_upstream");

    for (String malformed : List.of("vllm-0:8000", "127.0.0.1", "300.1.1.1:80", "127.0.0.1:0")) {
      extProc.script(
          onRequestHeaders(
              mutate(
                  Responses.setHeaders(Map.of(Cluster.DESTINATION_ENDPOINT_HEADER, malformed)))));
      assertThat(get("/v1/models").statusCode()).as(malformed).isEqualTo(503);
    }
    assertThat(upstream.received()).isEmpty();
  }
}

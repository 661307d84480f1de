package dev.inferencebudget.extproc.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.local.InMemoryControllerLink;
import dev.inferencebudget.extproc.local.InMemoryModelStates;
import dev.inferencebudget.extproc.testing.EnvoyDriver;
import dev.inferencebudget.extproc.testing.EnvoyDriver.Exchange;
import dev.inferencebudget.extproc.testing.Models;
import io.envoyproxy.envoy.service.ext_proc.v3.ProcessingResponse;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The real Netty server on loopback: large bodies and the metrics endpoint. */
class ExtProcNettyTest {

  @Test
  void bodyLargerThanGrpcsDefault4MiBIsAdmittedAndMetricsAreScraped() throws Exception {
    ExtProcConfig config =
        new ExtProcConfig(
            "127.0.0.1",
            0,
            0,
            "test",
            ExtProcConfig.RoutingMode.ROUTING_HEADER,
            "x-ibc-model",
            8 * 1024 * 1024,
            java.time.Duration.ofSeconds(900),
            java.time.Duration.ofSeconds(900),
            "authorization",
            "",
            java.util.Optional.empty());
    try (ExtProcServer server =
        ExtProcServer.builder(config)
            .modelStates(new InMemoryModelStates(List.of(Models.ready("ns/llama", "llama"))))
            .controllerLink(new InMemoryControllerLink())
            .build()
            .start()) {
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
      try {
        EnvoyDriver envoy = new EnvoyDriver(channel);
        String prompt = "x".repeat(5 * 1024 * 1024);
        Exchange x = envoy.open();
        ProcessingResponse answer =
            x.admit(
                "/v1/completions", Map.of(), "{\"model\":\"llama\",\"prompt\":\"" + prompt + "\"}");
        assertThat(answer.hasRequestBody()).isTrue();
        x.halfCloseAndCancel();

        // Over the configured limit: refused with 413 (not a gRPC RESOURCE_EXHAUSTED).
        Exchange tooLarge = envoy.open();
        ProcessingResponse refused =
            tooLarge.admit(
                "/v1/completions",
                Map.of(),
                "{\"model\":\"llama\",\"prompt\":\"" + "y".repeat(8 * 1024 * 1024) + "\"}");
        assertThat(refused.getImmediateResponse().getStatus().getCodeValue()).isEqualTo(413);
      } finally {
        channel.shutdownNow();
      }
      HttpResponse<String> metrics =
          HttpClient.newHttpClient()
              .send(
                  HttpRequest.newBuilder(
                          URI.create("http://127.0.0.1:" + server.metricsPort() + "/metrics"))
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
      assertThat(metrics.body())
          .contains(
              "ibc_extproc_requests_total{model=\"ns/llama\",outcome=\"admitted\",reason=\"ok\"} 1.0",
              "ibc_extproc_message_processing_seconds",
              "ibc_extproc_queue_depth{model=\"ns/llama\"} 0.0",
              "ibc_extproc_prompt_tokens_counted_total")
          .doesNotContain("authorization");
    }
  }
}

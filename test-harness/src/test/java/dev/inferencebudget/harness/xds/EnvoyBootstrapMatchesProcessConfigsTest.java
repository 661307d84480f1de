package dev.inferencebudget.harness.xds;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.xds.api.XdsConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shipped {@code envoy/envoy.yaml} agrees with the defaults of the two processes it talks to:
 * ports, the hold ext-proc may ask for, the body size it accepts, the routing header.
 * (xds-control-plane's {@code EnvoyBootstrapTest} checks the file against the Envoy protos.)
 */
class EnvoyBootstrapMatchesProcessConfigsTest {

  private static final ExtProcConfig EXT_PROC = ExtProcConfig.defaults();
  private static final XdsConfig XDS = XdsConfig.defaults();
  private static JsonNode bootstrap;

  @BeforeAll
  static void read() throws Exception {
    bootstrap =
        new ObjectMapper(new YAMLFactory())
            .readTree(Files.readString(Path.of("..", "envoy", "envoy.yaml")));
  }

  @Test
  void extProcClusterPointsAtExtProcsGrpcPort() {
    assertThat(port(cluster("ext_proc_cluster"))).isEqualTo(EXT_PROC.grpcPort());
  }

  @Test
  void xdsClusterPointsAtTheControlPlanesPort() {
    assertThat(port(cluster("xds_cluster"))).isEqualTo(XDS.port());
  }

  @Test
  void envoyAcceptsEveryHoldExtProcAsksForAndEveryHoldOutlivesNoTimer() {
    JsonNode extProc = extProcFilter();
    Duration maxMessageTimeout = seconds(extProc.get("max_message_timeout"));
    assertThat(maxMessageTimeout).isEqualTo(EXT_PROC.maxMessageTimeout());
    assertThat(EXT_PROC.holdOverrideTimeout()).isLessThanOrEqualTo(maxMessageTimeout);
    assertThat(XDS.longestHold()).isLessThanOrEqualTo(maxMessageTimeout);
    assertThat(seconds(hcm().get("stream_idle_timeout")))
        .isGreaterThan(EXT_PROC.holdOverrideTimeout());
    assertThat(XDS.routeIdleTimeout()).isGreaterThan(EXT_PROC.holdOverrideTimeout());
  }

  @Test
  void envoyBuffersNoMoreThanExtProcAccepts() {
    int bufferLimit =
        bootstrap.at("/static_resources/listeners/0/per_connection_buffer_limit_bytes").asInt();
    assertThat(bufferLimit).isPositive().isLessThanOrEqualTo(EXT_PROC.maxRequestBodyBytes());
  }

  @Test
  void routingHeaderAndMetadataNamespaceAgree() {
    assertThat(EXT_PROC.routingHeader()).isEqualTo(XDS.routingHeader());
    assertThat(hcm().at("/rds/route_config_name").asText()).isEqualTo(XDS.routeConfigName());
    assertThat(extProcFilter().at("/metadata_options/receiving_namespaces/untyped").toString())
        .contains(ExtProcConfig.ENVOY_LB_NAMESPACE);
  }

  private static JsonNode hcm() {
    return bootstrap.at("/static_resources/listeners/0/filter_chains/0/filters/0/typed_config");
  }

  private static JsonNode extProcFilter() {
    return StreamSupport.stream(hcm().get("http_filters").spliterator(), false)
        .filter(f -> f.get("name").asText().equals("envoy.filters.http.ext_proc"))
        .findFirst()
        .orElseThrow()
        .get("typed_config");
  }

  private static JsonNode cluster(String name) {
    return StreamSupport.stream(bootstrap.at("/static_resources/clusters").spliterator(), false)
        .filter(c -> c.get("name").asText().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no cluster " + name));
  }

  private static int port(JsonNode cluster) {
    return cluster
        .at(
            "/load_assignment/endpoints/0/lb_endpoints/0/endpoint/address/socket_address/port_value")
        .asInt();
  }

  private static Duration seconds(JsonNode value) {
    return Duration.parse("PT" + value.asText().toUpperCase(java.util.Locale.ROOT));
  }
}

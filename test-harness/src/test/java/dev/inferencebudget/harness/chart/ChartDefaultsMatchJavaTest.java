package dev.inferencebudget.harness.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.inferencebudget.controller.api.Quantities;
import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.proto.tls.GrpcTls;
import dev.inferencebudget.xds.api.XdsConfig;
import io.fabric8.kubernetes.api.model.Quantity;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chart's {@code values.yaml} defaults equal the Java configuration defaults they mirror, and
 * the chart's Envoy bootstrap is the repository's {@code envoy/envoy.yaml}. Needs no Helm.
 */
class ChartDefaultsMatchJavaTest {

  private static final ExtProcConfig EXT_PROC = ExtProcConfig.defaults();
  private static final XdsConfig XDS = XdsConfig.defaults();
  private static JsonNode values;

  @BeforeAll
  static void read() throws Exception {
    values =
        new ObjectMapper(new YAMLFactory())
            .readTree(Files.readString(RenderedChart.CHART.resolve("values.yaml")));
  }

  @Test
  void extProcPortsAndLimitsMirrorExtProcConfigDefaults() {
    assertThat(values.at("/extProc/ports/grpc").asInt()).isEqualTo(EXT_PROC.grpcPort());
    assertThat(values.at("/extProc/ports/metrics").asInt()).isEqualTo(EXT_PROC.metricsPort());
    assertThat(values.at("/extProc/routingMode").asText()).isEqualTo(EXT_PROC.routingMode().name());
    assertThat(values.at("/extProc/maxRequestBodyBytes").asInt())
        .isEqualTo(EXT_PROC.maxRequestBodyBytes());
    assertThat(values.at("/extProc/maxMessageTimeoutSeconds").asLong())
        .isEqualTo(EXT_PROC.maxMessageTimeout().toSeconds());
  }

  @Test
  void xdsPortAndEnvoyListenerMirrorXdsConfigDefaults() {
    assertThat(values.at("/controller/ports/xds").asInt()).isEqualTo(XDS.port());
    assertThat(values.at("/envoy/listenerPort").asInt())
        .isEqualTo(XdsConfig.StandaloneListener.defaults().port());
    assertThat(values.at("/extProc/maxMessageTimeoutSeconds").asLong())
        .isGreaterThanOrEqualTo(XDS.longestHold().toSeconds());
  }

  @Test
  void controllerPortsMirrorControllerConfigDefaults() {
    ControllerConfig controller = ControllerConfig.defaults();
    assertThat(values.at("/controller/ports/xds").asInt()).isEqualTo(controller.xdsPort());
    assertThat(values.at("/controller/ports/linkApi").asInt()).isEqualTo(controller.linkApiPort());
    assertThat(values.at("/controller/ports/metrics").asInt()).isEqualTo(controller.metricsPort());
    assertThat(values.at("/controller/leaderElection/enabled").asBoolean())
        .isEqualTo(controller.leaderElection().enabled());
    assertThat(values.at("/controller/leaderElection/leaseName").asText())
        .isEqualTo(controller.leaderElection().leaseName());
    assertThat(
            Quantities.toBytes(
                new Quantity(values.at("/controller/gpuMemoryPerDevice").asText()),
                "controller.gpuMemoryPerDevice"))
        .isEqualTo(controller.gpuObservation().gpuMemoryPerDeviceBytes());
  }

  @Test
  void tlsReloadPeriodMirrorsGrpcTlsDefault() {
    assertThat(values.at("/tls/reloadSeconds").asLong())
        .isEqualTo(GrpcTls.DEFAULT_RELOAD_PERIOD.toSeconds());
  }

  @Test
  void chartShipsTheRepositorysEnvoyBootstrapUnchanged() throws Exception {
    assertThat(RenderedChart.CHART.resolve(Path.of("files", "envoy.yaml")))
        .hasSameTextualContentAs(Path.of("..", "envoy", "envoy.yaml"));
  }
}

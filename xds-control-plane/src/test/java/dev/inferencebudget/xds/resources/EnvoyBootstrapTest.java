package dev.inferencebudget.xds.resources;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.google.protobuf.Any;
import com.google.protobuf.Duration;
import com.google.protobuf.Message;
import com.google.protobuf.util.Durations;
import com.google.protobuf.util.JsonFormat;
import dev.inferencebudget.xds.api.XdsConfig;
import io.envoyproxy.envoy.config.bootstrap.v3.Bootstrap;
import io.envoyproxy.envoy.config.cluster.v3.Cluster;
import io.envoyproxy.envoy.config.core.v3.ApiVersion;
import io.envoyproxy.envoy.config.listener.v3.Listener;
import io.envoyproxy.envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor;
import io.envoyproxy.envoy.extensions.filters.http.router.v3.Router;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager;
import io.envoyproxy.envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter;
import io.envoyproxy.envoy.extensions.upstreams.http.v3.HttpProtocolOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code envoy/envoy.yaml} is a valid Envoy bootstrap whose timeouts fit the longest cold-start
 * hold, and its static listener is the one the control plane would serve over LDS.
 */
class EnvoyBootstrapTest {

  private static final Path BOOTSTRAP = Path.of("..", "envoy", "envoy.yaml");

  /** Every typed_config the bootstrap may use; parsing fails on any other. */
  private static final JsonFormat.TypeRegistry TYPES =
      JsonFormat.TypeRegistry.newBuilder()
          .add(HttpConnectionManager.getDescriptor())
          .add(ExternalProcessor.getDescriptor())
          .add(Router.getDescriptor())
          .add(HttpProtocolOptions.getDescriptor())
          .build();

  private static final XdsConfig CONFIG = XdsConfig.defaults();
  private static Bootstrap bootstrap;

  @BeforeAll
  static void parse() throws Exception {
    String json =
        new ObjectMapper()
            .writeValueAsString(
                new ObjectMapper(new YAMLFactory()).readTree(Files.readString(BOOTSTRAP)));
    Bootstrap.Builder builder = Bootstrap.newBuilder();
    // not ignoringUnknownFields: a misspelt field fails here as it would fail Envoy
    JsonFormat.parser().usingTypeRegistry(TYPES).merge(json, builder);
    bootstrap = builder.build();
  }

  @Test
  void everyTypedConfigUnpacksWithTheRegistry() throws Exception {
    List<Any> typed = new ArrayList<>();
    collectAnys(bootstrap, typed);
    assertThat(typed).hasSizeGreaterThanOrEqualTo(5);
    for (Any any : typed) {
      assertThat(descriptor(any)).as("registry covers %s", any.getTypeUrl()).isNotNull();
    }
  }

  @Test
  void adsPointsAtTheControllersXdsPortAndClustersComeOverAds() {
    var ads = bootstrap.getDynamicResources().getAdsConfig();
    assertThat(ads.getTransportApiVersion()).isEqualTo(ApiVersion.V3);
    String xdsCluster = ads.getGrpcServices(0).getEnvoyGrpc().getClusterName();
    Cluster cluster = staticCluster(xdsCluster);
    assertThat(
            cluster
                .getLoadAssignment()
                .getEndpoints(0)
                .getLbEndpoints(0)
                .getEndpoint()
                .getAddress()
                .getSocketAddress()
                .getPortValue())
        .isEqualTo(CONFIG.port());
    assertThat(cluster.getTypedExtensionProtocolOptionsMap()).as("gRPC needs HTTP/2").isNotEmpty();
    assertThat(bootstrap.getDynamicResources().getCdsConfig().hasAds()).isTrue();
  }

  @Test
  void timeoutsOutlastTheLongestHold() throws Exception {
    HttpConnectionManager hcm = hcm();
    ExternalProcessor extProc = extProc(hcm);
    Duration longestHold = Durations.fromMillis(CONFIG.longestHold().toMillis());

    assertThat(Durations.compare(extProc.getMaxMessageTimeout(), longestHold))
        .as("ext_proc max_message_timeout >= longest hold")
        .isGreaterThanOrEqualTo(0);
    assertThat(Durations.compare(hcm.getStreamIdleTimeout(), longestHold))
        .as("HCM stream_idle_timeout > longest hold")
        .isGreaterThan(0);
    assertThat(Durations.toMillis(hcm.getRequestTimeout())).as("HCM request_timeout off").isZero();
    assertThat(
            Durations.compare(
                Durations.fromMillis(CONFIG.routeIdleTimeout().toMillis()), longestHold))
        .as("route idle_timeout (served over RDS) > longest hold")
        .isGreaterThan(0);
    assertThat(extProc.getFailureModeAllow()).isFalse();
    assertThat(hcm.getRds().getRouteConfigName()).isEqualTo(CONFIG.routeConfigName());
    assertThat(hcm.getRds().getConfigSource().hasAds()).isTrue();
    assertThat(hcm.getHttpFiltersList())
        .extracting(HttpFilter::getName)
        .containsExactly("envoy.filters.http.ext_proc", "envoy.filters.http.router");
  }

  @Test
  void extProcClusterAdmitsManyHeldRequests() throws Exception {
    String name = extProc(hcm()).getGrpcService().getEnvoyGrpc().getClusterName();
    var thresholds = staticCluster(name).getCircuitBreakers().getThresholds(0);
    assertThat(thresholds.getMaxRequests().getValue()).isGreaterThanOrEqualTo(10_000);
    assertThat(thresholds.getMaxPendingRequests().getValue()).isGreaterThanOrEqualTo(10_000);
    assertThat(staticCluster(name).getTypedExtensionProtocolOptionsMap()).isNotEmpty();
  }

  @Test
  void staticListenerIsTheListenerTheControlPlaneServesOverLds() {
    Listener fromFile = bootstrap.getStaticResources().getListeners(0);
    Listener served =
        new EnvoyResources(
                CONFIG.withStandaloneListener(
                    XdsConfig.StandaloneListener.defaults().withEnabled(true)))
            .standaloneListener();
    assertThat(fromFile).isEqualTo(served);
  }

  private static HttpConnectionManager hcm() throws Exception {
    return bootstrap
        .getStaticResources()
        .getListeners(0)
        .getFilterChains(0)
        .getFilters(0)
        .getTypedConfig()
        .unpack(HttpConnectionManager.class);
  }

  private static ExternalProcessor extProc(HttpConnectionManager hcm) throws Exception {
    return hcm.getHttpFilters(0).getTypedConfig().unpack(ExternalProcessor.class);
  }

  private static Cluster staticCluster(String name) {
    return bootstrap.getStaticResources().getClustersList().stream()
        .filter(c -> c.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no static cluster " + name));
  }

  private static com.google.protobuf.Descriptors.Descriptor descriptor(Any any) {
    return TYPES.find(any.getTypeUrl().substring(any.getTypeUrl().lastIndexOf('/') + 1));
  }

  private static void collectAnys(Message message, List<Any> out) throws Exception {
    for (var entry : message.getAllFields().entrySet()) {
      List<?> values =
          entry.getKey().isRepeated() ? (List<?>) entry.getValue() : List.of(entry.getValue());
      for (Object value : values) {
        if (value instanceof Message dynamic
            && !(value instanceof Any)
            && dynamic.getDescriptorForType().getFullName().equals("google.protobuf.Any")) {
          // inside a DynamicMessage an Any is dynamic too
          value = Any.parseFrom(dynamic.toByteString());
        }
        if (value instanceof Any any) {
          out.add(any);
          var descriptor = descriptor(any);
          if (descriptor != null) {
            collectAnys(
                com.google.protobuf.DynamicMessage.parseFrom(descriptor, any.getValue()), out);
          }
        } else if (value instanceof Message nested) {
          collectAnys(nested, out);
        }
      }
    }
  }
}

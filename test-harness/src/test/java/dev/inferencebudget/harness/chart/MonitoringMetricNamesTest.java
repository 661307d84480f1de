package dev.inferencebudget.harness.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.controller.k8s.BudgetController;
import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.grpc.ExtProcServer;
import dev.inferencebudget.extproc.local.InMemoryControllerLink;
import dev.inferencebudget.extproc.local.InMemoryModelStates;
import dev.inferencebudget.harness.envoy.ExtProcStats;
import dev.inferencebudget.xds.api.XdsConfig;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.InfoSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.SummarySnapshot;
import java.nio.file.Files;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every metric the Grafana dashboard and the PrometheusRule read is one the code exports (collected
 * from the registries of a controller and an ext-proc server built in-process) or one of Envoy's
 * own stats from an explicit list. A renamed metric breaks this test, not a dashboard in
 * production.
 */
class MonitoringMetricNamesTest {

  /**
   * Envoy stats the dashboard reads, as Envoy's {@code /stats/prometheus} names them: {@code
   * envoy_} + the stat name with its tag-extracted parts ({@code <stat_prefix>}, {@code
   * <cluster_name>}, the response code class) moved into labels. Envoy emits counters without a
   * {@code _total} suffix. The ext_proc ones are the stand-in's (and Envoy's) filter stat names.
   */
  static final Set<String> ENVOY_STATS =
      Set.of(
          "envoy_http_ext_proc_" + ExtProcStats.STREAMS_STARTED,
          "envoy_http_ext_proc_" + ExtProcStats.STREAMS_FAILED,
          "envoy_http_ext_proc_" + ExtProcStats.MESSAGE_TIMEOUTS,
          "envoy_http_ext_proc_" + ExtProcStats.SPURIOUS_MSGS_RECEIVED,
          "envoy_http_ext_proc_" + ExtProcStats.OVERRIDE_MESSAGE_TIMEOUT_RECEIVED,
          "envoy_cluster_upstream_rq_total",
          "envoy_cluster_upstream_rq_active",
          "envoy_cluster_upstream_rq_xx",
          "envoy_cluster_upstream_rq_time_bucket",
          "envoy_cluster_upstream_cx_active",
          "envoy_cluster_upstream_cx_connect_fail",
          "envoy_cluster_manager_cds_update_rejected",
          "envoy_listener_manager_lds_update_rejected",
          "envoy_control_plane_connected_state");

  private static Set<String> exported;
  private static RenderedChart chart;

  @BeforeAll
  static void collectExportedNamesAndRender() throws Exception {
    exported = exportedNames();
    chart =
        RenderedChart.render(
            Map.of(
                "monitoring.dashboard.enabled", "true",
                "monitoring.prometheusRule.enabled", "true"));
  }

  /**
   * Builds (without starting) the controller and an ext-proc server on one registry, as their
   * {@code Main}s do, and lists the sample names Prometheus would scrape.
   */
  private static Set<String> exportedNames() throws Exception {
    PrometheusRegistry registry = new PrometheusRegistry();
    // never contacted: the controller is built, not started
    try (KubernetesClient client =
        new KubernetesClientBuilder()
            .withConfig(new ConfigBuilder().withMasterUrl("https://127.0.0.1:1").build())
            .build()) {
      BudgetController controller =
          new BudgetController(
              client,
              ControllerConfig.defaults(),
              XdsConfig.defaults().withListenAddress("127.0.0.1", 0),
              Clock.systemUTC(),
              registry);
      controller.close();
    }
    ExtProcServer extProc =
        ExtProcServer.builder(ExtProcConfig.defaults())
            .modelStates(new InMemoryModelStates())
            .controllerLink(new InMemoryControllerLink())
            .registry(registry)
            .build();
    extProc.close();
    Set<String> names = new TreeSet<>();
    for (MetricSnapshot snapshot : registry.scrape()) {
      names.addAll(sampleNames(snapshot));
    }
    return names;
  }

  /** The names a snapshot's samples carry in the text exposition format. */
  private static List<String> sampleNames(MetricSnapshot snapshot) {
    String name = snapshot.getMetadata().getPrometheusName();
    if (snapshot instanceof CounterSnapshot) {
      return List.of(name + "_total");
    }
    if (snapshot instanceof HistogramSnapshot) {
      return List.of(name + "_bucket", name + "_count", name + "_sum");
    }
    if (snapshot instanceof SummarySnapshot) {
      return List.of(name, name + "_count", name + "_sum");
    }
    if (snapshot instanceof InfoSnapshot) {
      return List.of(name + "_info");
    }
    return List.of(name);
  }

  @Test
  void theCodeExportsTheMetricsEachAreaOfTheDashboardNeeds() {
    assertThat(exported)
        .contains(
            "ibc_budget_reserved_bytes",
            "ibc_model_state",
            "ibc_model_cold_start_seconds_bucket",
            "ibc_controller_leader",
            "ibc_xds_nacks_total",
            "ibc_extproc_requests_total",
            "ibc_extproc_held_requests",
            "ibc_extproc_hold_seconds_bucket");
  }

  @Test
  void everyMetricTheDashboardReadsIsExportedByTheCodeOrIsAnEnvoyStat() throws Exception {
    Map<String, Set<String>> byPanel = dashboardMetrics();

    assertThat(byPanel).isNotEmpty();
    Map<String, Set<String>> unknown = new TreeMap<>();
    byPanel.forEach(
        (panel, names) -> {
          Set<String> missing = new TreeSet<>(names);
          missing.removeAll(exported);
          missing.removeAll(ENVOY_STATS);
          if (!missing.isEmpty()) {
            unknown.put(panel, missing);
          }
        });
    assertThat(unknown).as("metrics nobody exports, by panel; exported: %s", exported).isEmpty();
  }

  @Test
  void theDashboardCoversBudgetsModelsRequestsTokensControllerAndEnvoy() throws Exception {
    Set<String> used = new TreeSet<>();
    dashboardMetrics().values().forEach(used::addAll);

    assertThat(used)
        .contains(
            "ibc_budget_reserved_bytes",
            "ibc_budget_total_bytes",
            "ibc_model_state",
            "ibc_model_desired_replicas",
            "ibc_model_ready_replicas",
            "ibc_model_cold_start_seconds_count",
            "ibc_model_cold_start_seconds_bucket",
            "ibc_extproc_held_requests",
            "ibc_extproc_hold_seconds_bucket",
            "ibc_extproc_requests_total",
            "ibc_extproc_tokens_settled_total",
            "ibc_controller_leader",
            "ibc_xds_nacks_total");
    assertThat(used).anyMatch(n -> n.startsWith("envoy_http_ext_proc_"));
    assertThat(used).anyMatch(n -> n.startsWith("envoy_cluster_upstream_rq_"));
  }

  @Test
  void everyAlertReadsOnlyExportedMetrics() {
    Map<String, String> alerts = alertExpressions();

    assertThat(alerts.keySet())
        .containsExactlyInAnyOrder(
            "IbcBudgetNearFull",
            "IbcColdStartHoldTimeouts",
            "IbcXdsNacks",
            "IbcControllerWithoutLeader");
    alerts.forEach(
        (alert, expr) -> {
          Set<String> names = PromQlNames.metricNames(expr);
          assertThat(names).as("%s reads a metric", alert).isNotEmpty();
          assertThat(exported).as("%s: %s", alert, expr).containsAll(names);
          // scoped to this release's pods, which the ServiceMonitor labels with their namespace
          assertThat(expr).contains("namespace=\"" + RenderedChart.NAMESPACE + "\"");
        });
    assertThat(alerts.get("IbcColdStartHoldTimeouts")).contains("reason=\"cold_start_timeout\"");
  }

  @Test
  void theNameReaderFindsMetricsAndSkipsFunctionsLabelsAndVariables() {
    assertThat(
            PromQlNames.metricNames(
                "histogram_quantile(0.95, sum by (le, model) (rate(a_seconds_bucket{model=~\"$model\","
                    + " x=\"b_c\"}[$__rate_interval]))) / on (model) group_left b_total > 1e9"
                    + " or vector(0)"))
        .containsExactlyInAnyOrder("a_seconds_bucket", "b_total");
    assertThat(PromQlNames.labelValuesMetric("label_values(ibc_model_state, model)"))
        .containsExactly("ibc_model_state");
  }

  /** Metric names per panel title (and per template variable) of the rendered dashboard. */
  private static Map<String, Set<String>> dashboardMetrics() throws Exception {
    ConfigMap configMap = chart.one(ConfigMap.class, RenderedChart.RELEASE_FULLNAME + "-dashboard");
    assertThat(configMap.getMetadata().getLabels()).containsEntry("grafana_dashboard", "1");
    String json = configMap.getData().get("inference-budget-controller.json");
    assertThat(json)
        .isEqualTo(
            Files.readString(
                RenderedChart.CHART.resolve("files/dashboards/inference-budget-controller.json")));
    JsonNode dashboard = new ObjectMapper().readTree(json);
    Map<String, Set<String>> byPanel = new TreeMap<>();
    for (JsonNode panel : dashboard.get("panels")) {
      for (JsonNode target : panel.path("targets")) {
        byPanel
            .computeIfAbsent(panel.get("title").asText(), k -> new TreeSet<>())
            .addAll(PromQlNames.metricNames(target.get("expr").asText()));
      }
    }
    for (JsonNode variable : dashboard.at("/templating/list")) {
      String query = variable.path("query").path("query").asText("");
      Set<String> names = PromQlNames.labelValuesMetric(query);
      if (!names.isEmpty()) {
        byPanel.put("variable " + variable.get("name").asText(), names);
      }
    }
    return byPanel;
  }

  private static Map<String, String> alertExpressions() {
    GenericKubernetesResource rule =
        chart.all(GenericKubernetesResource.class).stream()
            .filter(o -> o.getKind().equals("PrometheusRule"))
            .findFirst()
            .orElseThrow();
    Map<String, String> alerts = new TreeMap<>();
    List<Map<String, Object>> groups = rule.get("spec", "groups");
    for (Map<String, Object> group : groups) {
      @SuppressWarnings("unchecked")
      List<Map<String, Object>> rules = (List<Map<String, Object>>) group.get("rules");
      for (Map<String, Object> r : new ArrayList<>(rules)) {
        alerts.put((String) r.get("alert"), (String) r.get("expr"));
      }
    }
    return alerts;
  }
}

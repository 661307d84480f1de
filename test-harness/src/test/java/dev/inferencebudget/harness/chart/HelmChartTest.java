package dev.inferencebudget.harness.chart;

import static dev.inferencebudget.harness.chart.RenderedChart.CONTROLLER;
import static dev.inferencebudget.harness.chart.RenderedChart.ENVOY;
import static dev.inferencebudget.harness.chart.RenderedChart.EXT_PROC;
import static dev.inferencebudget.harness.chart.RenderedChart.NAMESPACE;
import static dev.inferencebudget.harness.chart.RenderedChart.env;
import static dev.inferencebudget.harness.chart.RenderedChart.onlyContainer;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import dev.inferencebudget.controller.config.ControllerConfig;
import dev.inferencebudget.proto.tls.GrpcTls;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The chart lints strictly, renders with its default values and with each documented variant into
 * valid fabric8 objects, and the rendered objects point at each other correctly.
 */
class HelmChartTest {

  private static final Map<String, String> DEFAULTS = Map.of();
  private static final Map<String, String> TLS_CERT_MANAGER =
      Map.of("tls.enabled", "true", "tls.certManager.issuerRef.name", "cluster-ca");
  private static final Map<String, String> TLS_SECRET =
      Map.of(
          "tls.enabled", "true",
          "tls.source", "secret",
          "tls.existingSecret", "my-grpc-tls",
          "tls.peerAuthority", "controller.ibc.example");
  private static final Map<String, String> NETWORK_POLICIES =
      Map.of(
          "networkPolicies.enabled", "true",
          "networkPolicies.apiServerCidrs[0]", "10.0.0.1/32",
          "networkPolicies.gatewayPodSelector.matchLabels.app", "envoy");
  private static final Map<String, String> STANDALONE_ENVOY = Map.of("envoy.enabled", "true");
  private static final Map<String, String> ENDPOINT_PICKER =
      Map.of("extProc.routingMode", "ENDPOINT_PICKER");
  private static final Map<String, String> MONITORING =
      Map.of(
          "monitoring.serviceMonitor.enabled", "true",
          "monitoring.podMonitor.enabled", "true",
          "monitoring.prometheusRule.enabled", "true",
          "monitoring.dashboard.enabled", "true",
          "envoy.enabled", "true");
  private static final Map<String, String> ENVOY_GATEWAY =
      Map.of(
          "envoyGateway.enabled", "true",
          "envoyGateway.gateway.name", "inference-gateway",
          "envoyGateway.gateway.namespace", "gateway-system");
  private static final Map<String, String> CONTROLLER_PORTS_AND_LEASE =
      Map.of(
          "controller.ports.xds", "18443",
          "controller.ports.linkApi", "9443",
          "controller.ports.metrics", "9191",
          "controller.leaderElection.leaseName", "ibc-leader",
          "controller.gpuMemoryPerDevice", "141Gi");
  private static final Map<String, String> WATCHED_NAMESPACES =
      Map.of("controller.watchNamespaces[0]", "team-a", "controller.watchNamespaces[1]", "team-b");

  /** The controller's API access, resource by resource: exactly this and nothing broader. */
  private static final Map<String, Set<String>> CONTROLLER_RULES =
      Map.ofEntries(
          Map.entry("inferencebudget.dev/inferencebudgets", Set.of("get", "list", "watch")),
          Map.entry("inferencebudget.dev/budgetedmodels", Set.of("get", "list", "watch")),
          Map.entry("inferencebudget.dev/inferencebudgets/status", Set.of("update")),
          Map.entry("inferencebudget.dev/budgetedmodels/status", Set.of("update")),
          Map.entry("apps/deployments", Set.of("get", "list", "watch", "patch")),
          Map.entry("apps/deployments/scale", Set.of("get", "update")),
          Map.entry("/pods", Set.of("list", "watch")),
          Map.entry("discovery.k8s.io/endpointslices", Set.of("list", "watch")),
          Map.entry("/events", Set.of("create")),
          Map.entry(
              "gateway.networking.k8s.io/httproutes",
              Set.of("get", "list", "watch", "create", "update", "delete")),
          Map.entry("autoscaling/horizontalpodautoscalers", Set.of("list", "watch")));

  static Stream<Arguments> variants() {
    return Stream.of(
        Arguments.of("defaults", DEFAULTS),
        Arguments.of("TLS from cert-manager", TLS_CERT_MANAGER),
        Arguments.of("TLS from a provided secret", TLS_SECRET),
        Arguments.of("NetworkPolicies", NETWORK_POLICIES),
        Arguments.of("standalone Envoy", STANDALONE_ENVOY),
        Arguments.of("endpoint-picker mode", ENDPOINT_PICKER),
        Arguments.of("watched namespaces", WATCHED_NAMESPACES),
        Arguments.of("monitoring", MONITORING),
        Arguments.of("controller ports and lease", CONTROLLER_PORTS_AND_LEASE),
        Arguments.of("Envoy Gateway", ENVOY_GATEWAY),
        Arguments.of("everything on", everythingOn()));
  }

  private static Map<String, String> everythingOn() {
    Map<String, String> all = new TreeMap<>();
    all.putAll(TLS_CERT_MANAGER);
    all.putAll(NETWORK_POLICIES);
    all.putAll(STANDALONE_ENVOY);
    all.putAll(ENDPOINT_PICKER);
    all.putAll(MONITORING);
    all.putAll(CONTROLLER_PORTS_AND_LEASE);
    all.putAll(ENVOY_GATEWAY);
    return all;
  }

  @Test
  void chartPassesStrictLint() {
    RenderedChart.assumeHelmLoads();
    LintResult lint = new Helm(RenderedChart.CHART).lint().strict().call();
    assertThat(lint.isFailed()).as("lint messages: %s", lint.getMessages()).isFalse();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("variants")
  void everyVariantRendersIntoModelObjectsWhoseReferencesResolve(
      String variant, Map<String, String> values) {
    RenderedChart chart = RenderedChart.render(values);

    assertThat(chart.kinds())
        .contains("Deployment", "Service", "ServiceAccount", "PodDisruptionBudget", "RoleBinding");
    assertThat(chart.objects()).allSatisfy(o -> assertThat(o.getMetadata().getName()).isNotBlank());
    for (Deployment deployment : chart.all(Deployment.class)) {
      assertProbesHitContainerPorts(deployment);
      assertRunsNonRootOnAReadOnlyRoot(deployment);
    }
    for (Service service : chart.all(Service.class)) {
      assertServiceReachesNamedContainerPorts(chart, service);
    }
    for (PodDisruptionBudget pdb : chart.all(PodDisruptionBudget.class)) {
      assertThat(selects(pdb.getSpec().getSelector().getMatchLabels(), chart)).isNotEmpty();
    }
    assertExtProcReachesTheControllerLinkApi(chart);
    assertRbacIsExactlyWhatTheControllerUses(chart);
  }

  @Test
  void defaultsRunTwoControllersWithALeaseAndScalableExtProc() {
    RenderedChart chart = RenderedChart.render(DEFAULTS);

    assertThat(chart.deployment(CONTROLLER).getSpec().getReplicas()).isEqualTo(2);
    assertThat(chart.deployment(EXT_PROC).getSpec().getReplicas()).isEqualTo(2);
    Container controller = onlyContainer(chart.deployment(CONTROLLER));
    assertThat(env(controller, "IBC_LEADER_ELECTION")).isEqualTo("true");
    assertThat(
            controller.getEnv().stream()
                .filter(e -> e.getName().equals("POD_NAMESPACE"))
                .map(e -> e.getValueFrom().getFieldRef().getFieldPath()))
        .containsExactly("metadata.namespace");
    Role leases = chart.one(Role.class, CONTROLLER + "-leader-election");
    assertThat(leases.getMetadata().getNamespace()).isEqualTo(NAMESPACE);
    assertThat(leases.getRules()).hasSize(2);
    assertThat(leases.getRules().get(0))
        .satisfies(
            rule -> {
              assertThat(rule.getApiGroups()).containsExactly("coordination.k8s.io");
              assertThat(rule.getResources()).containsExactly("leases");
              assertThat(rule.getVerbs()).containsExactlyInAnyOrder("get", "create", "patch");
            });
    // standbys read the Lease holder's Pod (its IP) to forward to the leader
    assertThat(leases.getRules().get(1))
        .satisfies(
            rule -> {
              assertThat(rule.getApiGroups()).containsExactly("");
              assertThat(rule.getResources()).containsExactly("pods");
              assertThat(rule.getVerbs()).containsExactly("get");
            });
    assertThat(chart.all(PodDisruptionBudget.class)).hasSize(2);
    assertThat(chart.kinds()).doesNotContain("NetworkPolicy", "Certificate", "ConfigMap");
    // the grpc probes are kubelet's native ones (grpc.health.v1) without TLS
    assertThat(onlyContainer(chart.deployment(EXT_PROC)).getReadinessProbe().getGrpc().getPort())
        .isEqualTo(9002);
    assertThat(env(onlyContainer(chart.deployment(EXT_PROC)), "IBC_EXTPROC_ROUTING_MODE"))
        .isEqualTo("ROUTING_HEADER");
  }

  @Test
  void tlsFromCertManagerIssuesOneCertificateForEveryGrpcServiceName() {
    RenderedChart chart = RenderedChart.render(TLS_CERT_MANAGER);

    GenericKubernetesResource certificate =
        chart.all(GenericKubernetesResource.class).stream()
            .filter(o -> o.getKind().equals("Certificate"))
            .findFirst()
            .orElseThrow();
    @SuppressWarnings("unchecked")
    List<String> dnsNames = (List<String>) certificate.get("spec", "dnsNames");
    assertThat(dnsNames)
        .contains(CONTROLLER + "." + NAMESPACE + ".svc", EXT_PROC + "." + NAMESPACE + ".svc");
    String secretName = certificate.get("spec", "secretName");
    assertMountsTlsSecret(chart.deployment(CONTROLLER), secretName);
    assertMountsTlsSecret(chart.deployment(EXT_PROC), secretName);
    // kubelet's grpc probe cannot speak TLS
    assertThat(onlyContainer(chart.deployment(EXT_PROC)).getReadinessProbe().getTcpSocket())
        .isNotNull();
  }

  @Test
  void controllerPortsAndLeaseReachTheControllersMainThroughItsEnvironment() {
    RenderedChart chart = RenderedChart.render(CONTROLLER_PORTS_AND_LEASE);

    Container container = onlyContainer(chart.deployment(CONTROLLER));
    Map<String, String> env = new TreeMap<>();
    container.getEnv().stream()
        .filter(e -> e.getValue() != null)
        .forEach(e -> env.put(e.getName(), e.getValue()));
    // what the kubelet fills in from the downward API
    env.put("POD_NAME", "ibc-controller-0");
    env.put("POD_NAMESPACE", NAMESPACE);
    ControllerConfig config = dev.inferencebudget.controller.Main.fromEnvironment(env).validate();
    assertThat(config.xdsPort()).isEqualTo(containerPort(container, "xds").getContainerPort());
    assertThat(config.linkApiPort())
        .isEqualTo(containerPort(container, "link-api").getContainerPort())
        .isEqualTo(9443);
    assertThat(config.metricsPort())
        .isEqualTo(containerPort(container, "metrics").getContainerPort());
    assertThat(config.leaderElection().leaseName()).isEqualTo("ibc-leader");
    assertThat(config.leaderElection().leaseNamespace()).isEqualTo(NAMESPACE);
    assertThat(config.leaderElection().identity()).isEqualTo("ibc-controller-0");
    assertThat(config.gpuObservation().gpuMemoryPerDeviceBytes()).isEqualTo(141L << 30);
    assertThat(servicePort(chart.service(CONTROLLER), "xds").getPort()).isEqualTo(18443);
  }

  @Test
  void tlsEnvironmentIsWhatTheProcessesReadAndEnvoyPresentsACertificate() throws Exception {
    RenderedChart chart = RenderedChart.render(everythingOn());

    for (String name : List.of(CONTROLLER, EXT_PROC)) {
      Container container = onlyContainer(chart.deployment(name));
      Map<String, String> env = new TreeMap<>();
      container.getEnv().stream()
          .filter(e -> e.getValue() != null)
          .forEach(e -> env.put(e.getName(), e.getValue()));
      GrpcTls tls = GrpcTls.fromEnvironment(env);
      assertThat(tls.directory()).contains(java.nio.file.Path.of("/etc/ibc/tls"));
      assertThat(tls.requireClientCertificates()).isTrue();
      // renewed certificates are picked up without a restart, at the period values.yaml sets
      assertThat(tls.reloadPeriod()).isEqualTo(java.time.Duration.ofSeconds(60));
    }
    GenericKubernetesResource certificate =
        chart.all(GenericKubernetesResource.class).stream()
            .filter(o -> o.getKind().equals("Certificate"))
            .findFirst()
            .orElseThrow();
    // a standby dials the leader by pod IP and checks its certificate against a name it covers
    Map<String, String> controllerEnv = new TreeMap<>();
    onlyContainer(chart.deployment(CONTROLLER)).getEnv().stream()
        .filter(e -> e.getValue() != null)
        .forEach(e -> controllerEnv.put(e.getName(), e.getValue()));
    @SuppressWarnings("unchecked")
    List<String> dnsNames = (List<String>) certificate.get("spec", "dnsNames");
    assertThat(
            dev.inferencebudget.controller.Main.peerTlsAuthority(
                controllerEnv, GrpcTls.fromEnvironment(controllerEnv), true))
        .hasValueSatisfying(
            authority ->
                assertThat(authority)
                    .isIn(dnsNames)
                    .isEqualTo(CONTROLLER + "." + NAMESPACE + ".svc"));
    // Netty reads PKCS#8 keys only
    assertThat((String) certificate.get("spec", "privateKey", "encoding")).isEqualTo("PKCS8");
    JsonNode bootstrap =
        new ObjectMapper(new YAMLFactory())
            .readTree(chart.one(ConfigMap.class, ENVOY).getData().get("envoy.yaml"));
    for (JsonNode cluster : bootstrap.at("/static_resources/clusters")) {
      if (cluster.has("transport_socket")) {
        JsonNode context = cluster.at("/transport_socket/typed_config/common_tls_context");
        assertThat(context.at("/tls_certificates/0/certificate_chain/filename").asText())
            .isEqualTo("/etc/ibc/tls/tls.crt");
        assertThat(context.at("/tls_certificates/0/private_key/filename").asText())
            .isEqualTo("/etc/ibc/tls/tls.key");
      }
    }
  }

  @Test
  void tlsFromAProvidedSecretMountsItAndIssuesNothing() {
    RenderedChart chart = RenderedChart.render(TLS_SECRET);

    assertThat(chart.kinds()).doesNotContain("Certificate");
    assertMountsTlsSecret(chart.deployment(CONTROLLER), "my-grpc-tls");
    assertMountsTlsSecret(chart.deployment(EXT_PROC), "my-grpc-tls");
    // the provided certificate's name for the controller
    assertThat(env(onlyContainer(chart.deployment(CONTROLLER)), "IBC_PEER_TLS_AUTHORITY"))
        .isEqualTo("controller.ibc.example");
  }

  @Test
  void networkPoliciesAdmitOnlyNamedPortsOfThePodsTheySelect() {
    RenderedChart chart = RenderedChart.render(NETWORK_POLICIES);

    List<NetworkPolicy> policies = chart.all(NetworkPolicy.class);
    assertThat(policies).hasSize(2);
    for (NetworkPolicy policy : policies) {
      List<Deployment> selected =
          selects(policy.getSpec().getPodSelector().getMatchLabels(), chart);
      assertThat(selected).hasSize(1);
      Set<String> portNames = containerPortNames(onlyContainer(selected.get(0)));
      policy
          .getSpec()
          .getIngress()
          .forEach(
              rule ->
                  rule.getPorts()
                      .forEach(port -> assertThat(portNames).contains(port.getPort().getStrVal())));
    }
    NetworkPolicy controller = chart.one(NetworkPolicy.class, CONTROLLER);
    assertThat(controller.getSpec().getEgress().get(0).getTo().get(0).getIpBlock().getCidr())
        .isEqualTo("10.0.0.1/32");
  }

  @Test
  void standaloneEnvoyPointsAtTheChartsServicesWithTheBootstrapsTimers() throws Exception {
    RenderedChart chart = RenderedChart.render(STANDALONE_ENVOY);

    JsonNode bootstrap =
        new ObjectMapper(new YAMLFactory())
            .readTree(chart.one(ConfigMap.class, ENVOY).getData().get("envoy.yaml"));
    assertClusterReachesServicePort(chart, bootstrap, "xds_cluster", CONTROLLER, "xds");
    assertClusterReachesServicePort(chart, bootstrap, "ext_proc_cluster", EXT_PROC, "grpc");
    JsonNode listener = bootstrap.at("/static_resources/listeners/0");
    assertThat(listener.at("/address/socket_address/port_value").asInt()).isEqualTo(8080);
    assertThat(listener.get("per_connection_buffer_limit_bytes").asLong()).isEqualTo(16777216L);
    Deployment envoy = chart.deployment(ENVOY);
    assertThat(onlyContainer(envoy).getArgs()).contains("--service-node", "$(POD_NAME)");
    assertThat(
            envoy.getSpec().getTemplate().getSpec().getVolumes().stream()
                .filter(v -> v.getConfigMap() != null)
                .map(v -> v.getConfigMap().getName()))
        .containsExactly(ENVOY);
  }

  @Test
  void endpointPickerModeReachesExtProc() {
    RenderedChart chart = RenderedChart.render(ENDPOINT_PICKER);

    assertThat(env(onlyContainer(chart.deployment(EXT_PROC)), "IBC_EXTPROC_ROUTING_MODE"))
        .isEqualTo("ENDPOINT_PICKER");
  }

  @Test
  void envoyGatewayPolicyAttachesExtProcToTheGatewayBufferedStreamedWithAMessageTimeoutOverTheHold()
      throws Exception {
    RenderedChart chart = RenderedChart.render(ENVOY_GATEWAY);

    JsonNode policy = only(chart, "EnvoyExtensionPolicy");
    assertThat(policy.at("/apiVersion").asText()).isEqualTo("gateway.envoyproxy.io/v1alpha1");
    assertThat(policy.at("/metadata/namespace").asText()).isEqualTo("gateway-system");
    JsonNode target = policy.at("/spec/targetRefs/0");
    assertThat(target.get("group").asText()).isEqualTo("gateway.networking.k8s.io");
    assertThat(target.get("kind").asText()).isEqualTo("Gateway");
    assertThat(target.get("name").asText()).isEqualTo("inference-gateway");
    JsonNode extProc = policy.at("/spec/extProc/0");
    JsonNode backend = extProc.at("/backendRefs/0");
    assertThat(backend.get("name").asText()).isEqualTo(EXT_PROC);
    assertThat(backend.get("namespace").asText()).isEqualTo(NAMESPACE);
    assertThat(backend.get("port").asInt())
        .isEqualTo(servicePort(chart.service(EXT_PROC), "grpc").getPort());
    assertThat(extProc.at("/processingMode/request/body").asText()).isEqualTo("Buffered");
    assertThat(extProc.at("/processingMode/response/body").asText()).isEqualTo("Streamed");
    assertThat(extProc.at("/failOpen").asBoolean(true)).isFalse();
    // ext-proc's longest hold is its maxMessageTimeout (900 s); Envoy must not time out first.
    assertThat(java.time.Duration.parse("PT" + extProc.get("messageTimeout").asText()))
        .isGreaterThanOrEqualTo(
            java.time.Duration.ofSeconds(
                Long.parseLong(
                    env(
                        onlyContainer(chart.deployment(EXT_PROC)),
                        "IBC_EXTPROC_MAX_MESSAGE_TIMEOUT_SECONDS"))));
    JsonNode grant = only(chart, "ReferenceGrant");
    assertThat(grant.at("/metadata/namespace").asText()).isEqualTo(NAMESPACE);
    assertThat(grant.at("/spec/from/0/kind").asText()).isEqualTo("EnvoyExtensionPolicy");
    assertThat(grant.at("/spec/from/0/namespace").asText()).isEqualTo("gateway-system");
    assertThat(grant.at("/spec/to/0/kind").asText()).isEqualTo("Service");
    assertThat(grant.at("/spec/to/0/name").asText()).isEqualTo(EXT_PROC);
    assertThat(env(onlyContainer(chart.deployment(CONTROLLER)), "IBC_XDS_WITHOUT_ENVOYS"))
        .isEqualTo("READY_ENDPOINT");
  }

  @Test
  void
      envoyGatewayTrafficPoliciesDeriveTheBufferAndIdleTimeoutFromExtProcAndRaiseItsCircuitBreaker()
          throws Exception {
    Map<String, String> values = new TreeMap<>(ENVOY_GATEWAY);
    for (Map<String, String> variant :
        List.of(
            values,
            with(values, "extProc.maxRequestBodyBytes", "67108864"),
            with(values, "extProc.maxMessageTimeoutSeconds", "3600"))) {
      RenderedChart chart = RenderedChart.render(variant);
      Container extProc = onlyContainer(chart.deployment(EXT_PROC));
      long maxBodyBytes = Long.parseLong(env(extProc, "IBC_EXTPROC_MAX_BODY_BYTES"));
      java.time.Duration longestHold =
          java.time.Duration.ofSeconds(
              Long.parseLong(env(extProc, "IBC_EXTPROC_MAX_MESSAGE_TIMEOUT_SECONDS")));

      JsonNode client = only(chart, "ClientTrafficPolicy");
      assertThat(client.at("/apiVersion").asText()).isEqualTo("gateway.envoyproxy.io/v1alpha1");
      assertThat(client.at("/metadata/namespace").asText()).isEqualTo("gateway-system");
      JsonNode target = client.at("/spec/targetRefs/0");
      assertThat(target.get("group").asText()).isEqualTo("gateway.networking.k8s.io");
      assertThat(target.get("kind").asText()).isEqualTo("Gateway");
      assertThat(target.get("name").asText()).isEqualTo("inference-gateway");
      // a Buffered body over the listener's buffer is a 413 before ext-proc sees it (spec rule 8);
      // the API accepts a quantity ("16Mi" or bytes), pattern from Envoy Gateway's CRD
      String bufferLimit = client.at("/spec/connection/bufferLimit").asText();
      assertThat(bufferLimit).matches("^[1-9]+[0-9]*([EPTGMK]i|[EPTGMk])?$");
      assertThat(
              io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(
                      new io.fabric8.kubernetes.api.model.Quantity(bufferLimit))
                  .longValueExact())
          .isGreaterThanOrEqualTo(maxBodyBytes);
      // a hold sees no stream activity: the idle timer must outlast it (spec rule 15)
      java.time.Duration streamIdle =
          java.time.Duration.parse(
              "PT" + client.at("/spec/timeout/http/streamIdleTimeout").asText());
      JsonNode policy = only(chart, "EnvoyExtensionPolicy");
      assertThat(streamIdle)
          .isGreaterThan(longestHold)
          .isGreaterThan(
              java.time.Duration.parse(
                  "PT" + policy.at("/spec/extProc/0/messageTimeout").asText()));
      assertThat(client.at("/spec/timeout/http").has("requestReceivedTimeout")).isFalse();

      // every request in ext-proc is one stream to it: the same thresholds as the standalone
      // bootstrap's ext_proc_cluster, far above Envoy's default 1024 (spec rule 19)
      JsonNode breaker = policy.at("/spec/extProc/0/backendSettings/circuitBreaker");
      JsonNode bootstrapBreaker = standaloneExtProcCircuitBreaker();
      assertThat(breaker.get("maxParallelRequests").asLong())
          .isEqualTo(bootstrapBreaker.get("max_requests").asLong())
          .isGreaterThan(1024);
      assertThat(breaker.get("maxPendingRequests").asLong())
          .isEqualTo(bootstrapBreaker.get("max_pending_requests").asLong());
      assertThat(breaker.get("maxConnections").asLong())
          .isEqualTo(bootstrapBreaker.get("max_connections").asLong());
    }
  }

  @Test
  void envoyGatewayTrafficPoliciesCanBeLeftToTheUser() throws Exception {
    Map<String, String> values = new TreeMap<>(ENVOY_GATEWAY);
    values.put("envoyGateway.clientTrafficPolicy.enabled", "false");
    values.put("envoyGateway.extProcCircuitBreaker", "null");
    RenderedChart chart = RenderedChart.render(values);

    assertThat(chart.kinds())
        .contains("EnvoyExtensionPolicy")
        .doesNotContain("ClientTrafficPolicy");
    assertThat(only(chart, "EnvoyExtensionPolicy").at("/spec/extProc/0").has("backendSettings"))
        .isFalse();
  }

  private static Map<String, String> with(Map<String, String> values, String key, String value) {
    Map<String, String> changed = new TreeMap<>(values);
    changed.put(key, value);
    return changed;
  }

  private static JsonNode standaloneExtProcCircuitBreaker() throws Exception {
    JsonNode bootstrap =
        new ObjectMapper(new YAMLFactory())
            .readTree(
                java.nio.file.Files.readString(
                    RenderedChart.CHART.resolve("files").resolve("envoy.yaml")));
    for (JsonNode cluster : bootstrap.at("/static_resources/clusters")) {
      if (cluster.get("name").asText().equals("ext_proc_cluster")) {
        return cluster.at("/circuit_breakers/thresholds/0");
      }
    }
    throw new AssertionError("no ext_proc_cluster in files/envoy.yaml");
  }

  @Test
  void envoyGatewayInTheReleaseNamespaceNeedsNoReferenceGrant() {
    RenderedChart chart =
        RenderedChart.render(
            Map.of("envoyGateway.enabled", "true", "envoyGateway.gateway.name", "gw"));

    assertThat(chart.kinds()).contains("EnvoyExtensionPolicy").doesNotContain("ReferenceGrant");
    assertThat(RenderedChart.render(DEFAULTS).kinds())
        .doesNotContain("EnvoyExtensionPolicy", "ReferenceGrant");
  }

  private static JsonNode only(RenderedChart chart, String kind) throws Exception {
    List<io.fabric8.kubernetes.api.model.HasMetadata> found =
        chart.objects().stream().filter(o -> kind.equals(o.getKind())).toList();
    assertThat(found).as(kind).hasSize(1);
    return new ObjectMapper(new YAMLFactory())
        .readTree(io.fabric8.kubernetes.client.utils.Serialization.asYaml(found.get(0)));
  }

  @Test
  void watchedNamespacesGetOneRoleEachAndNoClusterRole() {
    RenderedChart chart = RenderedChart.render(WATCHED_NAMESPACES);

    assertThat(chart.all(ClusterRole.class)).isEmpty();
    assertThat(
            chart.all(Role.class).stream()
                .filter(r -> r.getMetadata().getName().equals(CONTROLLER))
                .map(r -> r.getMetadata().getNamespace()))
        .containsExactlyInAnyOrder("team-a", "team-b");
    assertThat(env(onlyContainer(chart.deployment(CONTROLLER)), "IBC_NAMESPACES"))
        .isEqualTo("team-a,team-b");
  }

  @Test
  void monitorsScrapeNamedMetricsPortsOfThePodsTheySelect() {
    RenderedChart chart = RenderedChart.render(MONITORING);

    List<GenericKubernetesResource> monitors =
        chart.all(GenericKubernetesResource.class).stream()
            .filter(o -> o.getApiVersion().equals("monitoring.coreos.com/v1"))
            .filter(o -> o.getKind().endsWith("Monitor"))
            .toList();
    List<String> scraped = new ArrayList<>();
    for (GenericKubernetesResource monitor : monitors) {
      Map<String, String> selector = monitor.get("spec", "selector", "matchLabels");
      List<String> namespaces = monitor.get("spec", "namespaceSelector", "matchNames");
      assertThat(namespaces).containsExactly(NAMESPACE);
      if (monitor.getKind().equals("ServiceMonitor")) {
        List<Map<String, Object>> endpoints = monitor.get("spec", "endpoints");
        List<Service> services =
            chart.all(Service.class).stream()
                .filter(
                    s -> s.getMetadata().getLabels().entrySet().containsAll(selector.entrySet()))
                .toList();
        assertThat(services).as(monitor.getMetadata().getName()).hasSize(1);
        for (Map<String, Object> endpoint : endpoints) {
          servicePort(services.get(0), (String) endpoint.get("port"));
          scraped.add(services.get(0).getMetadata().getName() + " " + endpoint.get("path"));
        }
      } else if (monitor.getKind().equals("PodMonitor")) {
        List<Map<String, Object>> endpoints = monitor.get("spec", "podMetricsEndpoints");
        List<Deployment> pods = selects(selector, chart);
        assertThat(pods).as(monitor.getMetadata().getName()).hasSize(1);
        for (Map<String, Object> endpoint : endpoints) {
          assertThat(containerPortNames(onlyContainer(pods.get(0))))
              .contains((String) endpoint.get("port"));
          scraped.add(pods.get(0).getMetadata().getName() + " " + endpoint.get("path"));
        }
      }
    }
    assertThat(scraped)
        .contains(CONTROLLER + " /metrics", EXT_PROC + " /metrics", ENVOY + " /stats/prometheus");
    assertThat(chart.kinds()).contains("ServiceMonitor", "PodMonitor", "PrometheusRule");
  }

  @Test
  void standaloneEnvoyServesOnlyPrometheusStatsFromItsLoopbackAdmin() throws Exception {
    RenderedChart chart = RenderedChart.render(STANDALONE_ENVOY);

    JsonNode bootstrap =
        new ObjectMapper(new YAMLFactory())
            .readTree(chart.one(ConfigMap.class, ENVOY).getData().get("envoy.yaml"));
    assertThat(bootstrap.at("/admin/address/socket_address/address").asText())
        .isEqualTo("127.0.0.1");
    JsonNode stats = null;
    for (JsonNode listener : bootstrap.at("/static_resources/listeners")) {
      if (listener.get("name").asText().equals("stats")) {
        stats = listener;
      }
    }
    assertThat(stats).isNotNull();
    assertThat(stats.at("/address/socket_address/port_value").asInt())
        .isEqualTo(
            containerPort(onlyContainer(chart.deployment(ENVOY)), "stats").getContainerPort());
    JsonNode routes =
        stats.at("/filter_chains/0/filters/0/typed_config/route_config/virtual_hosts/0/routes");
    assertThat(routes).hasSize(1);
    assertThat(routes.at("/0/match/path").asText()).isEqualTo("/stats/prometheus");
    String cluster = routes.at("/0/route/cluster").asText();
    JsonNode admin = null;
    for (JsonNode c : bootstrap.at("/static_resources/clusters")) {
      if (c.get("name").asText().equals(cluster)) {
        admin = c;
      }
    }
    assertThat(admin).isNotNull();
    assertThat(
            admin.at("/load_assignment/endpoints/0/lb_endpoints/0/endpoint/address/socket_address"))
        .isEqualTo(bootstrap.at("/admin/address/socket_address"));
    // the stats port is not on the (possibly public) Envoy Service
    assertThat(chart.service(ENVOY).getSpec().getPorts())
        .noneMatch(p -> p.getTargetPort().getStrVal().equals("stats"));
  }

  static Stream<Arguments> badValues() {
    return Stream.of(
        Arguments.of(Map.of("extProc.routingMode", "ROUND_ROBIN")),
        Arguments.of(Map.of("extProc.ports.grpc", "70000")),
        Arguments.of(Map.of("extProc.maxMessageTimeoutSeconds", "7200")),
        Arguments.of(Map.of("controller.replicaCount", "3")),
        Arguments.of(Map.of("controller.leaderElection.enabled", "false")),
        Arguments.of(Map.of("tls.enabled", "true", "tls.source", "secret")),
        Arguments.of(Map.of("tls.enabled", "true")),
        Arguments.of(withTls("tls.reloadSeconds", "-1")),
        Arguments.of(Map.of("networkPolicies.apiServerCidrs[0]", "not-a-cidr")),
        Arguments.of(Map.of("controller.gpuMemoryPerDevice", "80 GB")),
        Arguments.of(Map.of("tls.enabled", "true", "tls.peerAuthority", "Not A Name")),
        Arguments.of(Map.of("monitoring.prometheusRule.budgetNearFullRatio", "1.5")),
        Arguments.of(Map.of("monitoring.serviceMonitor.interval", "often")),
        Arguments.of(Map.of("envoyGateway.enabled", "true")),
        Arguments.of(with(ENVOY_GATEWAY, "envoyGateway.extProcCircuitBreaker.maxRequests", "0")),
        Arguments.of(
            Map.of(
                "envoyGateway.enabled", "true",
                "envoyGateway.gateway.name", "gw",
                "envoyGateway.gateway.namespace", "Not_A_Namespace")));
  }

  private static Map<String, String> withTls(String key, String value) {
    Map<String, String> values = new TreeMap<>(TLS_CERT_MANAGER);
    values.put(key, value);
    return values;
  }

  @ParameterizedTest
  @MethodSource("badValues")
  void badValuesFailAtInstallTime(Map<String, String> values) {
    assertThatThrownBy(() -> RenderedChart.render(values)).isInstanceOf(RuntimeException.class);
  }

  private static void assertProbesHitContainerPorts(Deployment deployment) {
    Container container = onlyContainer(deployment);
    Set<Integer> ports = new TreeSet<>();
    container.getPorts().forEach(p -> ports.add(p.getContainerPort()));
    Set<String> names = containerPortNames(container);
    for (Probe probe :
        Stream.of(
                container.getStartupProbe(),
                container.getLivenessProbe(),
                container.getReadinessProbe())
            .filter(p -> p != null)
            .toList()) {
      if (probe.getGrpc() != null) {
        assertThat(ports).contains(probe.getGrpc().getPort());
      } else {
        var port = probe.getTcpSocket().getPort();
        if (port.getStrVal() != null) {
          assertThat(names).contains(port.getStrVal());
        } else {
          assertThat(ports).contains(port.getIntVal());
        }
      }
    }
    assertThat(container.getReadinessProbe())
        .as("%s readiness probe", deployment.getMetadata().getName())
        .isNotNull();
  }

  private static void assertRunsNonRootOnAReadOnlyRoot(Deployment deployment) {
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    Container container = onlyContainer(deployment);
    assertThat(container.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(container.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(container.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(container.getSecurityContext().getCapabilities().getAdd()).isNullOrEmpty();
    // the JVM's (and DJL's) temporary files go to an emptyDir
    assertThat(container.getVolumeMounts())
        .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/tmp"));
    assertThat(pod.getVolumes())
        .anySatisfy(
            v -> {
              assertThat(v.getName()).isEqualTo("tmp");
              assertThat(v.getEmptyDir()).isNotNull();
            });
  }

  private static void assertServiceReachesNamedContainerPorts(
      RenderedChart chart, Service service) {
    List<Deployment> selected = selects(service.getSpec().getSelector(), chart);
    assertThat(selected).as("pods behind Service %s", service.getMetadata().getName()).hasSize(1);
    Set<String> names = containerPortNames(onlyContainer(selected.get(0)));
    for (ServicePort port : service.getSpec().getPorts()) {
      assertThat(names).contains(port.getTargetPort().getStrVal());
    }
  }

  private static void assertExtProcReachesTheControllerLinkApi(RenderedChart chart) {
    String address = env(onlyContainer(chart.deployment(EXT_PROC)), "IBC_EXTPROC_CONTROLLER");
    String host = address.substring(0, address.lastIndexOf(':'));
    int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
    assertThat(host).isEqualTo(CONTROLLER + "." + NAMESPACE + ".svc");
    ServicePort linkApi = servicePort(chart.service(CONTROLLER), "link-api");
    assertThat(linkApi.getPort()).isEqualTo(port);
    assertThat(containerPort(onlyContainer(chart.deployment(CONTROLLER)), "link-api")).isNotNull();
  }

  private static void assertRbacIsExactlyWhatTheControllerUses(RenderedChart chart) {
    List<List<PolicyRule>> ruleSets = new ArrayList<>();
    chart.all(ClusterRole.class).forEach(r -> ruleSets.add(r.getRules()));
    chart.all(Role.class).stream()
        .filter(r -> r.getMetadata().getName().equals(CONTROLLER))
        .forEach(r -> ruleSets.add(r.getRules()));
    assertThat(ruleSets).isNotEmpty();
    for (List<PolicyRule> rules : ruleSets) {
      Map<String, Set<String>> granted = new TreeMap<>();
      for (PolicyRule rule : rules) {
        assertThat(rule.getVerbs()).doesNotContain("*");
        assertThat(rule.getResources()).doesNotContain("*");
        assertThat(rule.getApiGroups()).doesNotContain("*");
        assertThat(rule.getNonResourceURLs()).isNullOrEmpty();
        assertThat(rule.getResourceNames()).isNullOrEmpty();
        for (String group : rule.getApiGroups()) {
          for (String resource : rule.getResources()) {
            granted
                .computeIfAbsent(group + "/" + resource, k -> new TreeSet<>())
                .addAll(rule.getVerbs());
          }
        }
      }
      assertThat(granted).isEqualTo(new TreeMap<>(CONTROLLER_RULES));
    }
  }

  private static void assertClusterReachesServicePort(
      RenderedChart chart,
      JsonNode bootstrap,
      String clusterName,
      String serviceName,
      String portName) {
    JsonNode cluster = null;
    for (JsonNode c : bootstrap.at("/static_resources/clusters")) {
      if (c.get("name").asText().equals(clusterName)) {
        cluster = c;
      }
    }
    assertThat(cluster).as(clusterName).isNotNull();
    JsonNode socket =
        cluster.at("/load_assignment/endpoints/0/lb_endpoints/0/endpoint/address/socket_address");
    assertThat(socket.get("address").asText()).isEqualTo(serviceName + "." + NAMESPACE + ".svc");
    Service service = chart.service(serviceName);
    assertThat(servicePort(service, portName).getPort())
        .isEqualTo(socket.get("port_value").asInt());
  }

  private static void assertMountsTlsSecret(Deployment deployment, String secretName) {
    PodSpec pod = deployment.getSpec().getTemplate().getSpec();
    assertThat(pod.getVolumes().stream().filter(v -> v.getSecret() != null))
        .anySatisfy(v -> assertThat(v.getSecret().getSecretName()).isEqualTo(secretName));
    assertThat(onlyContainer(deployment).getVolumeMounts())
        .anySatisfy(m -> assertThat(m.getMountPath()).isEqualTo("/etc/ibc/tls"));
  }

  private static List<Deployment> selects(Map<String, String> selector, RenderedChart chart) {
    return chart.all(Deployment.class).stream()
        .filter(
            d ->
                d.getSpec()
                    .getTemplate()
                    .getMetadata()
                    .getLabels()
                    .entrySet()
                    .containsAll(selector.entrySet()))
        .toList();
  }

  private static Set<String> containerPortNames(Container container) {
    Set<String> names = new TreeSet<>();
    container.getPorts().forEach(p -> names.add(p.getName()));
    return names;
  }

  private static ContainerPort containerPort(Container container, String name) {
    return container.getPorts().stream()
        .filter(p -> name.equals(p.getName()))
        .findFirst()
        .orElse(null);
  }

  private static ServicePort servicePort(Service service, String name) {
    return service.getSpec().getPorts().stream()
        .filter(p -> p.getName().equals(name))
        .findFirst()
        .orElseThrow(
            () -> new AssertionError(service.getMetadata().getName() + " has no port " + name));
  }
}

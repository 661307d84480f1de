package dev.inferencebudget.harness.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/**
 * The chart rendered by embedded Helm ({@code helm template}) and parsed into fabric8 model
 * objects.
 *
 * @param yaml the rendered manifests as Helm printed them
 * @param objects every manifest, each parsed into its fabric8 model class (CRD instances such as a
 *     cert-manager Certificate into a generic resource)
 */
record RenderedChart(String yaml, List<HasMetadata> objects) {

  static final Path CHART = Path.of("..", "charts", "inference-budget-controller");
  static final String RELEASE = "ibc";
  static final String NAMESPACE = "ibc-system";
  static final String RELEASE_FULLNAME = "ibc-inference-budget-controller";
  static final String CONTROLLER = "ibc-inference-budget-controller-controller";
  static final String EXT_PROC = "ibc-inference-budget-controller-ext-proc";
  static final String ENVOY = "ibc-inference-budget-controller-envoy";

  private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");

  RenderedChart {
    Objects.requireNonNull(yaml, "yaml");
    objects = List.copyOf(objects);
  }

  /**
   * Skips the calling test when helm-java's native Helm library cannot load on this machine (it
   * ships per OS and architecture), rather than failing the build.
   */
  static void assumeHelmLoads() {
    Optional<Throwable> failure = HelmAvailability.FAILURE;
    Assumptions.assumeTrue(
        failure.isEmpty(),
        () -> "helm-java's native Helm library does not load here: " + failure.orElseThrow());
  }

  /** {@code helm template ibc <chart> -n ibc-system --set k=v ...}, parsed. */
  static RenderedChart render(Map<String, String> values) {
    assumeHelmLoads();
    TemplateCommand template =
        new Helm(CHART).template().withName(RELEASE).withNamespace(NAMESPACE);
    for (Map.Entry<String, String> value : values.entrySet()) {
      template = template.set(value.getKey(), value.getValue());
    }
    String yaml = template.call();
    List<HasMetadata> objects =
        Arrays.stream(DOCUMENT_SEPARATOR.split(yaml))
            .filter(RenderedChart::hasContent)
            .map(document -> (HasMetadata) Serialization.unmarshal(document))
            .toList();
    return new RenderedChart(yaml, objects);
  }

  private static boolean hasContent(String document) {
    return document
        .lines()
        .anyMatch(line -> !line.isBlank() && !line.stripLeading().startsWith("#"));
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  <T extends HasMetadata> T one(Class<T> type, String name) {
    List<T> named = all(type).stream().filter(o -> o.getMetadata().getName().equals(name)).toList();
    assertThat(named).as("%s %s", type.getSimpleName(), name).hasSize(1);
    return named.get(0);
  }

  List<String> kinds() {
    return objects.stream().map(HasMetadata::getKind).toList();
  }

  Deployment deployment(String name) {
    return one(Deployment.class, name);
  }

  Service service(String name) {
    return one(Service.class, name);
  }

  static Container onlyContainer(Deployment deployment) {
    List<Container> containers = deployment.getSpec().getTemplate().getSpec().getContainers();
    assertThat(containers).hasSize(1);
    return containers.get(0);
  }

  static String env(Container container, String name) {
    return container.getEnv().stream()
        .filter(e -> e.getName().equals(name))
        .findFirst()
        .orElseThrow(() -> new AssertionError(container.getName() + " has no env " + name))
        .getValue();
  }

  /** Loads the native library once per test JVM and remembers why it failed, if it did. */
  private static final class HelmAvailability {
    static final Optional<Throwable> FAILURE = probe();

    private static Optional<Throwable> probe() {
      try {
        Helm.version().call();
        return Optional.empty();
      } catch (LinkageError | RuntimeException e) {
        return Optional.of(e);
      }
    }
  }
}

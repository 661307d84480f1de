package dev.inferencebudget.harness.chart;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.inferencebudget.controller.k8s.DeploymentScaler;
import dev.inferencebudget.harness.cluster.EmbeddedApiServer;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The GitOps examples in {@code examples/gitops/} keep Argo CD and Flux from reverting what the
 * controller writes: the fields the controller's own scaler changes on a Deployment are exactly the
 * ones Argo CD is told to ignore, and every Deployment either tool applies leaves {@code
 * spec.replicas} out of Git.
 */
class GitOpsExamplesTest {

  private static final Path EXAMPLES = Path.of("..", "examples");
  private static final Path GITOPS = EXAMPLES.resolve("gitops");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern DOCUMENT_SEPARATOR = Pattern.compile("(?m)^---\\s*$");

  @Test
  void argoCdIgnoresExactlyTheDeploymentFieldsTheControllersScalerWrites() throws Exception {
    JsonNode application = YAML.readTree(GITOPS.resolve("argocd-application.yaml").toFile());
    assertThat(application.get("kind").asText()).isEqualTo("Application");
    Set<String> ignoredOnDeployments = ignoredPointers(application, "apps", "Deployment");

    Set<String> written = fieldsTheControllerWritesOnAScaleUp();

    assertThat(written).containsExactly("/spec/replicas");
    assertThat(ignoredOnDeployments).containsAll(written);
    assertThat(ignoredOnDeployments).containsExactly("/spec/replicas");
    // sync honours the ignore too, not only the diff
    assertThat(application.at("/spec/syncPolicy/syncOptions").toString())
        .contains("RespectIgnoreDifferences=true");
    // the status subresource the controller writes on its custom resources
    assertThat(ignoredPointers(application, "inferencebudget.dev", "BudgetedModel"))
        .containsExactly("/status");
    assertThat(ignoredPointers(application, "inferencebudget.dev", "InferenceBudget"))
        .containsExactly("/status");
  }

  @Test
  void everyDeploymentArgoCdSyncsLeavesReplicasToTheController() throws Exception {
    JsonNode application = YAML.readTree(GITOPS.resolve("argocd-application.yaml").toFile());
    Path source = Path.of("..").resolve(application.at("/spec/source/path").asText());
    String include = application.at("/spec/source/directory/include").asText();
    PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + include);
    List<Path> files;
    try (Stream<Path> all = Files.walk(source)) {
      files = all.filter(f -> matcher.matches(source.relativize(f))).sorted().toList();
    }

    List<Deployment> deployments = deployments(files);
    assertThat(deployments).hasSizeGreaterThanOrEqualTo(3);
    assertThat(deployments)
        .allSatisfy(d -> assertThat(d.getSpec().getReplicas()).as(name(d)).isNull());
    assertThat(files).anyMatch(f -> f.getFileName().toString().startsWith("budgetedmodel-"));
  }

  @Test
  void everyDeploymentFluxAppliesLeavesReplicasToTheController() throws Exception {
    JsonNode fluxKustomization = null;
    for (JsonNode document :
        YAML.readValues(
                YAML.createParser(GITOPS.resolve("flux-kustomization.yaml").toFile()),
                JsonNode.class)
            .readAll()) {
      if (document.get("kind").asText().equals("Kustomization")) {
        fluxKustomization = document;
      }
    }
    assertThat(fluxKustomization).isNotNull();
    Path directory = Path.of("..").resolve(fluxKustomization.at("/spec/path").asText());
    JsonNode kustomization = YAML.readTree(directory.resolve("kustomization.yaml").toFile());
    List<Path> files = new ArrayList<>();
    kustomization.get("resources").forEach(r -> files.add(directory.resolve(r.asText())));
    assertThat(files).allSatisfy(f -> assertThat(f).isRegularFile());

    List<Deployment> deployments = deployments(files);
    assertThat(deployments).hasSizeGreaterThanOrEqualTo(3);
    assertThat(deployments)
        .allSatisfy(d -> assertThat(d.getSpec().getReplicas()).as(name(d)).isNull());
  }

  /**
   * Applies an example Deployment as Git holds it (no spec.replicas; the API server would default
   * it to 1) to the mock API server, scales it with the controller's own scaler, and returns the
   * JSON pointers of every field that changed outside metadata bookkeeping.
   */
  private static Set<String> fieldsTheControllerWritesOnAScaleUp() throws Exception {
    try (EmbeddedApiServer api = EmbeddedApiServer.start()) {
      KubernetesClient client = api.client();
      Deployment deployment =
          deployments(List.of(EXAMPLES.resolve("deployments").resolve("vllm-llama-3-1-8b.yaml")))
              .get(0);
      deployment.getSpec().setReplicas(1); // the API server's default for an absent field
      Deployment before = client.resource(deployment).create();

      new DeploymentScaler(client, 0, () -> {})
          .scale(before.getMetadata().getNamespace(), before.getMetadata().getName(), 3);

      Deployment after =
          client
              .apps()
              .deployments()
              .inNamespace(before.getMetadata().getNamespace())
              .withName(before.getMetadata().getName())
              .get();
      Set<String> changed = new TreeSet<>();
      ObjectMapper json = new ObjectMapper();
      diff(
          json.readTree(Serialization.asJson(before)),
          json.readTree(Serialization.asJson(after)),
          "",
          changed);
      changed.removeIf(p -> p.startsWith("/metadata/") || p.startsWith("/status"));
      return changed;
    }
  }

  /** Adds the JSON pointer of every leaf that differs between {@code l} and {@code r}. */
  private static void diff(JsonNode l, JsonNode r, String pointer, Set<String> changed) {
    if (l.isObject() && r.isObject()) {
      Set<String> names = new TreeSet<>();
      l.fieldNames().forEachRemaining(names::add);
      r.fieldNames().forEachRemaining(names::add);
      for (String name : names) {
        diff(l.path(name), r.path(name), pointer + "/" + name, changed);
      }
    } else if (!l.equals(r)) {
      changed.add(pointer);
    }
  }

  private static Set<String> ignoredPointers(JsonNode application, String group, String kind) {
    Set<String> pointers = new TreeSet<>();
    for (JsonNode ignore : application.at("/spec/ignoreDifferences")) {
      if (ignore.path("group").asText("").equals(group)
          && ignore.path("kind").asText().equals(kind)) {
        ignore.path("jsonPointers").forEach(p -> pointers.add(p.asText()));
      }
    }
    return pointers;
  }

  private static List<Deployment> deployments(List<Path> files) throws Exception {
    List<Deployment> deployments = new ArrayList<>();
    for (Path file : files) {
      for (String document : DOCUMENT_SEPARATOR.split(Files.readString(file))) {
        if (document.lines().anyMatch(l -> !l.isBlank() && !l.stripLeading().startsWith("#"))
            && Serialization.unmarshal(document) instanceof Deployment d) {
          deployments.add(d);
        }
      }
    }
    return deployments;
  }

  private static String name(HasMetadata object) {
    return object.getMetadata().getNamespace() + "/" + object.getMetadata().getName();
  }
}

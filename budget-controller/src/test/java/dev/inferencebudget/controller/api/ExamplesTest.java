package dev.inferencebudget.controller.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.inferencebudget.controller.api.CrdSchemaValidator.Violation;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelSpec;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudget;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;

/**
 * Every manifest in {@code examples/} against the chart's CRDs, checked as the API server would
 * (schema defaults, structural schema, CEL rules) by {@link CrdSchemaValidator}: the positive ones
 * pass, and each one in {@code examples/invalid/} fails with exactly the error its annotations
 * name.
 */
class ExamplesTest {

  static final Path EXAMPLES = Path.of("..", "examples");
  static final Path INVALID = EXAMPLES.resolve("invalid");
  static final Path DEPLOYMENTS = EXAMPLES.resolve("deployments");

  private static final String EXPECTED_PATH = "inferencebudget.dev/expected-error-path";
  private static final String EXPECTED_KEYWORD = "inferencebudget.dev/expected-error-keyword";
  private static final String EXPECTED_MESSAGE = "inferencebudget.dev/expected-error";

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();
  private static final Map<String, CrdSchemaValidator> VALIDATORS =
      Map.of(
          "InferenceBudget", new CrdSchemaValidator(CrdFiles.chartCrd(InferenceBudget.class)),
          "BudgetedModel", new CrdSchemaValidator(CrdFiles.chartCrd(BudgetedModel.class)));

  static Stream<Path> validExamples() {
    return yamlFiles(EXAMPLES);
  }

  static Stream<Path> invalidExamples() {
    return yamlFiles(INVALID);
  }

  @ParameterizedTest(name = "{0} is valid")
  @MethodSource("validExamples")
  void validExamplePassesSchemaAndCelRulesAndConvertsExactly(Path file) {
    JsonNode manifest = readTree(file);

    assertThat(validator(manifest).validate(manifest)).as("violations of %s", file).isEmpty();

    HasMetadata resource = resource(file);
    if (resource instanceof InferenceBudget budget) {
      assertThat(budget.getSpec().gpuMemoryBytes()).isPositive();
    } else if (resource instanceof BudgetedModel model) {
      BudgetedModelSpec spec = model.getSpec();
      assertThat(spec.gpuMemoryPerReplicaBytes()).isPositive();
      assertThat(spec.scaleToZero().idleTimeoutDuration()).isPositive();
      assertThat(spec.scaling().panicWindowDuration())
          .isLessThanOrEqualTo(spec.scaling().stableWindowDuration());
      assertThat(spec.coldStart().holdTimeoutDuration()).isPositive();
      assertThat(spec.admission().queueWaitDuration()).isPositive();
      spec.schedules().forEach(schedule -> assertThat(schedule.zoneId()).isNotNull());
    }
  }

  @ParameterizedTest(name = "{0} is rejected for the reason it names")
  @MethodSource("invalidExamples")
  void invalidExampleIsRejectedForTheReasonItNames(Path file) {
    assertThat(read(file)).as("first line of %s states the reason", file).startsWith("# INVALID: ");
    JsonNode manifest = readTree(file);
    JsonNode annotations = manifest.path("metadata").path("annotations");
    String path = annotations.path(EXPECTED_PATH).asString(null);
    String keyword = annotations.path(EXPECTED_KEYWORD).asString(null);
    String message = annotations.path(EXPECTED_MESSAGE).asString(null);
    assertThat(List.of(String.valueOf(path), String.valueOf(keyword), String.valueOf(message)))
        .as("%s names the expected error in its annotations", file)
        .doesNotContain("null");

    List<Violation> violations = validator(manifest).validate(manifest);

    assertThat(violations)
        .as("violations of %s", file)
        .anySatisfy(
            violation -> {
              assertThat(violation.path()).isEqualTo(path);
              assertThat(violation.keyword()).isEqualTo(keyword);
              assertThat(violation.message()).contains(message);
            })
        // Nothing else is wrong with it: it fails for that reason alone.
        .allSatisfy(violation -> assertThat(violation.path()).startsWith(path));
  }

  @Test
  void invalidExamplesCoverEveryKindOfRule() {
    Set<String> keywords =
        invalidExamples()
            .map(
                file ->
                    readTree(file)
                        .path("metadata")
                        .path("annotations")
                        .path(EXPECTED_KEYWORD)
                        .asString())
            .collect(Collectors.toCollection(TreeSet::new));

    assertThat(keywords)
        .containsExactlyInAnyOrder(
            "required",
            "x-kubernetes-validations",
            "enum",
            "minimum",
            "maximum",
            "minItems",
            "pattern",
            "additionalProperties");
  }

  @Test
  void everyExampleModelPointsAtTheExampleBudgetAndAnExampleDeploymentServingItsNames() {
    List<Deployment> deployments = new ArrayList<>();
    yamlFiles(DEPLOYMENTS)
        .forEach(
            file -> {
              List<HasMetadata> objects = SERIALIZATION.unmarshal(read(file));
              objects.stream()
                  .filter(Deployment.class::isInstance)
                  .map(Deployment.class::cast)
                  .forEach(deployments::add);
            });
    List<InferenceBudget> budgets = resources(InferenceBudget.class);
    List<BudgetedModel> models = resources(BudgetedModel.class);
    assertThat(budgets).hasSize(1);
    assertThat(models).hasSize(3);

    for (BudgetedModel model : models) {
      String namespace = model.getMetadata().getNamespace();
      assertThat(model.getSpec().budgetRef().name())
          .isEqualTo(budgets.get(0).getMetadata().getName());
      assertThat(namespace).isEqualTo(budgets.get(0).getMetadata().getNamespace());
      Deployment target =
          deployments.stream()
              .filter(d -> d.getMetadata().getName().equals(model.getSpec().targetRef().name()))
              .filter(d -> namespace.equals(d.getMetadata().getNamespace()))
              .findFirst()
              .orElseThrow(
                  () ->
                      new AssertionError(
                          "no example Deployment for " + model.getMetadata().getName()));
      assertThat(target.getSpec().getReplicas())
          .as("the controller is the only writer of %s's replicas", target.getMetadata().getName())
          .isNull();
      assertThat(servedModelNames(target)).containsExactlyElementsOf(model.getSpec().modelNames());
    }
  }

  @Test
  void theExampleModelsAskForMoreThanTheBudgetSoItHasToChoose() {
    long budget = resources(InferenceBudget.class).get(0).getSpec().gpuMemoryBytes();
    long atMax =
        resources(BudgetedModel.class).stream()
            .mapToLong(m -> m.getSpec().gpuMemoryPerReplicaBytes() * m.getSpec().replicas().max())
            .sum();

    assertThat(atMax).isGreaterThan(budget);
  }

  // vLLM takes the names as one --served-model-name flag followed by the names, up to the next
  // flag.
  private static List<String> servedModelNames(Deployment deployment) {
    List<String> args =
        deployment.getSpec().getTemplate().getSpec().getContainers().get(0).getArgs();
    int flag = args.indexOf("--served-model-name");
    assertThat(flag)
        .as("--served-model-name in %s", deployment.getMetadata().getName())
        .isNotNegative();
    return args.subList(flag + 1, args.size()).stream()
        .takeWhile(arg -> !arg.startsWith("--"))
        .toList();
  }

  private static <T extends CustomResource<?, ?>> List<T> resources(Class<T> type) {
    return validExamples()
        .map(ExamplesTest::resource)
        .filter(type::isInstance)
        .map(type::cast)
        .toList();
  }

  /** Our resources by kind: the generic unmarshal does not know their classes. */
  private static HasMetadata resource(Path file) {
    String kind = readTree(file).path("kind").asString();
    return switch (kind) {
      case "InferenceBudget" -> SERIALIZATION.unmarshal(read(file), InferenceBudget.class);
      case "BudgetedModel" -> SERIALIZATION.unmarshal(read(file), BudgetedModel.class);
      default -> throw new AssertionError(file + " is a " + kind + ", not one of our resources");
    };
  }

  private static CrdSchemaValidator validator(JsonNode manifest) {
    String kind = manifest.path("kind").asString();
    assertThat(manifest.path("apiVersion").asString()).isEqualTo("inferencebudget.dev/v1alpha1");
    assertThat(VALIDATORS).as("a CRD for kind %s", kind).containsKey(kind);
    return VALIDATORS.get(kind);
  }

  private static Stream<Path> yamlFiles(Path directory) {
    try (Stream<Path> files = Files.list(directory)) {
      return files.filter(file -> file.toString().endsWith(".yaml")).sorted().toList().stream();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static JsonNode readTree(Path file) {
    return SERIALIZATION.unmarshal(read(file), JsonNode.class);
  }

  private static String read(Path file) {
    return CrdFiles.read(file);
  }
}

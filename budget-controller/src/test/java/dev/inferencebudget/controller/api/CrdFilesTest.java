package dev.inferencebudget.controller.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceColumnDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.client.CustomResource;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.FieldSource;

class CrdFilesTest {

  /**
   * {@code -Dibc.updateCrds=true} rewrites the chart's CRDs from the build instead of comparing
   * them.
   */
  private static final boolean UPDATE = Boolean.getBoolean("ibc.updateCrds");

  static final List<Class<? extends CustomResource<?, ?>>> RESOURCES = CrdFiles.RESOURCES;

  @ParameterizedTest
  @FieldSource("RESOURCES")
  void chartCrdEqualsTheOneGeneratedFromTheJavaClasses(Class<? extends CustomResource<?, ?>> type)
      throws IOException {
    Path file = CrdFiles.chartFile(type);
    String expected = CrdFiles.expectedChartText(type);
    if (UPDATE) {
      Files.createDirectories(file.getParent());
      Files.writeString(file, expected);
    }
    assertThat(file).as("chart CRD").exists();
    assertThat(CrdFiles.read(file))
        .as(
            "%s differs from the CRD generated from %s. Regenerate it with:%n  mvn -B -o -pl"
                + " budget-controller -am test -Dtest=CrdFilesTest -Dsurefire.failIfNoSpecifiedTests=false"
                + " -Dibc.updateCrds=true%nand commit the result",
            file.normalize(), type.getName())
        .isEqualTo(expected);
  }

  @Test
  void chartHoldsNoCrdThatIsNotGenerated() throws IOException {
    List<String> expected =
        RESOURCES.stream().map(CrdFiles::chartFile).map(Path::toString).sorted().toList();
    try (var files = Files.list(CrdFiles.CHART_CRDS)) {
      assertThat(files.map(Path::toString).sorted().toList()).isEqualTo(expected);
    }
  }

  @Test
  void budgetedModelsPrintStateReplicasReadyReservedLastRequestAndAgeInThatOrder() {
    assertThat(
            defaultColumns(
                CrdFiles.chartCrd(dev.inferencebudget.controller.api.v1alpha1.BudgetedModel.class)))
        .containsExactly("State", "Replicas", "Ready", "Reserved", "LastRequest", "Age");
  }

  @Test
  void inferenceBudgetsPrintUsedTotalPercentStateAndAge() {
    assertThat(
            defaultColumns(
                CrdFiles.chartCrd(
                    dev.inferencebudget.controller.api.v1alpha1.InferenceBudget.class)))
        .containsExactly("Used", "Total", "Used%", "State", "Age");
  }

  @ParameterizedTest
  @FieldSource("RESOURCES")
  void bothResourcesHaveAStatusSubresourceAndNoScaleSubresource(
      Class<? extends CustomResource<?, ?>> type) {
    CustomResourceDefinitionVersion version =
        CrdFiles.chartCrd(type).getSpec().getVersions().get(0);
    assertThat(version.getSubresources().getStatus()).isNotNull();
    assertThat(version.getSubresources().getScale()).isNull();
  }

  @Test
  void shortNamesAreIbAndBm() {
    CustomResourceDefinition budget =
        CrdFiles.chartCrd(dev.inferencebudget.controller.api.v1alpha1.InferenceBudget.class);
    CustomResourceDefinition model =
        CrdFiles.chartCrd(dev.inferencebudget.controller.api.v1alpha1.BudgetedModel.class);
    assertThat(budget.getSpec().getNames().getShortNames()).containsExactly("ib");
    assertThat(model.getSpec().getNames().getShortNames()).containsExactly("bm");
    assertThat(budget.getSpec().getScope()).isEqualTo("Namespaced");
    assertThat(model.getSpec().getScope()).isEqualTo("Namespaced");
  }

  private static List<String> defaultColumns(CustomResourceDefinition crd) {
    return crd.getSpec().getVersions().get(0).getAdditionalPrinterColumns().stream()
        .filter(column -> column.getPriority() == null || column.getPriority() == 0)
        .map(CustomResourceColumnDefinition::getName)
        .toList();
  }
}

package dev.inferencebudget.harness.cluster;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The project's CRDs (InferenceBudget, BudgetedModel) as budget-controller's crd-generator wrote
 * them onto the classpath, the same files the chart ships ({@code CrdFilesTest} keeps them equal).
 */
public final class Crds {
  private static final List<String> RESOURCES =
      List.of(
          "META-INF/fabric8/inferencebudgets.inferencebudget.dev-v1.yml",
          "META-INF/fabric8/budgetedmodels.inferencebudget.dev-v1.yml");

  private Crds() {}

  /**
   * Creates both CRDs and waits until each is Established (a real API server serves a CRD's
   * resources only then; the embedded one writes no status, which counts as established).
   */
  public static void register(KubernetesClient client, Duration timeout) {
    for (String resource : RESOURCES) {
      try (InputStream in = Crds.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalStateException(
              resource
                  + " is missing from the classpath (budget-controller's crd-generator output)");
        }
        for (HasMetadata crd : client.load(in).items()) {
          CustomResourceDefinition created =
              (CustomResourceDefinition) client.resource(crd).create();
          client
              .resource(created)
              .waitUntilCondition(Crds::established, timeout.toMillis(), TimeUnit.MILLISECONDS);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  private static boolean established(CustomResourceDefinition c) {
    return c.getStatus() == null
        || c.getStatus().getConditions() == null
        || c.getStatus().getConditions().isEmpty()
        || c.getStatus().getConditions().stream()
            .anyMatch(k -> "Established".equals(k.getType()) && "True".equals(k.getStatus()));
  }
}

package dev.inferencebudget.controller.k8s;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.PreferredSchedulingTerm;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

class NodeWarmthTest {

  private static List<PreferredSchedulingTerm> preferred(Deployment d) {
    return d.getSpec()
        .getTemplate()
        .getSpec()
        .getAffinity()
        .getNodeAffinity()
        .getPreferredDuringSchedulingIgnoredDuringExecution();
  }

  private static Deployment withUserPreference() {
    return new DeploymentBuilder(MockCluster.deployment("ns", "llama", 0))
        .editSpec()
        .editTemplate()
        .editSpec()
        .withNewAffinity()
        .withNewNodeAffinity()
        .addNewPreferredDuringSchedulingIgnoredDuringExecution()
        .withWeight(10)
        .withNewPreference()
        .addNewMatchExpression()
        .withKey("gpu.type")
        .withOperator("In")
        .withValues("h100")
        .endMatchExpression()
        .endPreference()
        .endPreferredDuringSchedulingIgnoredDuringExecution()
        .endNodeAffinity()
        .endAffinity()
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }

  @Test
  void theLastNodesArePreferredNextToTheUsersOwnPreference() {
    Deployment d = NodeWarmth.preferring(withUserPreference(), List.of("node-1", "node-2")).get();

    assertThat(preferred(d)).hasSize(2);
    PreferredSchedulingTerm ours = preferred(d).get(1);
    assertThat(ours.getWeight()).isEqualTo(NodeWarmth.WEIGHT);
    assertThat(ours.getPreference().getMatchExpressions().get(0).getKey())
        .isEqualTo("kubernetes.io/hostname");
    assertThat(ours.getPreference().getMatchExpressions().get(0).getValues())
        .containsExactly("node-1", "node-2");
    assertThat(d.getMetadata().getAnnotations())
        .containsEntry(NodeWarmth.ANNOTATION, "node-1,node-2");
  }

  @Test
  void theSameNodesChangeNothingAndNewNodesReplaceTheControllersTermOnly() {
    Deployment once = NodeWarmth.preferring(withUserPreference(), List.of("node-1")).get();

    assertThat(NodeWarmth.preferring(once, List.of("node-1"))).isEmpty();
    Deployment moved = NodeWarmth.preferring(once, List.of("node-3")).get();
    assertThat(preferred(moved)).hasSize(2);
    assertThat(preferred(moved).get(0).getWeight()).isEqualTo(10);
    assertThat(preferred(moved).get(1).getPreference().getMatchExpressions().get(0).getValues())
        .containsExactly("node-3");
  }

  @Test
  void aDeploymentWithoutAffinityGetsOne() {
    Deployment d =
        NodeWarmth.preferring(MockCluster.deployment("ns", "llama", 0), List.of("node-0")).get();
    assertThat(preferred(d))
        .singleElement()
        .extracting(PreferredSchedulingTerm::getWeight)
        .isEqualTo(100);
  }
}

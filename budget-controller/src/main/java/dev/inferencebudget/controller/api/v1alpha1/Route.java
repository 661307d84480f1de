package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/**
 * Asks the controller to generate a Gateway API HTTPRoute for the model (owned by the
 * BudgetedModel) that routes its requests, by the routing header, to the target's Service.
 *
 * @param parentRefs the Gateways (or listeners) the HTTPRoute attaches to
 */
public record Route(
    @Required
        @Size(min = 1, max = 32)
        @JsonPropertyDescription(
            "The Gateways (or their listeners) the generated HTTPRoute attaches to.")
        List<ParentRef> parentRefs) {

  public Route {
    parentRefs = parentRefs == null ? List.of() : List.copyOf(parentRefs);
  }
}

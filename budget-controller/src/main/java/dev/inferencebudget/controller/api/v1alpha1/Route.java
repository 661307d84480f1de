package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import java.util.List;

/**
 * Asks the controller to generate a Gateway API HTTPRoute for the model (owned by the
 * BudgetedModel) that routes its requests, by the routing header, to the target's Service.
 *
 * @param parentRefs the Gateways (or listeners) the HTTPRoute attaches to
 * @param backendRef the Service the route sends to; absent means the target's name and port 8000
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Route(
    @Required
        @Size(min = 1, max = 32)
        @JsonPropertyDescription(
            "The Gateways (or their listeners) the generated HTTPRoute attaches to.")
        List<ParentRef> parentRefs,
    @JsonPropertyDescription(
            "The Service the route sends the model's requests to; default: the Service named like"
                + " spec.targetRef, port 8000.")
        BackendRef backendRef) {

  public Route {
    parentRefs = parentRefs == null ? List.of() : List.copyOf(parentRefs);
  }
}

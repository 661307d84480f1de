package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * The workload the controller scales, in the model's namespace.
 *
 * @param kind only {@code Deployment} for now (default)
 * @param name the Deployment's name
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record TargetRef(
    @Default(Defaults.TARGET_KIND) @JsonPropertyDescription("The kind of the target (Deployment).")
        TargetKind kind,
    @Required
        @Size(min = 1, max = 253)
        @Pattern(Patterns.DNS_SUBDOMAIN)
        @JsonPropertyDescription(
            "The name of the vLLM Deployment to scale, in the model's namespace.")
        String name) {

  public TargetRef {
    kind = kind == null ? TargetKind.DEPLOYMENT : kind;
  }
}

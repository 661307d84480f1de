package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * A Gateway API {@code ParentReference}, with the same field names and defaults, so that it copies
 * one to one into the generated HTTPRoute.
 *
 * @param group default {@code gateway.networking.k8s.io}
 * @param kind default {@code Gateway}
 * @param namespace the parent's namespace; absent means the model's namespace
 * @param name the parent's name
 * @param sectionName a listener name of the Gateway, optional
 * @param port a listener port of the Gateway, optional
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ParentRef(
    @Default(Defaults.PARENT_REF_GROUP)
        @Size(max = 253)
        @JsonPropertyDescription("Default gateway.networking.k8s.io.")
        String group,
    @Default(Defaults.PARENT_REF_KIND)
        @Size(min = 1, max = 63)
        @JsonPropertyDescription("Default Gateway.")
        String kind,
    @Size(min = 1, max = 63)
        @Pattern(Patterns.DNS_LABEL)
        @JsonPropertyDescription("The parent's namespace; absent means the model's namespace.")
        String namespace,
    @Required @Size(min = 1, max = 253) @JsonPropertyDescription("The parent's name.") String name,
    @Size(min = 1, max = 253) @JsonPropertyDescription("A listener name of the Gateway.")
        String sectionName,
    @Min(1) @Max(65535) @JsonPropertyDescription("A listener port of the Gateway.") Integer port) {

  public ParentRef {
    group = group == null ? Defaults.PARENT_REF_GROUP : group;
    kind = kind == null ? Defaults.PARENT_REF_KIND : kind;
  }
}

package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;

/**
 * The Service in the model's namespace that the generated HTTPRoute sends the model's requests to.
 * Both fields are optional so the common layout (a Service named like the Deployment, vLLM's port)
 * needs no configuration.
 *
 * @param name the Service's name; absent means {@code spec.targetRef.name}
 * @param port the Service port; absent means {@value Defaults#ROUTE_BACKEND_PORT}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BackendRef(
    @Size(min = 1, max = 63)
        @Pattern(Patterns.DNS_LABEL)
        @JsonPropertyDescription(
            "The Service's name, in the model's namespace; default spec.targetRef.name.")
        String name,
    @Min(1) @Max(65535) @JsonPropertyDescription("The Service port; default 8000 (vLLM's).")
        Integer port) {}

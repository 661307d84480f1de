package dev.inferencebudget.controller.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;

/**
 * The {@link InferenceBudget} a model reserves memory from, in the model's namespace.
 *
 * @param name the budget's name
 */
public record BudgetRef(
    @Required
        @Size(min = 1, max = 253)
        @Pattern(Patterns.DNS_SUBDOMAIN)
        @JsonPropertyDescription("The name of the InferenceBudget in the model's namespace.")
        String name) {}

package dev.inferencebudget.xds.api;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A model the proxy should be able to route to, and its replicas.
 *
 * @param modelKey {@code namespace/name} of the BudgetedModel; ext-proc puts exactly this value in
 *     the routing header ({@link XdsConfig#routingHeader()})
 * @param endpoints every known replica, ready or not (an empty list is a model scaled to zero: its
 *     cluster and route stay, so the first request can be held and then routed)
 */
public record ModelEndpoints(String modelKey, List<Endpoint> endpoints) {

  /** Kubernetes namespace (DNS label) / object name (DNS subdomain). */
  private static final Pattern MODEL_KEY =
      Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?/[a-z0-9]([-a-z0-9.]*[a-z0-9])?");

  public ModelEndpoints {
    Objects.requireNonNull(modelKey, "modelKey");
    if (!MODEL_KEY.matcher(modelKey).matches()) {
      throw new IllegalArgumentException(
          "modelKey = \"" + modelKey + "\", must be namespace/name of a Kubernetes object");
    }
    endpoints = List.copyOf(Objects.requireNonNull(endpoints, "endpoints"));
  }

  /** Whether any replica is ready to serve. */
  public boolean hasReadyEndpoint() {
    return endpoints.stream().anyMatch(Endpoint::ready);
  }

  /** The ready replicas, in input order. */
  public List<Endpoint> readyEndpoints() {
    return endpoints.stream().filter(Endpoint::ready).toList();
  }
}

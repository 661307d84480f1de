package dev.inferencebudget.controller.k8s.route;

import dev.inferencebudget.controller.api.v1alpha1.BackendRef;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.Defaults;
import dev.inferencebudget.controller.api.v1alpha1.ParentRef;
import dev.inferencebudget.controller.api.v1alpha1.Route;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRef;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPBackendRefBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPHeaderMatchBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPPathMatchBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteMatch;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteMatchBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRule;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteSpec;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteSpecBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteTimeoutsBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReferenceBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The HTTPRoute a BudgetedModel asks for, as a value (no I/O). One rule: requests whose routing
 * header equals the model key go to the model's Service. ext-proc sets that header (and clears
 * Envoy's route cache) once it has admitted a request, so the route only ever sees admitted
 * requests; a client-supplied copy of the header is removed by ext-proc first.
 *
 * <p>Every field the API server would default is set explicitly, and {@link #normalized} fills the
 * same defaults into a route read back, so an unchanged route compares equal and is not rewritten
 * on every cycle.
 */
public final class DesiredRoutes {

  /** Label on every generated route: the informer watches only these. */
  public static final String MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";

  public static final String MANAGED_BY = "inference-budget-controller";

  /** Label naming the BudgetedModel (same namespace) a generated route belongs to. */
  public static final String MODEL_LABEL = "inferencebudget.dev/model";

  /**
   * Gateway API's "no timeout" (the spec: zero disables the timeout, or means the longest one the
   * implementation supports). A generation can stream for many minutes; the cold-start hold happens
   * in ext_proc before the route timeout starts (envoy-ext-proc spec rule 15).
   */
  static final String NO_TIMEOUT = "0s";

  private static final String SERVICE_KIND = "Service";
  private static final String CORE_GROUP = "";
  private static final int DEFAULT_WEIGHT = 1;
  private static final String PATH_PREFIX = "PathPrefix";
  private static final String EXACT = "Exact";

  private DesiredRoutes() {}

  /**
   * The route for {@code model}, or empty when its spec asks for none.
   *
   * @param routingHeader the header ext-proc sets to the model key ({@code x-ibc-model})
   */
  public static Optional<HTTPRoute> of(BudgetedModel model, String routingHeader) {
    if (model.getSpec() == null || model.getSpec().route() == null) {
      return Optional.empty();
    }
    Route route = model.getSpec().route();
    String namespace = model.getMetadata().getNamespace();
    String name = model.getMetadata().getName();
    BackendRef backend = route.backendRef();
    String service =
        backend != null && backend.name() != null
            ? backend.name()
            : model.getSpec().targetRef().name();
    int port =
        backend != null && backend.port() != null ? backend.port() : Defaults.ROUTE_BACKEND_PORT;
    List<ParentReference> parents = new ArrayList<>();
    for (ParentRef p : route.parentRefs()) {
      parents.add(parentReference(p));
    }
    HTTPRouteSpec spec =
        new HTTPRouteSpecBuilder()
            .withParentRefs(parents)
            .addNewRule()
            .withMatches(headerMatch(routingHeader, namespace + "/" + name))
            .withBackendRefs(
                new HTTPBackendRefBuilder()
                    .withGroup(CORE_GROUP)
                    .withKind(SERVICE_KIND)
                    .withName(service)
                    .withPort(port)
                    .withWeight(DEFAULT_WEIGHT)
                    .build())
            .withTimeouts(new HTTPRouteTimeoutsBuilder().withRequest(NO_TIMEOUT).build())
            .endRule()
            .build();
    return Optional.of(
        new HTTPRouteBuilder()
            .withNewMetadata()
            .withNamespace(namespace)
            .withName(name)
            .withLabels(Map.of(MANAGED_BY_LABEL, MANAGED_BY, MODEL_LABEL, name))
            .withOwnerReferences(ownerReference(model))
            .endMetadata()
            .withSpec(spec)
            .build());
  }

  /**
   * The model as the controlling owner: Kubernetes' garbage collector deletes the route with it.
   */
  public static OwnerReference ownerReference(BudgetedModel model) {
    return new OwnerReferenceBuilder()
        .withApiVersion(model.getApiVersion())
        .withKind(model.getKind())
        .withName(model.getMetadata().getName())
        .withUid(model.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }

  /** Our {@link ParentRef} to Gateway API's; field for field, defaults filled. */
  static ParentReference parentReference(ParentRef p) {
    return new ParentReferenceBuilder()
        .withGroup(p.group())
        .withKind(p.kind())
        .withNamespace(p.namespace())
        .withName(p.name())
        .withSectionName(p.sectionName())
        .withPort(p.port())
        .build();
  }

  private static HTTPRouteMatch headerMatch(String header, String value) {
    return new HTTPRouteMatchBuilder()
        .withPath(new HTTPPathMatchBuilder().withType(PATH_PREFIX).withValue("/").build())
        .withHeaders(
            new HTTPHeaderMatchBuilder().withType(EXACT).withName(header).withValue(value).build())
        .build();
  }

  /**
   * {@code spec} with the defaults the Gateway API CRD applies filled in (parentRef group and kind,
   * backendRef group, kind and weight, match type and path), for comparing a route read back from
   * the API server (or a store that does not default) with a desired one.
   */
  static HTTPRouteSpec normalized(HTTPRouteSpec spec) {
    if (spec == null) {
      return new HTTPRouteSpec();
    }
    HTTPRouteSpecBuilder b = new HTTPRouteSpecBuilder(spec);
    List<ParentReference> parents = new ArrayList<>();
    for (ParentReference p :
        spec.getParentRefs() == null ? List.<ParentReference>of() : spec.getParentRefs()) {
      parents.add(
          new ParentReferenceBuilder(p)
              .withGroup(p.getGroup() == null ? Defaults.PARENT_REF_GROUP : p.getGroup())
              .withKind(p.getKind() == null ? Defaults.PARENT_REF_KIND : p.getKind())
              .build());
    }
    b.withParentRefs(parents);
    List<HTTPRouteRule> rules = new ArrayList<>();
    for (HTTPRouteRule r : spec.getRules() == null ? List.<HTTPRouteRule>of() : spec.getRules()) {
      List<HTTPRouteMatch> matches = new ArrayList<>();
      for (HTTPRouteMatch m : r.getMatches() == null ? List.<HTTPRouteMatch>of() : r.getMatches()) {
        List<HTTPHeaderMatch> headers = new ArrayList<>();
        for (HTTPHeaderMatch h :
            m.getHeaders() == null ? List.<HTTPHeaderMatch>of() : m.getHeaders()) {
          headers.add(
              new HTTPHeaderMatchBuilder(h)
                  .withType(h.getType() == null ? EXACT : h.getType())
                  .build());
        }
        HTTPRouteMatchBuilder mb = new HTTPRouteMatchBuilder(m).withHeaders(headers);
        if (m.getPath() == null) {
          mb.withPath(new HTTPPathMatchBuilder().withType(PATH_PREFIX).withValue("/").build());
        }
        matches.add(mb.build());
      }
      List<HTTPBackendRef> backends = new ArrayList<>();
      for (HTTPBackendRef br :
          r.getBackendRefs() == null ? List.<HTTPBackendRef>of() : r.getBackendRefs()) {
        backends.add(
            new HTTPBackendRefBuilder(br)
                .withGroup(br.getGroup() == null ? CORE_GROUP : br.getGroup())
                .withKind(br.getKind() == null ? SERVICE_KIND : br.getKind())
                .withWeight(br.getWeight() == null ? DEFAULT_WEIGHT : br.getWeight())
                .build());
      }
      rules.add(
          new io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteRuleBuilder(r)
              .withMatches(matches)
              .withBackendRefs(backends)
              .build());
    }
    b.withRules(rules);
    return b.build();
  }
}

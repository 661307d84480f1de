package dev.inferencebudget.controller.k8s.route;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.BudgetedModelStatus;
import dev.inferencebudget.controller.k8s.Conflicts;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.MixedOperation;
import io.fabric8.kubernetes.client.dsl.Resource;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one generated HTTPRoute per BudgetedModel that sets {@code spec.route}: creates it, brings
 * it back to the desired spec when it differs (update with the resourceVersion read, retried on
 * 409), deletes it when the model drops {@code spec.route} or is gone (the owner reference lets
 * Kubernetes' garbage collector do the same; deleting here also covers a cluster where it lags),
 * and reports acceptance from the route's status in the model's {@code RouteAccepted} condition.
 *
 * <p>An informer watches only the routes labelled {@value DesiredRoutes#MANAGED_BY_LABEL}={@value
 * DesiredRoutes#MANAGED_BY}; a route of the same name that the controller did not create is never
 * touched (the model's condition says so). The informer does not hold up the controller's start:
 * where the Gateway API is not installed it keeps retrying, models asking for a route report {@code
 * RouteAccepted=Unknown}, and everything else works.
 *
 * <p>{@link #reconcile} and {@link #withCondition} run on the reconciler thread only.
 */
public final class HttpRouteReconciler implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(HttpRouteReconciler.class);

  private final KubernetesClient client;
  private final List<String> namespaces;
  private final String routingHeader;
  private final int conflictRetries;
  private final Runnable onConflict;
  private final Runnable onChange;
  private final List<SharedIndexInformer<HTTPRoute>> informers = new ArrayList<>();
  // Confined to the reconciler thread: why a model's route could not be written, by model key.
  private final Map<String, String> writeFailures = new HashMap<>();

  /**
   * @param namespaces the watched namespaces (empty: all)
   * @param routingHeader the header ext-proc sets to the model key
   * @param onConflict called for each 409 retried (a metric)
   * @param onChange called on every change of a generated route (asks for a cycle)
   */
  public HttpRouteReconciler(
      KubernetesClient client,
      List<String> namespaces,
      String routingHeader,
      int conflictRetries,
      Runnable onConflict,
      Runnable onChange) {
    this.client = Objects.requireNonNull(client, "client");
    this.namespaces = List.copyOf(Objects.requireNonNull(namespaces, "namespaces"));
    this.routingHeader = Objects.requireNonNull(routingHeader, "routingHeader");
    this.conflictRetries = conflictRetries;
    this.onConflict = Objects.requireNonNull(onConflict, "onConflict");
    this.onChange = Objects.requireNonNull(onChange, "onChange");
  }

  /** Starts the informers without waiting for them (see the class comment). */
  public void start() {
    ResourceEventHandler<HTTPRoute> handler =
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(HTTPRoute obj) {
            onChange.run();
          }

          @Override
          public void onUpdate(HTTPRoute oldObj, HTTPRoute newObj) {
            onChange.run();
          }

          @Override
          public void onDelete(HTTPRoute obj, boolean deletedFinalStateUnknown) {
            onChange.run();
          }
        };
    List<String> scopes =
        namespaces.isEmpty() ? java.util.Collections.singletonList(null) : namespaces;
    for (String ns : scopes) {
      var resources = ns == null ? routes().inAnyNamespace() : routes().inNamespace(ns);
      SharedIndexInformer<HTTPRoute> informer =
          resources
              .withLabel(DesiredRoutes.MANAGED_BY_LABEL, DesiredRoutes.MANAGED_BY)
              .runnableInformer(0);
      informer.addEventHandler(handler);
      // Keep listing when the HTTPRoute API is missing (404) or forbidden: it may be installed
      // later.
      informer.exceptionHandler(
          (started, t) -> {
            log.debug("HTTPRoute informer: {}", t.toString());
            return true;
          });
      informers.add(informer);
      informer.start();
    }
  }

  /** Whether every informer has listed once, so the cache can be trusted (absence means absent). */
  public boolean synced() {
    return !informers.isEmpty() && informers.stream().allMatch(SharedIndexInformer::hasSynced);
  }

  /**
   * Brings the generated routes in line with {@code models} (every BudgetedModel in the watched
   * namespaces). Leader only. Does nothing until the informers have synced.
   */
  public void reconcile(List<BudgetedModel> models) {
    if (!synced()) {
      return;
    }
    writeFailures.clear();
    Set<String> wanted = new HashSet<>();
    for (BudgetedModel model : models) {
      Optional<HTTPRoute> desired = DesiredRoutes.of(model, routingHeader);
      if (desired.isEmpty()) {
        continue;
      }
      String key = key(model);
      wanted.add(key);
      try {
        ensure(desired.get(), cached(key));
      } catch (KubernetesClientException | RouteNameTaken e) {
        log.warn("HTTPRoute {} not written: {}", key, e.getMessage());
        writeFailures.put(key, e.getMessage());
      }
    }
    for (HTTPRoute route : cachedRoutes()) {
      String key = key(route);
      if (!wanted.contains(key)) {
        try {
          routes()
              .inNamespace(route.getMetadata().getNamespace())
              .withName(route.getMetadata().getName())
              .delete();
        } catch (KubernetesClientException e) {
          log.warn("HTTPRoute {} not deleted: {}", key, e.getMessage());
        }
      }
    }
  }

  /**
   * {@code next} with the model's {@value RouteAcceptance#CONDITION} condition set from the route
   * as cached (or removed when the model asks for no route). The transition time stays while the
   * condition's status does.
   */
  public BudgetedModelStatus withCondition(
      BudgetedModel model, BudgetedModelStatus next, Instant now) {
    List<Condition> conditions = new ArrayList<>(next.conditions());
    conditions.removeIf(c -> RouteAcceptance.CONDITION.equals(c.getType()));
    Optional<RouteAcceptance.Verdict> verdict = verdict(model);
    if (verdict.isPresent()) {
      RouteAcceptance.Verdict v = verdict.get();
      String transition = now.toString();
      List<Condition> old = model.getStatus() == null ? List.of() : model.getStatus().conditions();
      for (Condition c : old) {
        if (RouteAcceptance.CONDITION.equals(c.getType()) && v.status().equals(c.getStatus())) {
          transition = c.getLastTransitionTime();
        }
      }
      conditions.add(
          new ConditionBuilder()
              .withType(RouteAcceptance.CONDITION)
              .withStatus(v.status())
              .withReason(v.reason())
              .withMessage(v.message())
              .withObservedGeneration(next.observedGeneration())
              .withLastTransitionTime(transition)
              .build());
    }
    return next.withConditions(conditions);
  }

  /** The route acceptance verdict for a model, empty when it asks for no route. */
  public Optional<RouteAcceptance.Verdict> verdict(BudgetedModel model) {
    Optional<HTTPRoute> desired = DesiredRoutes.of(model, routingHeader);
    if (desired.isEmpty()) {
      return Optional.empty();
    }
    String key = key(model);
    if (!synced()) {
      return Optional.of(
          RouteAcceptance.Verdict.pending(
              "the HTTPRoute API has not been listed yet (is the Gateway API installed, and may"
                  + " the controller list httproutes.gateway.networking.k8s.io?)"));
    }
    String failure = writeFailures.get(key);
    if (failure != null) {
      return Optional.of(new RouteAcceptance.Verdict("False", "RouteNotWritten", failure));
    }
    HTTPRoute route = cached(key);
    if (route == null) {
      return Optional.of(RouteAcceptance.Verdict.pending("HTTPRoute " + key + " not created yet"));
    }
    return Optional.of(RouteAcceptance.of(route, desired.get().getSpec().getParentRefs()));
  }

  private void ensure(HTTPRoute desired, HTTPRoute cached) {
    if (cached != null && upToDate(desired, cached)) {
      return;
    }
    String ns = desired.getMetadata().getNamespace();
    String name = desired.getMetadata().getName();
    Conflicts.retry(
        conflictRetries,
        onConflict,
        () -> {
          HTTPRoute current = routes().inNamespace(ns).withName(name).get();
          if (current == null) {
            return routes().resource(desired).create();
          }
          if (!managed(current)) {
            throw new RouteNameTaken(
                "an HTTPRoute "
                    + ns
                    + "/"
                    + name
                    + " exists that the controller did not create (no label "
                    + DesiredRoutes.MANAGED_BY_LABEL
                    + "="
                    + DesiredRoutes.MANAGED_BY
                    + "); it is left alone: rename it or the BudgetedModel");
          }
          if (upToDate(desired, current)) {
            return current;
          }
          Map<String, String> labels = new LinkedHashMap<>();
          if (current.getMetadata().getLabels() != null) {
            labels.putAll(current.getMetadata().getLabels());
          }
          labels.putAll(desired.getMetadata().getLabels());
          HTTPRoute updated =
              new HTTPRouteBuilder(current)
                  .editMetadata()
                  .withLabels(labels)
                  .withOwnerReferences(desired.getMetadata().getOwnerReferences())
                  .endMetadata()
                  .withSpec(desired.getSpec())
                  .build();
          return routes().resource(updated).update();
        });
  }

  private static boolean upToDate(HTTPRoute desired, HTTPRoute actual) {
    Map<String, String> labels =
        actual.getMetadata().getLabels() == null ? Map.of() : actual.getMetadata().getLabels();
    return labels.entrySet().containsAll(desired.getMetadata().getLabels().entrySet())
        && Objects.equals(
            desired.getMetadata().getOwnerReferences(), actual.getMetadata().getOwnerReferences())
        && DesiredRoutes.normalized(desired.getSpec())
            .equals(DesiredRoutes.normalized(actual.getSpec()));
  }

  private static boolean managed(HTTPRoute route) {
    Map<String, String> labels = route.getMetadata().getLabels();
    return labels != null
        && DesiredRoutes.MANAGED_BY.equals(labels.get(DesiredRoutes.MANAGED_BY_LABEL));
  }

  private HTTPRoute cached(String key) {
    for (SharedIndexInformer<HTTPRoute> informer : informers) {
      HTTPRoute found = informer.getStore().getByKey(key);
      if (found != null) {
        return found;
      }
    }
    return null;
  }

  private List<HTTPRoute> cachedRoutes() {
    List<HTTPRoute> all = new ArrayList<>();
    for (SharedIndexInformer<HTTPRoute> informer : informers) {
      all.addAll(informer.getStore().list());
    }
    return all;
  }

  private MixedOperation<
          HTTPRoute,
          io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteList,
          Resource<HTTPRoute>>
      routes() {
    return client.resources(
        HTTPRoute.class, io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRouteList.class);
  }

  private static String key(io.fabric8.kubernetes.api.model.HasMetadata r) {
    return r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::close);
  }

  /** A route of the model's name exists and is not the controller's. */
  private static final class RouteNameTaken extends RuntimeException {
    RouteNameTaken(String message) {
      super(message);
    }
  }
}

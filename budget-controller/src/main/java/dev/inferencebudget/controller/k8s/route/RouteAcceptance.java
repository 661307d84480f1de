package dev.inferencebudget.controller.k8s.route;

import dev.inferencebudget.controller.api.v1alpha1.Defaults;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.HTTPRoute;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.ParentReference;
import io.fabric8.kubernetes.api.model.gatewayapi.v1.RouteParentStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Reads a generated HTTPRoute's {@code status.parents} (written by the Gateway's controller, one
 * entry per parent it handles) into one verdict for the model's {@code RouteAccepted} condition:
 * True when every requested parent reports {@code Accepted=True} and no {@code ResolvedRefs=False};
 * False when a parent refuses the route or cannot resolve its backend (with that parent's reason);
 * Unknown while a parent has not reported on the current generation of the route.
 */
public final class RouteAcceptance {

  /** The BudgetedModel condition type. */
  public static final String CONDITION = "RouteAccepted";

  static final String ACCEPTED = "Accepted";
  static final String RESOLVED_REFS = "ResolvedRefs";

  private RouteAcceptance() {}

  /**
   * The condition's status ({@code True}, {@code False}, {@code Unknown}), reason and message.
   *
   * @param status the Kubernetes condition status text
   */
  public record Verdict(String status, String reason, String message) {
    public Verdict {
      Objects.requireNonNull(status, "status");
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(message, "message");
    }

    static Verdict pending(String message) {
      return new Verdict("Unknown", "Pending", message);
    }
  }

  /**
   * The verdict for {@code route} as observed, which the controller generated from {@code wanted}.
   */
  public static Verdict of(HTTPRoute route, List<ParentReference> wanted) {
    String routeNamespace = route.getMetadata().getNamespace();
    String routeName = routeNamespace + "/" + route.getMetadata().getName();
    Long generation = route.getMetadata().getGeneration();
    List<RouteParentStatus> reported =
        route.getStatus() == null || route.getStatus().getParents() == null
            ? List.of()
            : route.getStatus().getParents();
    List<String> accepted = new ArrayList<>();
    List<String> waiting = new ArrayList<>();
    for (ParentReference parent : wanted) {
      String parentName = describe(parent, routeNamespace);
      RouteParentStatus status = find(reported, parent, routeNamespace);
      Condition acceptedCondition = status == null ? null : condition(status, ACCEPTED);
      if (acceptedCondition == null || stale(acceptedCondition, generation)) {
        waiting.add(parentName);
        continue;
      }
      if (!"True".equals(acceptedCondition.getStatus())) {
        return new Verdict(
            "False",
            reasonOr(acceptedCondition, "NotAccepted"),
            parentName
                + " does not accept HTTPRoute "
                + routeName
                + ": "
                + text(acceptedCondition));
      }
      Condition resolved = condition(status, RESOLVED_REFS);
      if (resolved != null
          && !stale(resolved, generation)
          && "False".equals(resolved.getStatus())) {
        return new Verdict(
            "False",
            reasonOr(resolved, "RefNotResolved"),
            parentName
                + " cannot resolve the backend of HTTPRoute "
                + routeName
                + ": "
                + text(resolved));
      }
      accepted.add(parentName);
    }
    if (!waiting.isEmpty()) {
      return Verdict.pending(
          "HTTPRoute "
              + routeName
              + " is waiting for "
              + String.join(", ", waiting)
              + " to report on it (is a Gateway controller running for that Gateway?)");
    }
    return new Verdict(
        "True", ACCEPTED, "HTTPRoute " + routeName + " accepted by " + String.join(", ", accepted));
  }

  private static RouteParentStatus find(
      List<RouteParentStatus> reported, ParentReference wanted, String routeNamespace) {
    for (RouteParentStatus s : reported) {
      if (s.getParentRef() != null && sameParent(s.getParentRef(), wanted, routeNamespace)) {
        return s;
      }
    }
    return null;
  }

  /**
   * Gateway API's parentRef identity: group, kind, namespace (default the route's), name, section,
   * port.
   */
  static boolean sameParent(ParentReference a, ParentReference b, String routeNamespace) {
    return Objects.equals(
            orDefault(a.getGroup(), Defaults.PARENT_REF_GROUP),
            orDefault(b.getGroup(), Defaults.PARENT_REF_GROUP))
        && Objects.equals(
            orDefault(a.getKind(), Defaults.PARENT_REF_KIND),
            orDefault(b.getKind(), Defaults.PARENT_REF_KIND))
        && Objects.equals(
            orDefault(a.getNamespace(), routeNamespace),
            orDefault(b.getNamespace(), routeNamespace))
        && Objects.equals(a.getName(), b.getName())
        && Objects.equals(a.getSectionName(), b.getSectionName())
        && Objects.equals(a.getPort(), b.getPort());
  }

  private static Condition condition(RouteParentStatus status, String type) {
    if (status.getConditions() == null) {
      return null;
    }
    for (Condition c : status.getConditions()) {
      if (type.equals(c.getType())) {
        return c;
      }
    }
    return null;
  }

  /** A condition written for an older generation of the route says nothing about this one. */
  private static boolean stale(Condition c, Long generation) {
    return generation != null
        && c.getObservedGeneration() != null
        && c.getObservedGeneration() < generation;
  }

  private static String describe(ParentReference p, String routeNamespace) {
    String kind = orDefault(p.getKind(), Defaults.PARENT_REF_KIND);
    String text = kind + " " + orDefault(p.getNamespace(), routeNamespace) + "/" + p.getName();
    if (p.getSectionName() != null) {
      text += " listener " + p.getSectionName();
    }
    if (p.getPort() != null) {
      text += " port " + p.getPort();
    }
    return text;
  }

  private static String reasonOr(Condition c, String fallback) {
    return c.getReason() == null || c.getReason().isBlank() ? fallback : c.getReason();
  }

  private static String text(Condition c) {
    String reason = c.getReason() == null ? "" : c.getReason();
    String message = c.getMessage() == null ? "" : c.getMessage();
    return message.isBlank() ? reason : reason.isBlank() ? message : reason + " (" + message + ")";
  }

  private static String orDefault(String value, String fallback) {
    return value == null ? fallback : value;
  }
}

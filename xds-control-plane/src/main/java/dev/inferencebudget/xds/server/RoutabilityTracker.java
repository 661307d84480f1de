package dev.inferencebudget.xds.server;

import dev.inferencebudget.xds.api.RoutabilityListener;
import dev.inferencebudget.xds.api.XdsConfig.WithoutEnvoys;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Decides which models are routable from what each connected client has ACKed.
 *
 * <p>A client counts for a model once it has finished its initial sync (before that Envoy serves
 * nothing, and counting it would make every model flap when an Envoy connects) and subscribes to
 * the model's cluster (Envoy subscribes to every cluster with a wildcard CDS request; a proxyless
 * gRPC client only to the ones it uses). A model is routable when it has a ready replica and every
 * client that counts for it has ACKed
 *
 * <ul>
 *   <li>the cluster, at a version no older than the one that created it,
 *   <li>endpoints at a version no older than the one where the current unbroken run of "has a ready
 *       replica" began (an Envoy still on an earlier, empty assignment cannot send there),
 *   <li>and, if it subscribes to the HTTP route table, a route table no older than the one that
 *       added the model's route.
 * </ul>
 *
 * With no client counting for a model, {@link WithoutEnvoys} decides.
 *
 * <p>{@link #setModels} and {@link #onStateChanged} are called with the cache's lock held, so they
 * see one consistent state; queries read an immutable set; listeners are called in order through
 * the given sequential executor.
 */
public final class RoutabilityTracker implements AdsCache.Observer {

  /**
   * What routability needs to know about one model, as versions of the served resources.
   *
   * @param clusterName the model's cluster (and endpoints) resource name
   * @param clusterSince version of the cluster when it was created
   * @param readySince version of the endpoints where the current run with a ready replica began, or
   *     {@link ClientView#NONE} without a ready replica
   * @param routeSince version of the route table that added the model's route
   */
  public record ModelVersions(
      String clusterName, long clusterSince, long readySince, long routeSince) {
    public ModelVersions {
      Objects.requireNonNull(clusterName, "clusterName");
    }
  }

  private final String routeConfigName;
  private final WithoutEnvoys withoutEnvoys;
  private final Executor notifications;
  private final List<RoutabilityListener> listeners = new CopyOnWriteArrayList<>();
  private Map<String, ModelVersions> models = Map.of();
  private volatile Set<String> routable = Set.of();

  /**
   * @param notifications runs listener calls; must run tasks one at a time in submission order
   */
  public RoutabilityTracker(
      String routeConfigName, WithoutEnvoys withoutEnvoys, Executor notifications) {
    this.routeConfigName = Objects.requireNonNull(routeConfigName, "routeConfigName");
    this.withoutEnvoys = Objects.requireNonNull(withoutEnvoys, "withoutEnvoys");
    this.notifications = Objects.requireNonNull(notifications, "notifications");
  }

  public void addListener(RoutabilityListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  public void removeListener(RoutabilityListener listener) {
    listeners.remove(listener);
  }

  public boolean isRoutable(String modelKey) {
    return routable.contains(modelKey);
  }

  public Set<String> routableModels() {
    return routable;
  }

  /** Replaces the model versions; the next {@link #onStateChanged} applies them. */
  public void setModels(Map<String, ModelVersions> models) {
    this.models = Map.copyOf(models);
  }

  @Override
  public void onStateChanged(Collection<? extends ClientView> clients) {
    Set<String> next = new HashSet<>();
    models.forEach(
        (key, versions) -> {
          if (isRoutable(versions, clients)) {
            next.add(key);
          }
        });
    Set<String> previous = routable;
    if (next.equals(previous)) {
      return;
    }
    routable = Set.copyOf(next);
    List<String> becameRoutable = new ArrayList<>();
    List<String> stoppedRoutable = new ArrayList<>();
    next.stream().filter(key -> !previous.contains(key)).sorted().forEach(becameRoutable::add);
    previous.stream().filter(key -> !next.contains(key)).sorted().forEach(stoppedRoutable::add);
    try {
      notifications.execute(
          () -> {
            for (RoutabilityListener listener : listeners) {
              stoppedRoutable.forEach(key -> listener.onRoutabilityChanged(key, false));
              becameRoutable.forEach(key -> listener.onRoutabilityChanged(key, true));
            }
          });
    } catch (RejectedExecutionException e) {
      // shutting down: clients disconnecting as the server stops are nobody's news
    }
  }

  private boolean isRoutable(ModelVersions versions, Collection<? extends ClientView> clients) {
    if (versions.readySince() == ClientView.NONE) {
      return false;
    }
    boolean anyClient = false;
    for (ClientView client : clients) {
      if (!client.synced() || !client.subscribes(TypeUrls.CLUSTER, versions.clusterName())) {
        continue;
      }
      anyClient = true;
      if (client.ackedVersion(TypeUrls.CLUSTER, versions.clusterName()) < versions.clusterSince()
          || client.ackedVersion(TypeUrls.ENDPOINT, versions.clusterName())
              < versions.readySince()) {
        return false;
      }
      if (client.subscribes(TypeUrls.ROUTE, routeConfigName)
          && client.ackedVersion(TypeUrls.ROUTE, routeConfigName) < versions.routeSince()) {
        return false;
      }
    }
    return anyClient || withoutEnvoys == WithoutEnvoys.READY_ENDPOINT;
  }
}

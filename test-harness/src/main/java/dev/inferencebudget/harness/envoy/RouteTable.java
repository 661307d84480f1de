package dev.inferencebudget.harness.envoy;

import io.vertx.core.MultiMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The route configuration, replaced as a whole like an RDS update. First match wins, as in an Envoy
 * virtual host. Safe to update from any thread; a request sees the table as it was when its route
 * was (re)computed.
 */
public final class RouteTable {
  private final AtomicReference<List<Route>> routes = new AtomicReference<>(List.of());

  /** Replaces every route (an RDS update). */
  public void update(List<Route> newRoutes) {
    routes.set(List.copyOf(Objects.requireNonNull(newRoutes, "newRoutes")));
  }

  public List<Route> routes() {
    return routes.get();
  }

  /** The first route matching {@code :path} and the headers, as Envoy's route cache computes it. */
  public Optional<Route> match(MultiMap headers) {
    String path = Objects.requireNonNullElse(headers.get(":path"), "/");
    for (Route r : routes.get()) {
      if (r.matches(path, headers)) {
        return Optional.of(r);
      }
    }
    return Optional.empty();
  }
}

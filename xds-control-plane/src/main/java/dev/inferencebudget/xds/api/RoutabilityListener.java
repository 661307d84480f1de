package dev.inferencebudget.xds.api;

/**
 * Told when a model becomes routable (every connected Envoy has ACKed a cluster, endpoints with a
 * ready replica, and the route) or stops being routable. Calls arrive in order on one thread; an
 * implementation must not block.
 */
@FunctionalInterface
public interface RoutabilityListener {
  void onRoutabilityChanged(String modelKey, boolean routable);
}

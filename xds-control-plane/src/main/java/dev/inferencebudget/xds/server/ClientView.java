package dev.inferencebudget.xds.server;

/**
 * What the server knows about one connected ADS client (one stream): its subscriptions and ACKs.
 */
public interface ClientView {

  /** Version a client reports before it has ACKed a resource. */
  long NONE = -1;

  long streamId();

  /** The node id from the client's first request ("" until known). */
  String nodeId();

  /**
   * Whether the client has finished its initial sync (clusters ACKed, their endpoints and its route
   * tables answered). Envoy serves no traffic before that, so an unsynced client does not hold back
   * routability.
   */
  boolean synced();

  /** Whether the client has subscribed to {@code name} of this type (wildcard included). */
  boolean subscribes(String typeUrl, String name);

  /** The version of the resource the client ACKed last, or {@link #NONE}. */
  long ackedVersion(String typeUrl, String name);
}

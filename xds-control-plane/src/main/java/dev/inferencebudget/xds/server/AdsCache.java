package dev.inferencebudget.xds.server;

import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.Message;
import io.envoyproxy.controlplane.cache.ConfigWatcher;
import io.envoyproxy.controlplane.cache.DeltaResponse;
import io.envoyproxy.controlplane.cache.DeltaWatch;
import io.envoyproxy.controlplane.cache.DeltaXdsRequest;
import io.envoyproxy.controlplane.cache.Response;
import io.envoyproxy.controlplane.cache.Watch;
import io.envoyproxy.controlplane.cache.WatchCancelledException;
import io.envoyproxy.controlplane.cache.XdsRequest;
import io.envoyproxy.controlplane.server.DiscoveryServerCallbacks;
import io.envoyproxy.controlplane.server.exception.RequestException;
import io.envoyproxy.envoy.service.discovery.v3.DeltaDiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryRequest;
import io.envoyproxy.envoy.service.discovery.v3.DiscoveryResponse;
import io.grpc.Context;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A state-of-the-world xDS cache that versions every resource on its own and tracks, per client
 * stream, what it sent and what the client ACKed.
 *
 * <p>Why not java-control-plane's {@code SimpleCache}: its {@code Snapshot} answers a watch with
 * every resource the client named, so one model's endpoint change would resend all 1,000
 * ClusterLoadAssignments (Envoy sends one EDS request naming every cluster). Here each resource
 * carries the generation in which it last changed, and a client is sent only the resources whose
 * version differs from what it was last sent. That is allowed for RouteConfiguration and
 * ClusterLoadAssignment, whose absence from a response means "unchanged"; Listener and Cluster
 * responses always carry the client's whole subscription.
 *
 * <p>A NACKed resource counts as sent: it is not resent until it changes again (resending the same
 * content would only be NACKed again). ACKs and NACKs are matched to responses by nonce.
 *
 * <p>The discovery server calls {@link #onV3StreamRequest} and then, for a request that answers the
 * latest response (or is the first of its type), {@link #createWatch} with the same request object;
 * the stream is found by that identity, since {@code createWatch} is not told the stream.
 */
public final class AdsCache implements ConfigWatcher, DiscoveryServerCallbacks {

  /** Told, with the cache's lock held, that ACKs, subscriptions, clients or resources changed. */
  @FunctionalInterface
  public interface Observer {
    void onStateChanged(Collection<? extends ClientView> clients);
  }

  /** What a client has ACKed, for inspection. */
  public record ClientAcks(
      long streamId,
      String nodeId,
      boolean synced,
      Map<String, Map<String, Long>> ackedVersionsByType) {}

  private static final Logger LOG = LoggerFactory.getLogger(AdsCache.class);

  private final Object lock = new Object();
  private final Map<String, Map<String, Versioned>> resourcesByType = new HashMap<>();
  private final Map<Long, Client> clients = new LinkedHashMap<>();
  private final Observer observer;
  private final Counter nacks;
  private final Counter responses;
  private final Counter resourcesSent;
  private final Gauge connectedClients;
  private long generation;

  public AdsCache(Observer observer, PrometheusRegistry registry) {
    this.observer = Objects.requireNonNull(observer, "observer");
    Objects.requireNonNull(registry, "registry");
    this.nacks =
        Counter.builder()
            .name("ibc_xds_nacks_total")
            .help("xDS responses a client rejected (NACK), by resource type")
            .labelNames("type")
            .register(registry);
    this.responses =
        Counter.builder()
            .name("ibc_xds_responses_total")
            .help("xDS responses sent, by resource type")
            .labelNames("type")
            .register(registry);
    this.resourcesSent =
        Counter.builder()
            .name("ibc_xds_resources_sent_total")
            .help("Resources carried by xDS responses, by resource type")
            .labelNames("type")
            .register(registry);
    this.connectedClients =
        Gauge.builder()
            .name("ibc_xds_connected_clients")
            .help("ADS streams currently open")
            .register(registry);
  }

  /**
   * Applies a batch of changes atomically and pushes the changed resources to every client that
   * subscribes to them. Resources that change get the new generation as their version.
   *
   * @param onApplied runs with the lock held once the batch is in, before clients are notified,
   *     with the generation the changed resources got
   * @return that generation (unchanged if nothing changed)
   */
  public long apply(ResourceChanges changes, LongConsumer onApplied) {
    synchronized (lock) {
      long next = generation + 1;
      Set<String> changedTypes = new java.util.HashSet<>();
      changes
          .upserts()
          .forEach(
              (type, byName) -> {
                Map<String, Versioned> current =
                    resourcesByType.computeIfAbsent(type, t -> new HashMap<>());
                byName.forEach(
                    (name, resource) -> {
                      Versioned existing = current.get(name);
                      if (existing == null || !existing.resource().equals(resource)) {
                        current.put(name, new Versioned(resource, next));
                        changedTypes.add(type);
                      }
                    });
              });
      changes
          .removals()
          .forEach(
              (type, names) -> {
                Map<String, Versioned> current = resourcesByType.get(type);
                if (current != null) {
                  for (String name : names) {
                    if (current.remove(name) != null) {
                      changedTypes.add(type);
                    }
                  }
                }
              });
      if (!changedTypes.isEmpty()) {
        generation = next;
      }
      onApplied.accept(generation);
      if (!changedTypes.isEmpty()) {
        for (String type : TypeUrls.IN_ORDER) {
          if (changedTypes.contains(type)) {
            for (Client client : List.copyOf(clients.values())) {
              Subscription subscription = client.byType.get(type);
              if (subscription != null) {
                respondIfChanged(client, type, subscription);
              }
            }
          }
        }
      }
      observer.onStateChanged(clients.values());
      return generation;
    }
  }

  /** The version of a served resource, or {@link ClientView#NONE} if it is not served. */
  public long version(String typeUrl, String name) {
    synchronized (lock) {
      Versioned versioned = resourcesByType.getOrDefault(typeUrl, Map.of()).get(name);
      return versioned == null ? ClientView.NONE : versioned.version();
    }
  }

  /** The resource served under a name, or null. */
  public Message resource(String typeUrl, String name) {
    synchronized (lock) {
      Versioned versioned = resourcesByType.getOrDefault(typeUrl, Map.of()).get(name);
      return versioned == null ? null : versioned.resource();
    }
  }

  /** The connected clients and what each has ACKed. */
  /** How many connected clients have finished their initial sync (cheap: no copies). */
  public int syncedClients() {
    synchronized (lock) {
      int synced = 0;
      for (Client client : clients.values()) {
        if (client.synced) {
          synced++;
        }
      }
      return synced;
    }
  }

  public List<ClientAcks> clients() {
    synchronized (lock) {
      List<ClientAcks> result = new ArrayList<>();
      for (Client client : clients.values()) {
        Map<String, Map<String, Long>> acked = new TreeMap<>();
        client.byType.forEach((type, sub) -> acked.put(type, Map.copyOf(sub.acked)));
        result.add(new ClientAcks(client.id, client.nodeId, client.synced, acked));
      }
      return result;
    }
  }

  // ---- DiscoveryServerCallbacks

  @Override
  public void onStreamOpen(long streamId, String typeUrl) {
    synchronized (lock) {
      clients.put(streamId, new Client(streamId));
      connectedClients.set(clients.size());
    }
    // The server reports a client's cancel to no callback; the call's Context is cancelled when
    // the call ends in any way, so that is where a vanished client is noticed.
    Context.current()
        .addListener(context -> removeClient(streamId), MoreExecutors.directExecutor());
  }

  @Override
  public void onStreamClose(long streamId, String typeUrl) {
    removeClient(streamId);
  }

  @Override
  public void onStreamCloseWithError(long streamId, String typeUrl, Throwable error) {
    removeClient(streamId);
  }

  @Override
  public void onV3StreamRequest(long streamId, DiscoveryRequest request) {
    synchronized (lock) {
      Client client = clients.get(streamId);
      if (client == null) {
        return;
      }
      if (client.nodeId.isEmpty() && request.hasNode()) {
        client.nodeId = request.getNode().getId();
      }
      String type = request.getTypeUrl();
      Subscription sub = client.byType.computeIfAbsent(type, t -> new Subscription());
      sub.lastRequest = request;
      boolean changed = false;
      String nonce = request.getResponseNonce();
      InFlight answered = nonce.isEmpty() ? null : sub.inFlight.get(nonce);
      if (answered != null) {
        // responses are answered in order: this one and every earlier one are settled
        for (Iterator<String> it = sub.inFlight.keySet().iterator(); it.hasNext(); ) {
          String sentNonce = it.next();
          it.remove();
          if (sentNonce.equals(nonce)) {
            break;
          }
        }
        sub.answered.addAll(answered.contents().keySet());
        if (request.hasErrorDetail()) {
          nacks.labelValues(TypeUrls.label(type)).inc();
          LOG.warn(
              "xDS client {} (stream {}) NACKed {} version {} (nonce {}) carrying {}: {}",
              client.nodeId,
              streamId,
              TypeUrls.label(type),
              answered.version(),
              nonce,
              answered.contents().keySet(),
              request.getErrorDetail().getMessage());
        } else {
          if (TypeUrls.isFullState(type)) {
            sub.acked.clear();
          }
          sub.acked.putAll(answered.contents());
          sub.ackedOnce = true;
          changed = true;
        }
        if (client.updateSynced()) {
          changed = true;
          LOG.info(
              "xDS client {} (stream {}) synced: {} clusters",
              client.nodeId,
              streamId,
              client.byType.get(TypeUrls.CLUSTER).acked.size());
        }
      }
      List<String> names = request.getResourceNamesList();
      // xDS "legacy wildcard": an empty list is a wildcard only until the client has named
      // resources of that type; after that it means "none"
      boolean wildcard = names.contains("*") || (names.isEmpty() && !sub.everNamed);
      sub.everNamed |= !names.isEmpty() && !names.contains("*");
      Set<String> subscribed = Set.copyOf(names);
      if (wildcard != sub.wildcard || !subscribed.equals(sub.names)) {
        if (!wildcard) {
          // forget what was sent of unsubscribed resources, so a later subscription gets them again
          sub.sent.keySet().retainAll(subscribed);
          sub.acked.keySet().retainAll(subscribed);
        }
        sub.wildcard = wildcard;
        sub.names = subscribed;
        changed = true;
      }
      if (changed) {
        observer.onStateChanged(clients.values());
      }
    }
  }

  @Override
  public void onV3StreamResponse(long streamId, DiscoveryRequest request, DiscoveryResponse r) {
    synchronized (lock) {
      Client client = clients.get(streamId);
      Subscription sub = client == null ? null : client.byType.get(r.getTypeUrl());
      if (sub != null && sub.pendingResponse != null) {
        sub.inFlight.put(r.getNonce(), sub.pendingResponse);
        sub.pendingResponse = null;
      }
    }
  }

  @Override
  public void onV3StreamDeltaRequest(long streamId, DeltaDiscoveryRequest request)
      throws RequestException {
    // Fail loudly: a delta client would otherwise wait forever for a first response.
    throw new RequestException(
        io.grpc.Status.UNIMPLEMENTED.withDescription(
            "incremental xDS is not served; configure ads_config api_type: GRPC"));
  }

  // ---- ConfigWatcher

  @Override
  public Watch createWatch(
      boolean ads,
      XdsRequest request,
      Set<String> knownResourceNames,
      Consumer<Response> responseConsumer,
      boolean hasClusterChanged,
      boolean allowDefaultEmptyEdsUpdate) {
    Watch watch = new Watch(ads, false, request, responseConsumer);
    synchronized (lock) {
      String type = request.getTypeUrl();
      for (Client client : clients.values()) {
        Subscription sub = client.byType.get(type);
        if (sub != null && sub.lastRequest == request.v3Request()) {
          sub.watch = watch;
          watch.setStop(
              () -> {
                synchronized (lock) {
                  if (sub.watch == watch) {
                    sub.watch = null;
                  }
                }
              });
          respondIfChanged(client, type, sub);
          return watch;
        }
      }
    }
    LOG.debug("watch for a client that is gone: {}", request.getTypeUrl());
    return watch;
  }

  @Override
  public DeltaWatch createDeltaWatch(
      DeltaXdsRequest request,
      String requesterVersion,
      Map<String, String> resourceVersions,
      Set<String> pendingResources,
      boolean isWildcard,
      Consumer<DeltaResponse> responseConsumer,
      boolean hasClusterChanged) {
    // Not reached: onV3StreamDeltaRequest refuses delta streams first.
    // TODO(#4): serve incremental xDS too; state-of-the-world with per-resource sends covers Envoy
    // (api_type GRPC) and grpc-java, which has no incremental client.
    return new DeltaWatch(
        request,
        Map.copyOf(resourceVersions),
        Set.copyOf(pendingResources),
        requesterVersion,
        isWildcard,
        responseConsumer);
  }

  // ---- internals (lock held)

  private void respondIfChanged(Client client, String type, Subscription sub) {
    Watch watch = sub.watch;
    if (watch == null) {
      return;
    }
    Map<String, Versioned> current = resourcesByType.getOrDefault(type, Map.of());
    Collection<String> names = sub.wildcard ? current.keySet() : sub.names;
    boolean fullState = TypeUrls.isFullState(type);
    Map<String, Long> contents = new TreeMap<>();
    for (String name : names) {
      Versioned versioned = current.get(name);
      if (versioned != null
          && (fullState || !Long.valueOf(versioned.version()).equals(sub.sent.get(name)))) {
        contents.put(name, versioned.version());
      }
    }
    if (fullState ? sub.responded && contents.equals(sub.sent) : contents.isEmpty()) {
      return;
    }
    List<Message> messages = new ArrayList<>(contents.size());
    contents.keySet().forEach(name -> messages.add(current.get(name).resource()));
    String version = Long.toString(generation);

    Map<String, Long> sentBefore = new HashMap<>();
    if (fullState) {
      sentBefore.putAll(sub.sent);
      sub.sent.clear();
    } else {
      contents.keySet().forEach(name -> sentBefore.put(name, sub.sent.get(name)));
    }
    sub.sent.putAll(contents);
    boolean respondedBefore = sub.responded;
    sub.responded = true;
    sub.watch = null;
    sub.pendingResponse = new InFlight(version, Map.copyOf(contents));
    try {
      watch.respond(Response.create(watch.request(), messages, version));
    } catch (WatchCancelledException e) {
      // a newer request cancelled the watch: nothing went out, so nothing counts as sent
      sub.pendingResponse = null;
      sub.responded = respondedBefore;
      if (fullState) {
        sub.sent.clear();
      }
      sentBefore.forEach(
          (name, sentVersion) -> {
            if (sentVersion == null) {
              sub.sent.remove(name);
            } else {
              sub.sent.put(name, sentVersion);
            }
          });
      return;
    }
    responses.labelValues(TypeUrls.label(type)).inc();
    resourcesSent.labelValues(TypeUrls.label(type)).inc(contents.size());

    if (TypeUrls.CLUSTER.equals(type)) {
      // Envoy rebuilds a cluster whose definition changed and waits for its endpoints again
      // (java-control-plane's hasClusterChanged); resend the endpoints of those clusters.
      Subscription endpoints = client.byType.get(TypeUrls.ENDPOINT);
      if (endpoints != null) {
        boolean resend = false;
        for (var entry : contents.entrySet()) {
          Long before = sentBefore.get(entry.getKey());
          if (before != null && !before.equals(entry.getValue())) {
            endpoints.sent.remove(entry.getKey());
            resend = true;
          }
        }
        if (resend) {
          respondIfChanged(client, TypeUrls.ENDPOINT, endpoints);
        }
      }
    }
  }

  private void removeClient(long streamId) {
    synchronized (lock) {
      Client removed = clients.remove(streamId);
      if (removed != null) {
        LOG.info("xDS client {} (stream {}) disconnected", removed.nodeId, streamId);
        connectedClients.set(clients.size());
        observer.onStateChanged(clients.values());
      }
    }
  }

  private record Versioned(Message resource, long version) {}

  private record InFlight(String version, Map<String, Long> contents) {}

  private static final class Subscription {
    boolean wildcard;
    boolean everNamed;
    Set<String> names = Set.of();
    boolean responded;
    boolean ackedOnce;

    /** Names carried by a response the client answered, with an ACK or a NACK. */
    final Set<String> answered = new java.util.HashSet<>();

    final Map<String, Long> sent = new HashMap<>();
    final Map<String, Long> acked = new HashMap<>();
    final Map<String, InFlight> inFlight = new LinkedHashMap<>();
    InFlight pendingResponse;
    DiscoveryRequest lastRequest;
    Watch watch;
  }

  private static final class Client implements ClientView {
    final long id;
    String nodeId = "";
    final Map<String, Subscription> byType = new HashMap<>();
    boolean synced;

    Client(long id) {
      this.id = id;
    }

    /**
     * A client is synced once it has ACKed clusters and answered endpoints for each of them and the
     * route tables it asked for, as Envoy finishes initializing before it serves (a rejected
     * resource counts as answered: Envoy initializes anyway once its initial fetch times out).
     * Sticky: later changes are what routability tracks.
     *
     * @return whether it just became synced
     */
    boolean updateSynced() {
      if (synced) {
        return false;
      }
      Subscription clusters = byType.get(TypeUrls.CLUSTER);
      if (clusters == null || !clusters.ackedOnce) {
        return false;
      }
      Subscription endpoints = byType.get(TypeUrls.ENDPOINT);
      Set<String> answeredEndpoints = endpoints == null ? Set.of() : endpoints.answered;
      if (!answeredEndpoints.containsAll(clusters.acked.keySet())) {
        return false;
      }
      Subscription routes = byType.get(TypeUrls.ROUTE);
      if (routes != null && !routes.wildcard && !routes.answered.containsAll(routes.names)) {
        return false;
      }
      synced = true;
      return true;
    }

    @Override
    public boolean synced() {
      return synced;
    }

    @Override
    public long streamId() {
      return id;
    }

    @Override
    public String nodeId() {
      return nodeId;
    }

    @Override
    public boolean subscribes(String typeUrl, String name) {
      Subscription sub = byType.get(typeUrl);
      return sub != null && (sub.wildcard || sub.names.contains(name));
    }

    @Override
    public long ackedVersion(String typeUrl, String name) {
      Subscription sub = byType.get(typeUrl);
      Long version = sub == null ? null : sub.acked.get(name);
      return version == null ? NONE : version;
    }
  }
}

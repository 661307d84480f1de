package dev.inferencebudget.controller.k8s;

import dev.inferencebudget.controller.api.v1alpha1.BudgetedModel;
import dev.inferencebudget.controller.api.v1alpha1.InferenceBudget;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointConditions;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * SharedIndexInformers for everything the controller reads: InferenceBudgets, BudgetedModels,
 * Deployments, their Pods (readiness, IPs, nodes) and HorizontalPodAutoscalers (KEDA's
 * ScaledObjects act through an HPA it creates, so one informer finds both). One informer per type
 * and watched namespace, or one per type for all namespaces. Every add, update and delete calls
 * {@code onChange}; readers get the informers' caches (never mutate what they return).
 */
public final class ClusterCaches implements AutoCloseable {

  private final KubernetesClient client;
  private final List<String> namespaces;
  private final Runnable onChange;
  private final List<SharedIndexInformer<InferenceBudget>> budgets = new ArrayList<>();
  private final List<SharedIndexInformer<BudgetedModel>> models = new ArrayList<>();
  private final List<SharedIndexInformer<Deployment>> deployments = new ArrayList<>();
  private final List<SharedIndexInformer<Pod>> pods = new ArrayList<>();
  private final List<SharedIndexInformer<HorizontalPodAutoscaler>> hpas = new ArrayList<>();
  private final List<SharedIndexInformer<EndpointSlice>> slices = new ArrayList<>();

  /** Index of EndpointSlices by the pods their endpoints point at ({@code namespace/pod}). */
  static final String SLICE_PODS = "pods";

  /** Index of pods by each of their labels ({@code namespace/key=value}). */
  static final String POD_LABELS = "labels";

  public ClusterCaches(KubernetesClient client, List<String> namespaces, Runnable onChange) {
    this.client = Objects.requireNonNull(client, "client");
    this.namespaces = List.copyOf(Objects.requireNonNull(namespaces, "namespaces"));
    this.onChange = Objects.requireNonNull(onChange, "onChange");
  }

  /** Starts every informer and waits until each has listed once. */
  public void start(Duration syncTimeout) {
    inform(InferenceBudget.class, budgets);
    inform(BudgetedModel.class, models);
    inform(Deployment.class, deployments);
    inform(Pod.class, pods);
    for (SharedIndexInformer<Pod> informer : pods) {
      informer.addIndexers(Map.of(POD_LABELS, ClusterCaches::labelIndex));
    }
    inform(HorizontalPodAutoscaler.class, hpas);
    inform(EndpointSlice.class, slices);
    for (SharedIndexInformer<EndpointSlice> informer : slices) {
      informer.addIndexers(Map.of(SLICE_PODS, ClusterCaches::slicePods));
    }
    List<CompletableFuture<?>> synced = new ArrayList<>();
    for (List<? extends SharedIndexInformer<?>> list :
        List.of(budgets, models, deployments, pods, hpas, slices)) {
      for (SharedIndexInformer<?> informer : list) {
        synced.add(informer.start().toCompletableFuture());
      }
    }
    try {
      CompletableFuture.allOf(synced.toArray(CompletableFuture[]::new))
          .get(syncTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while the informers synced", e);
    } catch (Exception e) {
      throw new IllegalStateException("the informers did not sync within " + syncTimeout, e);
    }
  }

  private <T extends HasMetadata> void inform(Class<T> type, List<SharedIndexInformer<T>> into) {
    ResourceEventHandler<T> handler =
        new ResourceEventHandler<>() {
          @Override
          public void onAdd(T obj) {
            onChange.run();
          }

          @Override
          public void onUpdate(T oldObj, T newObj) {
            onChange.run();
          }

          @Override
          public void onDelete(T obj, boolean deletedFinalStateUnknown) {
            onChange.run();
          }
        };
    if (namespaces.isEmpty()) {
      SharedIndexInformer<T> informer = client.resources(type).inAnyNamespace().runnableInformer(0);
      informer.addEventHandler(handler);
      into.add(informer);
    } else {
      for (String ns : namespaces) {
        SharedIndexInformer<T> informer =
            client.resources(type).inNamespace(ns).runnableInformer(0);
        informer.addEventHandler(handler);
        into.add(informer);
      }
    }
  }

  public List<InferenceBudget> budgets() {
    return all(budgets);
  }

  public List<BudgetedModel> models() {
    return all(models);
  }

  public Optional<InferenceBudget> budget(String namespace, String name) {
    return byKey(budgets, namespace, name);
  }

  public Optional<Deployment> deployment(String namespace, String name) {
    return byKey(deployments, namespace, name);
  }

  public List<Pod> pods(String namespace) {
    return inNamespace(pods, namespace);
  }

  /**
   * The pods in {@code namespace} whose labels include every entry of {@code matchLabels}; none for
   * an empty selector (a Deployment always has one). Looked up by index, not by a namespace scan.
   */
  public List<Pod> pods(String namespace, Map<String, String> matchLabels) {
    if (matchLabels == null || matchLabels.isEmpty()) {
      return List.of();
    }
    Map.Entry<String, String> first = matchLabels.entrySet().iterator().next();
    String indexKey = namespace + "/" + first.getKey() + "=" + first.getValue();
    List<Pod> out = new ArrayList<>();
    for (SharedIndexInformer<Pod> informer : pods) {
      for (Pod p : informer.getIndexer().byIndex(POD_LABELS, indexKey)) {
        Map<String, String> labels = p.getMetadata().getLabels();
        if (labels != null && labels.entrySet().containsAll(matchLabels.entrySet())) {
          out.add(p);
        }
      }
    }
    return out;
  }

  /** A pod as an EndpointSlice endpoint sees it: address, readiness and the slice's port. */
  public record SliceEndpoint(String address, boolean ready, boolean terminating, Integer port) {}

  /**
   * The endpoint of {@code namespace/pod} in any EndpointSlice (a Service selecting the pod), if
   * one names it; when several do, a ready one wins.
   */
  public Optional<SliceEndpoint> sliceEndpoint(String namespace, String pod) {
    SliceEndpoint found = null;
    for (SharedIndexInformer<EndpointSlice> informer : slices) {
      for (EndpointSlice slice : informer.getIndexer().byIndex(SLICE_PODS, namespace + "/" + pod)) {
        for (Endpoint e : slice.getEndpoints()) {
          if (e.getTargetRef() == null
              || !pod.equals(e.getTargetRef().getName())
              || e.getAddresses() == null
              || e.getAddresses().isEmpty()) {
            continue;
          }
          EndpointConditions c = e.getConditions();
          // The API: an unset ready condition means ready; terminating means not ready.
          boolean terminating = c != null && Boolean.TRUE.equals(c.getTerminating());
          boolean ready = !terminating && (c == null || !Boolean.FALSE.equals(c.getReady()));
          SliceEndpoint candidate =
              new SliceEndpoint(e.getAddresses().get(0), ready, terminating, port(slice));
          if (found == null || (candidate.ready() && !found.ready())) {
            found = candidate;
          }
        }
      }
    }
    return Optional.ofNullable(found);
  }

  /** The slice's port named {@code http}, else its first, else none (the pod's port applies). */
  private static Integer port(EndpointSlice slice) {
    if (slice.getPorts() == null || slice.getPorts().isEmpty()) {
      return null;
    }
    for (EndpointPort p : slice.getPorts()) {
      if ("http".equals(p.getName()) && p.getPort() != null) {
        return p.getPort();
      }
    }
    return slice.getPorts().get(0).getPort();
  }

  private static List<String> slicePods(EndpointSlice slice) {
    List<String> keys = new ArrayList<>();
    if (slice.getEndpoints() == null) {
      return keys;
    }
    for (Endpoint e : slice.getEndpoints()) {
      if (e.getTargetRef() != null
          && "Pod".equals(e.getTargetRef().getKind())
          && e.getTargetRef().getName() != null) {
        String ns =
            e.getTargetRef().getNamespace() != null
                ? e.getTargetRef().getNamespace()
                : slice.getMetadata().getNamespace();
        keys.add(ns + "/" + e.getTargetRef().getName());
      }
    }
    return keys;
  }

  private static List<String> labelIndex(Pod p) {
    Map<String, String> labels = p.getMetadata().getLabels();
    if (labels == null || labels.isEmpty()) {
      return List.of();
    }
    List<String> keys = new ArrayList<>(labels.size());
    labels.forEach((k, v) -> keys.add(p.getMetadata().getNamespace() + "/" + k + "=" + v));
    return keys;
  }

  public List<HorizontalPodAutoscaler> horizontalPodAutoscalers(String namespace) {
    return inNamespace(hpas, namespace);
  }

  private static <T> List<T> all(List<SharedIndexInformer<T>> informers) {
    List<T> out = new ArrayList<>();
    for (SharedIndexInformer<T> informer : informers) {
      out.addAll(informer.getStore().list());
    }
    return out;
  }

  private static <T> Optional<T> byKey(
      List<SharedIndexInformer<T>> informers, String namespace, String name) {
    String key = namespace + "/" + name;
    for (SharedIndexInformer<T> informer : informers) {
      T found = informer.getStore().getByKey(key);
      if (found != null) {
        return Optional.of(found);
      }
    }
    return Optional.empty();
  }

  private static <T> List<T> inNamespace(List<SharedIndexInformer<T>> informers, String namespace) {
    List<T> out = new ArrayList<>();
    for (SharedIndexInformer<T> informer : informers) {
      out.addAll(informer.getIndexer().byIndex(Cache.NAMESPACE_INDEX, namespace));
    }
    return out;
  }

  @Override
  public void close() {
    for (List<? extends SharedIndexInformer<?>> list :
        List.of(budgets, models, deployments, pods, hpas, slices)) {
      list.forEach(SharedIndexInformer::close);
    }
  }
}

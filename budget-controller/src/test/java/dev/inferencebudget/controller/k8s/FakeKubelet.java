package dev.inferencebudget.controller.k8s;

import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A test double for the cluster's own controllers on fabric8's mock server: a Deployment's replicas
 * become Pods (matching its selector, with an IP, a node and port 8000) that turn Ready after
 * {@code readyDelay}; extra Pods are deleted. Real Deployment/ReplicaSet controllers and kubelets
 * are not in the mock (it is a store, not a cluster).
 */
final class FakeKubelet implements AutoCloseable {

  private final KubernetesClient client;
  private final Duration readyDelay;
  private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();
  private final AtomicInteger sequence = new AtomicInteger();
  private SharedIndexInformer<Deployment> informer;

  FakeKubelet(KubernetesClient client, Duration readyDelay) {
    this.client = client;
    this.readyDelay = readyDelay;
  }

  FakeKubelet start() {
    informer =
        client
            .apps()
            .deployments()
            .inAnyNamespace()
            .inform(
                new ResourceEventHandler<>() {
                  @Override
                  public void onAdd(Deployment d) {
                    executor.execute(() -> sync(d));
                  }

                  @Override
                  public void onUpdate(Deployment oldD, Deployment d) {
                    executor.execute(() -> sync(d));
                  }

                  @Override
                  public void onDelete(Deployment d, boolean unknown) {
                    executor.execute(() -> deleteAll(d));
                  }
                });
    return this;
  }

  private List<Pod> podsOf(Deployment d) {
    return client
        .pods()
        .inNamespace(d.getMetadata().getNamespace())
        .withLabels(d.getSpec().getSelector().getMatchLabels())
        .list()
        .getItems();
  }

  private void sync(Deployment d) {
    String ns = d.getMetadata().getNamespace();
    int desired = d.getSpec().getReplicas() == null ? 1 : d.getSpec().getReplicas();
    List<Pod> pods = podsOf(d);
    for (int i = pods.size(); i < desired; i++) {
      int n = sequence.incrementAndGet();
      String name = d.getMetadata().getName() + "-" + n;
      Map<String, String> labels = d.getSpec().getSelector().getMatchLabels();
      Pod pod =
          new PodBuilder()
              .withNewMetadata()
              .withNamespace(ns)
              .withName(name)
              .withLabels(labels)
              .endMetadata()
              .withNewSpec()
              .withNodeName("node-" + (n % 2))
              .addNewContainer()
              .withName("vllm")
              .withImage("vllm")
              .withPorts(
                  new ContainerPortBuilder().withName("http").withContainerPort(8000).build())
              .endContainer()
              .endSpec()
              .withNewStatus()
              .withPodIP("127.0.0." + (n % 250 + 2))
              .withConditions(
                  new PodConditionBuilder().withType("Ready").withStatus("False").build())
              .endStatus()
              .build();
      client.pods().inNamespace(ns).resource(pod).create();
      executor.schedule(() -> markReady(ns, name), readyDelay.toMillis(), TimeUnit.MILLISECONDS);
    }
    for (int i = desired; i < pods.size(); i++) {
      client.pods().inNamespace(ns).withName(pods.get(i).getMetadata().getName()).delete();
    }
  }

  private void markReady(String ns, String name) {
    Pod pod = client.pods().inNamespace(ns).withName(name).get();
    if (pod == null) {
      return;
    }
    Pod ready =
        new PodBuilder(pod)
            .editStatus()
            .withConditions(new PodConditionBuilder().withType("Ready").withStatus("True").build())
            .endStatus()
            .build();
    client.pods().inNamespace(ns).resource(ready).update();
  }

  private void deleteAll(Deployment d) {
    for (Pod p : podsOf(d)) {
      client.pods().inNamespace(p.getMetadata().getNamespace()).resource(p).delete();
    }
  }

  @Override
  public void close() {
    if (informer != null) {
      informer.close();
    }
    executor.shutdownNow();
  }
}

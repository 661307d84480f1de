package dev.inferencebudget.controller.k8s;

import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes core/v1 Events (what {@code kubectl describe} shows). An event with the same object,
 * reason and message as one recorded within the dedup window is dropped, so a reconcile that runs
 * every few seconds does not flood the namespace; a failed write is logged and dropped (events are
 * best effort, as in client-go's recorder).
 */
public final class KubernetesEventRecorder implements EventRecorder {

  private static final Logger log = LoggerFactory.getLogger(KubernetesEventRecorder.class);
  static final String COMPONENT = "inference-budget-controller";
  private static final int MAX_REMEMBERED = 10_000;

  private final KubernetesClient client;
  private final Clock clock;
  private final Duration dedupWindow;
  private final String instance;
  private final AtomicLong sequence = new AtomicLong();
  private final Map<String, Instant> lastRecorded = new LinkedHashMap<>();

  public KubernetesEventRecorder(
      KubernetesClient client, Clock clock, Duration dedupWindow, String instance) {
    this.client = Objects.requireNonNull(client, "client");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.dedupWindow = Objects.requireNonNull(dedupWindow, "dedupWindow");
    this.instance = Objects.requireNonNull(instance, "instance");
  }

  @Override
  public void record(HasMetadata regarding, boolean warning, String reason, String message) {
    Instant now = clock.instant();
    String ns = regarding.getMetadata().getNamespace();
    String name = regarding.getMetadata().getName();
    String key = regarding.getKind() + "|" + ns + "|" + name + "|" + reason + "|" + message;
    synchronized (lastRecorded) {
      Instant last = lastRecorded.get(key);
      if (last != null && Duration.between(last, now).compareTo(dedupWindow) < 0) {
        return;
      }
      lastRecorded.remove(key);
      lastRecorded.put(key, now);
      if (lastRecorded.size() > MAX_REMEMBERED) {
        Iterator<String> oldest = lastRecorded.keySet().iterator();
        oldest.next();
        oldest.remove();
      }
    }
    String timestamp = now.toString();
    var event =
        new EventBuilder()
            .withNewMetadata()
            .withNamespace(ns)
            .withName(
                name + "." + Long.toHexString(now.toEpochMilli()) + sequence.incrementAndGet())
            .endMetadata()
            .withInvolvedObject(
                new ObjectReferenceBuilder()
                    .withApiVersion(regarding.getApiVersion())
                    .withKind(regarding.getKind())
                    .withNamespace(ns)
                    .withName(name)
                    .withUid(regarding.getMetadata().getUid())
                    .build())
            .withType(warning ? "Warning" : "Normal")
            .withReason(reason)
            .withMessage(message)
            .withFirstTimestamp(timestamp)
            .withLastTimestamp(timestamp)
            .withCount(1)
            .withNewSource()
            .withComponent(COMPONENT)
            .endSource()
            .withReportingComponent(COMPONENT)
            .withReportingInstance(instance)
            .build();
    try {
      client.v1().events().inNamespace(ns).resource(event).create();
    } catch (KubernetesClientException e) {
      log.warn("could not record event {} on {}/{}: {}", reason, ns, name, e.getMessage());
    }
  }
}

package dev.inferencebudget.harness.e2e;

import static dev.inferencebudget.harness.e2e.E2e.PATIENCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.InternalServerException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import dev.inferencebudget.harness.sandbox.Sandbox;
import dev.inferencebudget.harness.sandbox.SandboxConfig;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * What clients see when the controller or ext-proc restarts under them. Run on the stand-in ({@link
 * RestartIT}) and on a real Envoy with K3s ({@link RestartContainersIT}).
 */
abstract class RestartScenarios {

  static Sandbox system;
  static OpenAIClient openAi;
  static ExecutorService clients;

  /**
   * With a startup grace a restarted controller first hears what ext-proc holds before it writes
   * anything (as in production, where it is 5 s).
   */
  static final SandboxConfig CONFIG = E2e.config().withStartupGrace(Duration.ofMillis(1000));

  static void use(Sandbox started) {
    system = started;
    openAi = E2e.openAi(system.baseUrl(), "sk-restart");
    clients = Executors.newFixedThreadPool(4);
  }

  @AfterAll
  static void stopSystem() throws Exception {
    if (system == null) {
      return; // the subclass did not start one (e.g. Docker missing)
    }
    clients.shutdownNow();
    openAi.close();
    system.close();
    system = null;
  }

  @Test
  void aControllerRestartInTheMiddleOfAColdStartServesTheHeldRequestsAndKeepsTheModel()
      throws Exception {
    Tenant tenant =
        Tenant.create(system.client(), "restart-controller", "80Gi", "Never")
            .add(Tenant.Model.of("chat", "rc-chat", "24Gi").withLoadTime(Duration.ofSeconds(4)));
    await().atMost(PATIENCE).until(() -> E2e.listed(openAi, "rc-chat"));
    List<Integer> replicasSeen = new CopyOnWriteArrayList<>();
    SharedIndexInformer<Deployment> deployment =
        system
            .client()
            .apps()
            .deployments()
            .inNamespace("restart-controller")
            .withName("chat")
            .inform(recordReplicas(replicasSeen));
    try {
      List<CompletableFuture<ChatCompletion>> held = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        held.add(
            CompletableFuture.supplyAsync(
                () -> openAi.chat().completions().create(E2e.chat("rc-chat", 2)), clients));
      }
      await().atMost(PATIENCE).until(() -> tenant.pods("chat") == 1);
      assertThat(held).noneMatch(CompletableFuture::isDone);

      system.restartController();

      for (CompletableFuture<ChatCompletion> request : held) {
        assertThat(request.get(30, TimeUnit.SECONDS).choices()).hasSize(1);
      }
      assertThat(tenant.replicas("chat")).isEqualTo(1);
      assertThat(replicasSeen).as("spec.replicas over the cold start").containsOnly(0, 1);
      assertThat(replicasSeen.subList(replicasSeen.indexOf(1), replicasSeen.size()))
          .as("never scaled back to zero")
          .containsOnly(1);
      assertThat(openAi.chat().completions().create(E2e.chat("rc-chat", 2)).choices())
          .as("the restarted controller serves new requests")
          .hasSize(1);
    } finally {
      deployment.close();
    }
  }

  @Test
  void anExtProcRestartDrainsTheStreamInFlightFailsTheStillHeldOneAndServesNewRequests()
      throws Exception {
    Tenant.create(system.client(), "restart-extproc", "80Gi", "Never")
        .add(Tenant.Model.of("chat", "rx-chat", "24Gi"))
        // loads for longer than ext-proc's 5 s drain
        .add(Tenant.Model.of("slow", "rx-slow", "24Gi").withLoadTime(Duration.ofSeconds(10)));
    await()
        .atMost(PATIENCE)
        .until(() -> E2e.listed(openAi, "rx-chat") && E2e.listed(openAi, "rx-slow"));
    assertThat(openAi.chat().completions().create(E2e.chat("rx-chat", 2)).choices()).hasSize(1);

    // About two seconds of tokens at 1,000 tokens/s, started before the restart.
    CompletableFuture<List<ChatCompletionChunk>> inFlight = new CompletableFuture<>();
    CompletableFuture<Void> firstChunk = new CompletableFuture<>();
    clients.execute(
        () -> {
          try (StreamResponse<ChatCompletionChunk> stream =
              openAi
                  .chat()
                  .completions()
                  .createStreaming(
                      E2e.chat("rx-chat", 2000).toBuilder()
                          .streamOptions(
                              ChatCompletionStreamOptions.builder().includeUsage(true).build())
                          .build())) {
            List<ChatCompletionChunk> chunks = new ArrayList<>();
            stream.stream()
                .forEach(
                    c -> {
                      chunks.add(c);
                      firstChunk.complete(null);
                    });
            inFlight.complete(chunks);
          } catch (RuntimeException e) {
            inFlight.completeExceptionally(e);
          }
        });
    firstChunk.get(30, TimeUnit.SECONDS);
    CompletableFuture<ChatCompletion> held =
        CompletableFuture.supplyAsync(
            () -> openAi.chat().completions().create(E2e.chat("rx-slow", 2)), clients);
    await()
        .atMost(PATIENCE)
        .until(() -> system.extProc().engine().holds().held("restart-extproc/slow") == 1);

    system.restartExtProc();

    List<ChatCompletionChunk> chunks = inFlight.get(30, TimeUnit.SECONDS);
    assertThat(chunks.get(chunks.size() - 1).usage().orElseThrow().completionTokens())
        .as("the stream in flight finished during the old server's drain")
        .isEqualTo(2000);
    assertThat(held)
        .as("held past the drain: the old server cancels it, Envoy answers status_on_error")
        .failsWithin(Duration.ofSeconds(30))
        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
        .havingCause()
        .isInstanceOfSatisfying(
            InternalServerException.class, e -> assertThat(e.statusCode()).isEqualTo(500));
    await()
        .atMost(PATIENCE)
        .untilAsserted(
            () ->
                assertThat(openAi.chat().completions().create(E2e.chat("rx-chat", 2)).choices())
                    .hasSize(1));
  }

  private static ResourceEventHandler<Deployment> recordReplicas(List<Integer> seen) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(Deployment d) {
        seen.add(d.getSpec().getReplicas());
      }

      @Override
      public void onUpdate(Deployment oldD, Deployment newD) {
        if (!newD.getSpec().getReplicas().equals(oldD.getSpec().getReplicas())) {
          seen.add(newD.getSpec().getReplicas());
        }
      }

      @Override
      public void onDelete(Deployment d, boolean unknown) {}
    };
  }
}

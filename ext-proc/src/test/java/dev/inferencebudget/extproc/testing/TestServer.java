package dev.inferencebudget.extproc.testing;

import dev.inferencebudget.extproc.api.ExtProcConfig;
import dev.inferencebudget.extproc.api.ModelState;
import dev.inferencebudget.extproc.grpc.ExtProcServer;
import dev.inferencebudget.extproc.local.InMemoryControllerLink;
import dev.inferencebudget.extproc.local.InMemoryModelStates;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The ext_proc server in-process, on fake time, with an in-memory model table and controller. */
public final class TestServer implements AutoCloseable {
  public final InMemoryModelStates models;
  public final InMemoryControllerLink controller = new InMemoryControllerLink();
  public final FakeTime time = new FakeTime();
  public final ExtProcServer extProc;
  public final EnvoyDriver envoy;
  private final Server server;
  private final ManagedChannel channel;

  public TestServer(ExtProcConfig config, List<ModelState> initial) throws IOException {
    models = new InMemoryModelStates(initial);
    extProc =
        ExtProcServer.builder(config.withMetricsPort(-1))
            .modelStates(models)
            .controllerLink(controller)
            .ticker(time)
            .scheduler(time)
            .build();
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .addService(extProc.service())
            .maxInboundMessageSize(extProc.maxInboundMessageSize())
            .directExecutor()
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    envoy = new EnvoyDriver(channel);
  }

  public TestServer(List<ModelState> initial) throws IOException {
    this(ExtProcConfig.defaults(), initial);
  }

  @Override
  public void close() throws Exception {
    channel.shutdownNow();
    server.shutdownNow();
    server.awaitTermination(5, TimeUnit.SECONDS);
    extProc.close();
  }
}

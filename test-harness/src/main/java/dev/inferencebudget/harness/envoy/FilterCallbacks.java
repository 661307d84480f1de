package dev.inferencebudget.harness.envoy;

import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import java.util.function.Consumer;

/**
 * What the ext_proc filter needs from the HTTP stream it sits in: Envoy's decoder and encoder
 * filter callbacks, cut down to what the spec's rules use. Every call happens on the stream's
 * event-loop thread.
 */
interface FilterCallbacks {

  /** Where one direction's headers, data and trailers go once the filter lets them continue. */
  interface Sink {
    void headers(MultiMap headers, boolean endStream);

    void data(Buffer data, boolean endStream);

    void trailers(MultiMap trailers);

    /** Flow control: stop reading from the source of this direction (a watermark). */
    void pauseSource();

    void resumeSource();
  }

  /** The request direction: towards the router. */
  Sink decodingSink();

  /** The response direction: towards the downstream client. */
  Sink encodingSink();

  /** Drops the cached route, so the router recomputes it from the (mutated) headers (rule 21). */
  void clearRouteCache();

  /**
   * A local reply: {@code code}, {@code body}, headers adjusted by {@code headerMutator}, and
   * {@code details} for {@code %RESPONSE_CODE_DETAILS%}. If the response has already started
   * downstream, the stream is reset instead.
   */
  void sendLocalReply(int code, String body, Consumer<MultiMap> headerMutator, String details);

  /** Arms a timer on the stream's thread; returns its id. */
  long setTimer(long delayMillis, Runnable action);

  void cancelTimer(long id);

  /** Runs {@code action} on the stream's thread (for gRPC callbacks). */
  void runOnStreamThread(Runnable action);

  /** The listener's buffer limit, for BUFFERED bodies (rule 8). */
  long bufferLimitBytes();

  /** Attribute values for {@code request_attributes}/{@code response_attributes} (rule 2). */
  com.google.protobuf.Value attribute(String name);
}

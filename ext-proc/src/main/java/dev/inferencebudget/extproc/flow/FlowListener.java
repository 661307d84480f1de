package dev.inferencebudget.extproc.flow;

import dev.inferencebudget.extproc.openai.AdmissionError;
import java.time.Duration;

/**
 * What a {@link RequestFlow} tells its transport, each under the flow's lock. Exactly one of {@link
 * #proceed} and {@link #refuse} is called per request body; {@link #waiting} at most once before
 * it.
 */
public interface FlowListener {

  /** The request starts waiting (held or queued): extend Envoy's message deadline now. */
  void waiting(Duration overrideMessageTimeout);

  /** Admitted: forward it. */
  void proceed(Route route);

  /** Refused: answer the client with this error. */
  void refuse(AdmissionError error);
}

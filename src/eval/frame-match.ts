/**
 * CWM's two per-step questions about a predicted frame (tech report, Table 9): did it say where
 * execution goes next (action), and what execution then holds (state)? The model and the baselines
 * are judged by these same two functions.
 */
import { compareFrames } from '../trace/compare';
import type { TraceFrame } from '../trace/frame';
import { START_OF_TRACE_SUFFIX } from '../trace/tokens';

/**
 * Same event and the same source line. A call frame's def line may or may not repeat the
 * START_OF_TRACE comment (the format allows both), so on call frames it is dropped from either side.
 */
export function sameAction(predicted: TraceFrame, real: TraceFrame): boolean {
  if (predicted.event !== real.event) return false;
  if (predicted.event === 'call') return withoutMarker(predicted.source) === withoutMarker(real.source);
  return predicted.source === real.source;
}

/**
 * call/line frames: the same local names with the same values; return/exception frames: the same
 * value. Values compare as compareFrames does (memory addresses ignored), locals in any order. A frame
 * with locals never matches one with a value: they do not describe the same kind of state.
 */
export function sameState(predicted: TraceFrame, real: TraceFrame): boolean {
  const bothLocals = 'locals' in predicted && 'locals' in real;
  const bothValues = 'value' in predicted && 'value' in real;
  if (!bothLocals && !bothValues) return false;
  return compareFrames(predicted, real).every((difference) => difference.kind === 'event' || difference.kind === 'source');
}

function withoutMarker(source: string): string {
  return source.endsWith(START_OF_TRACE_SUFFIX) ? source.slice(0, -START_OF_TRACE_SUFFIX.length) : source;
}

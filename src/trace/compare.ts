/** Where a predicted frame and the real one disagree. */
import { TraceFrame } from './frame';

export type FrameDifference =
  | { readonly kind: 'event'; readonly predicted: string; readonly actual: string }
  | { readonly kind: 'source'; readonly predicted: string; readonly actual: string }
  /** `undefined` on a side: the variable does not exist there. */
  | { readonly kind: 'local'; readonly name: string; readonly predicted?: string; readonly actual?: string }
  | { readonly kind: 'value'; readonly predicted: string; readonly actual: string };

const ADDRESS = /\b0x[0-9a-fA-F]+\b/g;
const MARKER = /\s*#\s*<<\s*START_OF_TRACE\s*$/;

/** A repr with memory addresses blanked: `<Node object at 0x7f…>` differs run to run, not in meaning. */
export function normalizeRepr(repr: string): string {
  return repr.replace(ADDRESS, '0x…');
}

export function sameRepr(a: string, b: string): boolean {
  return a === b || normalizeRepr(a) === normalizeRepr(b);
}

/** Every difference between the two frames; empty when they agree. Local order is not compared. */
export function compareFrames(predicted: TraceFrame, actual: TraceFrame): FrameDifference[] {
  const differences: FrameDifference[] = [];
  if (predicted.event !== actual.event) differences.push({ kind: 'event', predicted: predicted.event, actual: actual.event });
  if (normalizeSource(predicted.source) !== normalizeSource(actual.source)) {
    differences.push({ kind: 'source', predicted: predicted.source, actual: actual.source });
  }
  const predictedLocals = 'locals' in predicted ? new Map(predicted.locals) : undefined;
  const actualLocals = 'locals' in actual ? new Map(actual.locals) : undefined;
  if (predictedLocals && actualLocals) {
    for (const [name, repr] of predictedLocals) {
      const real = actualLocals.get(name);
      if (real === undefined || !sameRepr(repr, real)) differences.push({ kind: 'local', name, predicted: repr, actual: real });
    }
    for (const [name, real] of actualLocals) {
      if (!predictedLocals.has(name)) differences.push({ kind: 'local', name, predicted: undefined, actual: real });
    }
  }
  if ('value' in predicted && 'value' in actual && !sameRepr(predicted.value, actual.value)) {
    differences.push({ kind: 'value', predicted: predicted.value, actual: actual.value });
  }
  return differences;
}

function normalizeSource(source: string): string {
  return source.replace(MARKER, '').replace(/\s+$/, '');
}

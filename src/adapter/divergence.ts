/** Where the predicted and the real step disagree, in words a person reads in one glance. */
import { compareFrames, FrameDifference } from '../trace/compare';
import type { FrameEvent } from '../trace/frame';
import type { PlacedStep } from './places';

const SHORT = 40;

export function shortRepr(repr: string): string {
  const line = repr.replace(/\s+/g, ' ');
  return line.length <= SHORT ? line : `${line.slice(0, SHORT - 1)}…`;
}

function eventWord(event: FrameEvent | string): string {
  return event === 'exception' ? 'an exception' : `a ${event}`;
}

export function describeDifference(difference: FrameDifference): string {
  switch (difference.kind) {
    case 'event':
      return `predicted ${eventWord(difference.predicted)}, the real run ${eventWord(difference.actual)}`;
    case 'source':
      return `predicted line \`${difference.predicted.trim()}\`, the real run \`${difference.actual.trim()}\``;
    case 'local':
      if (difference.predicted === undefined) return `${difference.name} exists only in the real run (${shortRepr(difference.actual ?? '')})`;
      if (difference.actual === undefined) return `${difference.name} exists only in the prediction (${shortRepr(difference.predicted)})`;
      return `${difference.name} predicted ${shortRepr(difference.predicted)}, actual ${shortRepr(difference.actual)}`;
    case 'value':
      return `returned value predicted ${shortRepr(difference.predicted)}, actual ${shortRepr(difference.actual)}`;
  }
}

/** Why a predicted step disagrees with reality, or undefined when it agrees. */
export function divergenceOf(predicted: PlacedStep, actual: PlacedStep | undefined): string | undefined {
  if (!predicted.frame) return 'the model wrote no readable frame';
  if (!actual?.frame) return 'the real run has no step like it here';
  const differences = compareFrames(predicted.frame, actual.frame);
  if (differences.length === 0) return undefined;
  // Locals and values say most; a different line is implied by them or shown on its own.
  const first = differences.find((d) => d.kind === 'local' || d.kind === 'value') ?? differences[0];
  const more = differences.length - 1;
  return describeDifference(first) + (more > 0 ? ` (+${more} more)` : '');
}

/** Names whose predicted and real values differ (missing on one side counts). */
export function differingNames(predicted: PlacedStep | undefined, actual: PlacedStep | undefined): Set<string> {
  const names = new Set<string>();
  if (!predicted?.frame || !actual?.frame) return names;
  for (const difference of compareFrames(predicted.frame, actual.frame)) if (difference.kind === 'local') names.add(difference.name);
  return names;
}

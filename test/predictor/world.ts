/** Shared set-up of the predictor suites: real traces of small programs, and predictors over fakes. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelSequence } from '../../src/model/backend';
import { Predictor, PredictorOptions } from '../../src/predictor';
import { Locals, RecordedFrame, TraceFrame } from '../../src/trace/frame';
import { PromptProgram, TraceTarget } from '../../src/trace/prompt';
import { SPECIAL_TOKENS as T } from '../../src/trace/tokens';
import { EXAMPLES, PROGRAMS, tempDir } from '../helpers/env';
import { FakeBackend, testTokenizer } from '../helpers/fake-backend';
import { recordProgram, replayBackend, ReplayOptions } from '../helpers/replay-model';

export const tokenizer = testTokenizer();

/** Loops, nested calls and recursion in one program. */
const WALK = `def fact(n):
    if n <= 1:
        return 1
    return n * fact(n - 1)

def walk(items):
    total = 0
    for i, item in enumerate(items):
        if i % 2 == 0:
            total += fact(item)
        else:
            total -= item
    return total

def main():  # << START_OF_TRACE
    return walk([3, 1, 2])
`;

export interface Recorded {
  readonly program: PromptProgram;
  readonly frames: readonly RecordedFrame[];
}

const cache = new Map<string, Promise<Recorded>>();

function record(key: string, file: string, target: TraceTarget): Promise<Recorded> {
  let found = cache.get(key);
  if (!found) {
    found = recordProgram(file, target).then(({ program, trace }) => ({ program, frames: trace.frames }));
    cache.set(key, found);
  }
  return found;
}

let walkFile: string | undefined;

/** The programs the suites step through, each traced once per process with our tracer. */
export const programs = {
  /** examples/sum_list.py: main (marked) calls sum_list([1, 2, 3]). */
  sumList: (): Promise<Recorded> => record('sumList', path.join(EXAMPLES, 'sum_list.py'), {}),
  /** The same file with sum_list itself marked and called on [1, 2, 3] (entry locals apply). */
  sumListMarked: (): Promise<Recorded> => record('sumListMarked', path.join(EXAMPLES, 'sum_list.py'), { entry: 'sum_list', args: '[1, 2, 3]' }),
  /** Recursion into boom, caught by catcher. */
  catcher: (): Promise<Recorded> => record('catcher', path.join(PROGRAMS, 'exceptions.py'), { entry: 'catcher' }),
  /** An exception that leaves every function, the entry included. */
  uncaught: (): Promise<Recorded> => record('uncaught', path.join(PROGRAMS, 'exceptions.py'), { entry: 'uncaught', args: '1' }),
  /** A generator, lambdas, a comprehension, a call into another module. */
  usesAll: (): Promise<Recorded> => record('usesAll', path.join(PROGRAMS, 'calls.py'), { entry: 'uses_all', args: '[1, 2, 3]' }),
  walk: (): Promise<Recorded> => {
    walkFile ??= path.join(tempDir('predictor-walk-'), 'walk.py');
    if (!fs.existsSync(walkFile)) fs.writeFileSync(walkFile, WALK);
    return record('walk', walkFile, {});
  },
};

/** A frame without the tracer's origin: what a predicted frame can equal. */
export function plain(frame: TraceFrame): TraceFrame {
  return 'value' in frame ? { event: frame.event, source: frame.source, value: frame.value } : { event: frame.event, locals: frame.locals, source: frame.source };
}

export function plainAll(frames: readonly TraceFrame[]): TraceFrame[] {
  return frames.map(plain);
}

export interface World {
  readonly backend: FakeBackend;
  readonly sequence: ModelSequence;
  readonly predictor: Predictor;
  readonly recorded: Recorded;
}

export interface WorldOptions extends PredictorOptions, ReplayOptions {
  readonly contextLength?: number;
  /** Teacher-force the entry frame with the real entry frame's locals. */
  readonly forceEntry?: boolean;
}

/** A started predictor over a replay of `recorded`. */
export async function replayWorld(recorded: Recorded, options: WorldOptions = {}): Promise<World> {
  const backend = replayBackend(tokenizer, recorded.frames, options);
  const started = await startedPredictor(backend, recorded.program, options, options.forceEntry ? entryLocals(recorded) : undefined);
  return { backend, ...started, recorded };
}

export async function startedPredictor(
  backend: FakeBackend,
  program: PromptProgram,
  options: PredictorOptions = {},
  entry?: Locals,
): Promise<{ predictor: Predictor; sequence: ModelSequence }> {
  const sequence = await backend.createSequence();
  const predictor = new Predictor(backend, sequence, options);
  await predictor.start(program, entry ? { entryLocals: entry } : {});
  return { predictor, sequence };
}

export function entryLocals(recorded: Recorded): Locals {
  const first = recorded.frames[0];
  if (!('locals' in first)) throw new Error('the trace does not begin with a call frame');
  return first.locals;
}

/** The real frames at these indexes of the trace, without their origin. */
export function realAt(recorded: Recorded, indexes: readonly number[]): TraceFrame[] {
  return indexes.map((i) => plain(recorded.frames[i]));
}

/** Frames of the predicted steps (undefined where a step has none). */
export function predictedFrames(predictor: Predictor): Array<TraceFrame | undefined> {
  return predictor.steps.map((step) => step.frame);
}

/**
 * The sequence holds exactly the prompt, then every step's tokens in order (each range decoding to the
 * step's text), then the end token if the trace ended.
 */
export function assertConsistent(predictor: Predictor, sequence: ModelSequence): void {
  const tokens = sequence.tokens();
  let at = predictor.promptLength;
  for (const step of predictor.steps) {
    assert.equal(step.tokenStart, at, `step ${step.index} starts where the previous one ended`);
    assert.equal(tokenizer.decode(tokens.slice(step.tokenStart, step.tokenEnd)), step.text, `step ${step.index}'s tokens are its text`);
    at = step.tokenEnd;
  }
  assert.equal(tokens.length, at + (predictor.ended ? 1 : 0), 'nothing but the steps (and the end) after the prompt');
  if (predictor.ended) assert.equal(tokens[at], tokenizer.special(T.endOfText));
}

/**
 * Benchmark (not a test) of the inference engine on a real 200-frame trace.
 *
 *   npm run bench                      (both benchmarks)
 *   npm run bench:model -- [--model DIR] [--frames N] [--repeats N] [--python PATH]
 *
 * The trace is recorded by our tracer from a small sorting program; its frames are encoded exactly as
 * the model reads them. Cost does not depend on which tokens the model picks, so each predicted frame
 * is timed as generating as many tokens as the real frame holds. Three ways are timed side by side,
 * interleaved within each repeat (medians reported; one repeat by default, since re-prompting 200
 * frames re-reads over a million tokens):
 *
 *   kv-reuse     one sequence; each frame generates only its own tokens (the engine's way)
 *   re-prompt    a fresh sequence per frame holding the whole prefix, then the frame (Meta's demo's way)
 *   score        the whole real trace teacher-forced in one scoring pass
 *   grammar      each frame generated under the frame grammar (the product's decoding on the ONNX
 *                backend), then cut and the real frame appended, as the evaluation's steps do
 *
 * Ratios: re-prompt / kv-reuse per frame, decoding the trace step by step (kv-reuse) / score, and the
 * grammar's cost per generated token over kv-reuse's (a constrained frame may end before the real
 * frame's length, so frames are not comparable there, tokens are).
 * The default model is the bundled one when the checkout has it, else the tiny test fixture.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ModelBackend } from '../src/model/backend';
import { openOnnxEngine } from '../src/model/onnx/engine';
import { grammarAfter } from '../src/predictor/frame-grammar';
import { buildPromptTokens } from '../src/predictor/prompt-tokens';
import { encodeFrameTokens } from '../src/predictor/frame-tokens';
import { ProgramFacts } from '../src/predictor/program-facts';
import type { TraceFrame } from '../src/trace/frame';
import { SPECIAL_TOKENS as T } from '../src/trace/tokens';
import { startTrace } from '../src/runtime/tracer';
import { buildPromptProgram } from '../src/trace/prompt';

const PROGRAM = `def bubble_sort(items):
    data = list(items)
    n = len(data)
    for i in range(n):
        for j in range(n - 1 - i):
            if data[j] > data[j + 1]:
                data[j], data[j + 1] = data[j + 1], data[j]
    return data

def main():  # << START_OF_TRACE
    return bubble_sort([9, 4, 7, 1, 8, 12, 2, 6, 3, 5, 0, 11, 10])
`;

interface Options {
  readonly model: string;
  readonly frames: number;
  readonly repeats: number;
  readonly python: string | undefined;
}

function repoRoot(): string {
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('run the benchmark from inside the repository');
    dir = parent;
  }
  return dir;
}

function parseOptions(argv: readonly string[]): Options {
  const root = repoRoot();
  const bundled = path.join(root, 'models', 'cwm-tiny');
  let model = fs.existsSync(bundled) ? bundled : path.join(root, 'test', 'fixtures', 'models', 'tiny-cwm');
  let frames = 200;
  let repeats = 1;
  let python = process.env.NEURAL_DEBUG_PYTHON;
  for (let i = 0; i < argv.length; i++) {
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) throw new Error(`${argv[i - 1]} needs a value`);
      return next;
    };
    const whole = (text: string, name: string): number => {
      if (!/^[1-9]\d*$/.test(text)) throw new Error(`${name} needs a whole number, not "${text}"`);
      return Number(text);
    };
    switch (argv[i]) {
      case '--model': model = value(); break;
      case '--frames': frames = whole(value(), '--frames'); break;
      case '--repeats': repeats = whole(value(), '--repeats'); break;
      case '--python': python = value(); break;
      default: throw new Error(`unknown option ${argv[i]} (options: --model DIR --frames N --repeats N --python PATH)`);
    }
  }
  return { model, frames, repeats, python };
}

/** The prompt's tokens and each real frame's tokens, as the model would read them. */
interface RealTrace {
  readonly prompt: number[];
  readonly frames: number[][];
  readonly traceFrames: TraceFrame[];
  readonly source: string;
}

async function realTrace(engine: ModelBackend, options: Options): Promise<RealTrace> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nd-model-bench-'));
  const programPath = path.join(dir, 'sort.py');
  fs.writeFileSync(programPath, PROGRAM);
  const program = buildPromptProgram(PROGRAM, {});
  const result = await startTrace({ programPath, program, python: options.python }).done;
  fs.rmSync(dir, { recursive: true, force: true });
  if (result.frames.length < options.frames) throw new Error(`the program made ${result.frames.length} frames, fewer than --frames ${options.frames}`);
  const frames = result.frames.slice(0, options.frames);
  const tokenizer = engine.tokenizer;
  return {
    prompt: [...buildPromptTokens(tokenizer, program).prompt],
    frames: frames.map((frame, i) => [...encodeFrameTokens(tokenizer, frame, frames[i - 1]).tokens]),
    traceFrames: frames,
    source: program.source,
  };
}

/** Each frame under the frame grammar, then the real frame in its place; returns [ms, tokens generated]. */
async function grammarSteps(engine: ModelBackend, trace: RealTrace): Promise<[number, number]> {
  const { tokenizer, info } = engine;
  const facts = new ProgramFacts(trace.source);
  const stops = [tokenizer.special(T.frameSep), ...info.eosTokenIds];
  const seq = await engine.createSequence(trace.prompt);
  let generated = 0;
  const start = performance.now();
  for (let k = 0; k < trace.frames.length; k++) {
    const constraint = grammarAfter(tokenizer, facts, trace.traceFrames.slice(0, k).map((frame) => ({ frame })), new Set(info.eosTokenIds));
    const before = seq.length;
    const result = await seq.generate({ maxTokens: trace.frames[k].length, stopTokenIds: stops, constraint });
    generated += result.tokens.length;
    await seq.truncate(before);
    await seq.append(trace.frames[k]);
  }
  const ms = performance.now() - start;
  seq.dispose();
  return [ms, generated];
}

async function kvReuse(engine: ModelBackend, prompt: number[], frames: number[][]): Promise<number> {
  const seq = await engine.createSequence(prompt);
  const start = performance.now();
  for (const frame of frames) await seq.generate({ maxTokens: frame.length, stopTokenIds: [] });
  const ms = performance.now() - start;
  seq.dispose();
  return ms;
}

async function rePrompt(engine: ModelBackend, prompt: number[], frames: number[][]): Promise<number> {
  let prefix = prompt;
  const start = performance.now();
  for (const frame of frames) {
    const seq = await engine.createSequence(prefix);
    await seq.generate({ maxTokens: frame.length, stopTokenIds: [] });
    seq.dispose();
    prefix = [...prefix, ...frame];
  }
  return performance.now() - start;
}

async function scoreOnce(engine: ModelBackend, prompt: number[], frames: number[][]): Promise<number> {
  const seq = await engine.createSequence(prompt);
  const start = performance.now();
  await seq.score(frames.flat());
  const ms = performance.now() - start;
  seq.dispose();
  return ms;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const engine = await openOnnxEngine(options.model, { executionProvider: 'cpu' });
  try {
    const trace = await realTrace(engine, options);
    const { prompt, frames } = trace;
    const traceTokens = frames.reduce((sum, frame) => sum + frame.length, 0);
    console.log(`model: ${engine.info.name} (${options.model}), ${engine.info.device}, ${os.cpus().length} cores`);
    console.log(`trace: ${frames.length} real frames, ${traceTokens} tokens after a ${prompt.length}-token prompt; median of ${options.repeats} repeats`);
    // One untimed round warms the session's allocations up.
    await kvReuse(engine, prompt, frames.slice(0, 5));
    const times = { kv: [] as number[], re: [] as number[], score: [] as number[], grammar: [] as number[] };
    let grammarTokens = 0;
    for (let r = 0; r < options.repeats; r++) {
      times.kv.push(await kvReuse(engine, prompt, frames));
      times.re.push(await rePrompt(engine, prompt, frames));
      times.score.push(await scoreOnce(engine, prompt, frames));
      const [ms, tokens] = await grammarSteps(engine, trace);
      times.grammar.push(ms);
      grammarTokens = tokens;
    }
    const kv = median(times.kv);
    const re = median(times.re);
    const score = median(times.score);
    const grammar = median(times.grammar);
    const perFrame = (ms: number): string => `${(ms / frames.length).toFixed(2)} ms/frame`;
    console.log('');
    console.log(`kv-reuse   ${perFrame(kv).padStart(16)}   ${((traceTokens / kv) * 1000).toFixed(0)} tokens/s generated`);
    console.log(`re-prompt  ${perFrame(re).padStart(16)}   (whole prefix re-read every frame, as Meta's demo does)`);
    console.log(`score      ${`${score.toFixed(1)} ms`.padStart(16)}   whole trace in one pass, ${((traceTokens / score) * 1000).toFixed(0)} tokens/s`);
    console.log(`grammar    ${perFrame(grammar).padStart(16)}   ${((grammarTokens / grammar) * 1000).toFixed(0)} tokens/s generated (${grammarTokens} tokens; each frame cut and the real one appended)`);
    console.log('');
    console.log(`ratio re-prompt / kv-reuse, per frame:             ${(re / kv).toFixed(1)}x`);
    console.log(`ratio grammar / kv-reuse, per generated token:     ${(grammar / grammarTokens / (kv / traceTokens)).toFixed(2)}x`);
    console.log(`ratio step-by-step decoding / one scoring pass:     ${(kv / score).toFixed(1)}x`);
  } finally {
    await engine.close();
  }
}

main().catch((error: unknown) => {
  console.error(`model-bench: ${(error as Error).message}`);
  process.exit(1);
});

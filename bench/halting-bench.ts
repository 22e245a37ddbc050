/**
 * Benchmark of halting verdicts (in the spirit of CWM's HaltEval): 64 small programs with one input
 * each, in bench/halting/terminates/ (32) and bench/halting/loops/ (32: loop exits out of reach,
 * recursion with no base for that input, cycles over state). Each file starts with `# call: f(ARGS)`.
 *
 *   npm run bench:halting -- [--model DIR] [--endpoint URL [--tokenizer PATH]] [--samples N]
 *                            [--max-steps N] [--timeout S] [--python PATH] [--limit N] [--no-model]
 *
 * Prints, per class, how often each judge is right: the bundled model (or --model), an endpoint when
 * given (its API key from $NEURAL_DEBUG_API_KEY), and the real run alone (a bounded traced run: it
 * returned or raised = terminates; still going at the time or step limit, past the depth limit, or a
 * whole state repeated = does not). "unknown" counts as wrong. Always answering "terminates" scores 50 %.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { benchArgs } from './bench-args';
import { predictHalting } from '../src/halting/model-check';
import { checkHaltingForReal } from '../src/halting/real-check';
import type { Verdict } from '../src/halting/verdict';
import type { ModelBackend } from '../src/model/backend';
import { findBundledModel, openModel } from '../src/model/open-model';
import { buildPromptProgram, PromptProgram } from '../src/trace/prompt';

const ROOT = path.resolve(__dirname, '..', '..');
const PROGRAMS = path.join(ROOT, 'bench', 'halting');
type Truth = 'terminates' | 'loops';

interface BenchProgram {
  readonly name: string;
  readonly file: string;
  readonly truth: Truth;
  readonly entry: string;
  readonly args: string;
  readonly program: PromptProgram;
}

interface Options {
  readonly model?: string;
  readonly endpoint?: string;
  readonly tokenizer?: string;
  readonly samples: number;
  readonly maxSteps: number;
  readonly timeout: number;
  readonly python?: string;
  readonly limit: number;
  readonly noModel: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const { value, number, flag } = benchArgs(argv);

  const model = value('--model');
  const endpoint = value('--endpoint');
  const tokenizer = value('--tokenizer');
  const python = value('--python');
  return {
    ...(model ? { model } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(tokenizer ? { tokenizer } : {}),
    ...(python ? { python } : {}),
    samples: number('--samples', 2),
    maxSteps: number('--max-steps', 48),
    timeout: number('--timeout', 2),
    limit: number('--limit', Infinity),
    noModel: flag('--no-model'),
  };
}

function readPrograms(limit: number): BenchProgram[] {
  const programs: BenchProgram[] = [];
  for (const truth of ['terminates', 'loops'] as const) {
    const dir = path.join(PROGRAMS, truth);
    const names = fs.readdirSync(dir).filter((name) => name.endsWith('.py')).sort().slice(0, limit);
    for (const name of names) {
      const file = path.join(dir, name);
      const text = fs.readFileSync(file, 'utf8');
      const call = /^# call: ([A-Za-z_]\w*)\(([\s\S]*)\)\s*$/m.exec(text.split('\n')[0]);
      if (!call) throw new Error(`${file}: the first line must be "# call: f(ARGS)"`);
      programs.push({ name: name.replace(/\.py$/, ''), file, truth, entry: call[1], args: call[2], program: buildPromptProgram(text, { entry: call[1], args: call[2] }) });
    }
  }
  return programs;
}

interface Tally {
  right: Record<Truth, number>;
  unknown: Record<Truth, number>;
  total: Record<Truth, number>;
  seconds: number;
}

const emptyTally = (): Tally => ({ right: { terminates: 0, loops: 0 }, unknown: { terminates: 0, loops: 0 }, total: { terminates: 0, loops: 0 }, seconds: 0 });

function count(tally: Tally, truth: Truth, verdict: Verdict, seconds: number): void {
  tally.total[truth]++;
  tally.seconds += seconds;
  if (verdict === 'unknown') tally.unknown[truth]++;
  else if ((verdict === 'terminates') === (truth === 'terminates')) tally.right[truth]++;
}

const percent = (part: number, whole: number): string => (whole === 0 ? '—' : `${((100 * part) / whole).toFixed(1)} %`);

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const programs = readPrograms(options.limit);
  const judges: Array<{ label: string; backend: ModelBackend }> = [];
  if (!options.noModel) {
    const bundled = findBundledModel([ROOT]);
    const folder = options.model ?? bundled;
    if (!folder) throw new Error('no bundled model found; give --model DIR');
    const backend = await openModel({ model: folder, device: 'cpu' });
    judges.push({ label: `model: ${backend.info.name}`, backend });
    if (options.endpoint) {
      const apiKey = process.env.NEURAL_DEBUG_API_KEY;
      const remote = await openModel({ endpoint: options.endpoint, ...(options.tokenizer ? { tokenizer: options.tokenizer } : {}), ...(apiKey ? { apiKey } : {}) });
      judges.push({ label: `endpoint: ${remote.info.name}`, backend: remote });
    }
  }
  console.log(`halting benchmark: ${programs.length} programs (${programs.filter((p) => p.truth === 'terminates').length} terminate, ${programs.filter((p) => p.truth === 'loops').length} never do)`);
  console.log(`model runs: greedy + ${options.samples} sampled, ${options.maxSteps} predicted frames each; real run: ${options.timeout} s, 100,000 steps, 500 calls deep\n`);

  const tallies = new Map<string, Tally>([...judges.map((judge) => [judge.label, emptyTally()] as const), ['real run alone', emptyTally()]]);
  const real = tallies.get('real run alone') as Tally;
  let proofs = 0;
  for (const program of programs) {
    const cells: string[] = [];
    for (const judge of judges) {
      const started = performance.now();
      const verdict = await predictHalting(judge.backend, program.program, undefined, { samples: options.samples, maxSteps: options.maxSteps });
      count(tallies.get(judge.label) as Tally, program.truth, verdict.verdict, (performance.now() - started) / 1000);
      cells.push(`${verdict.verdict} (${verdict.runs.map((run) => run.outcome).join('/')})`);
    }
    const started = performance.now();
    const check = await checkHaltingForReal(program.program, { programPath: program.file, timeoutSeconds: options.timeout, ...(options.python ? { python: options.python } : {}) });
    count(real, program.truth, check.verdict, (performance.now() - started) / 1000);
    if (check.proven) proofs++;
    cells.push(`real: ${check.outcome}`);
    console.log(`${program.truth === 'terminates' ? 'T' : 'L'} ${program.name.padEnd(34)} ${cells.join('  ')}`);
  }

  console.log('\n| judge | terminates: right | never terminates: right | overall | unknown | seconds |');
  console.log('|---|---|---|---|---|---|');
  for (const [label, tally] of tallies) {
    const right = tally.right.terminates + tally.right.loops;
    const total = tally.total.terminates + tally.total.loops;
    const unknown = tally.unknown.terminates + tally.unknown.loops;
    console.log(`| ${label} | ${tally.right.terminates}/${tally.total.terminates} (${percent(tally.right.terminates, tally.total.terminates)}) | ${tally.right.loops}/${tally.total.loops} (${percent(tally.right.loops, tally.total.loops)}) | ${percent(right, total)} | ${unknown} | ${tally.seconds.toFixed(1)} |`);
  }
  console.log(`\nthe real run proved ${proofs} loop${proofs === 1 ? '' : 's'} by a repeated whole state; always answering "terminates" scores 50.0 %`);
  for (const judge of judges) await judge.backend.close();
}

main().catch((error: unknown) => {
  console.error(`bench:halting: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});

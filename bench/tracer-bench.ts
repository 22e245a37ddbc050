/**
 * Benchmark (not a test) of the real tracer's cost, against a plain run and the stdlib line tracer.
 *
 *   npm run bench -- [--python PATH] [--repeats N] [--iterations N] [--all-pythons]
 *
 * For one Python program whose traced loop makes about 100,000 line events, four variants are timed
 * side by side, interleaved within each repeat (the median of N repeats is reported, after one
 * untimed warm-up round that also checks that every variant works):
 *
 *   plain     `python prog.py`, no tracing
 *   stdlib    `python -m trace --trace prog.py`, its stdout to /dev/null (records no locals)
 *   ours      cwm_tracer.py started the way tracer.ts starts it, its protocol stdout to /dev/null
 *   pipeline  startTrace(): the tracer plus the TypeScript side that parses the stream and rebuilds frames
 *
 * Environment: NEURAL_DEBUG_PYTHON (interpreter), BENCH_REPEATS (N, default 3),
 * BENCH_ITERATIONS (loop iterations, default 33,333: three line events each).
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildPromptProgram, PromptProgram } from '../src/trace/prompt';
import { BOOTSTRAP } from '../src/runtime/python';
import { defaultTracerScript, startTrace, TraceLimits } from '../src/runtime/tracer';

const GOAL = 'goal: recording locals costs no more than stdlib line tracing (ratio <= 1.0)';
const TIMEOUT_SECONDS = 300;

type Variant = 'plain' | 'stdlib' | 'ours' | 'pipeline';
const VARIANTS: readonly Variant[] = ['plain', 'stdlib', 'ours', 'pipeline'];
const LABELS: Record<Variant, string> = {
  plain: 'plain run (no tracing)',
  stdlib: 'stdlib python -m trace --trace',
  ours: 'our tracer alone (cwm_tracer.py)',
  pipeline: 'our full pipeline (startTrace)',
};

interface Options {
  readonly pythons: readonly string[];
  readonly repeats: number;
  readonly iterations: number;
}

interface Setup {
  readonly dir: string;
  readonly programPath: string;
  readonly jobPath: string;
  readonly program: PromptProgram;
  readonly limits: TraceLimits;
  readonly tracerScript: string;
}

interface Measurement {
  readonly python: string;
  readonly version: string;
  /** Frames the pipeline recorded: the traced steps. */
  readonly steps: number;
  readonly seconds: Record<Variant, number[]>;
}

// Same environment for every variant, as tracer.ts sets it for the tracer.
const ENV: NodeJS.ProcessEnv = { ...process.env, PYTHONIOENCODING: 'utf-8', PYTHONUTF8: '1', PYTHONDONTWRITEBYTECODE: '1' };

function programText(iterations: number): string {
  return [
    'def work(n):',
    '    total = 0',
    '    i = 0',
    '    while i < n:',
    '        total += i * i % 7',
    '        i += 1',
    '    return total',
    '',
    '',
    'if __name__ == "__main__":',
    `    work(${iterations})`,
    '',
  ].join('\n');
}

function parseOptions(argv: readonly string[]): Options {
  let python = process.env.NEURAL_DEBUG_PYTHON || 'python3';
  let repeats = process.env.BENCH_REPEATS ?? '3';
  let iterations = process.env.BENCH_ITERATIONS ?? '33333';
  let all = false;
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split(/=(.*)/s, 2);
    const value = (): string => {
      const text = inline ?? argv[++i];
      if (text === undefined) throw new Error(`${name} needs a value`);
      return text;
    };
    if (name === '--python') python = value();
    else if (name === '--repeats' || name === '-n') repeats = value();
    else if (name === '--iterations') iterations = value();
    else if (name === '--all-pythons') all = true;
    else throw new Error(`unknown argument ${argv[i]} (use --python PATH, --repeats N, --iterations N, --all-pythons)`);
  }
  return {
    pythons: all ? pyenvPythons() : [python],
    repeats: positiveInt(repeats, 'repeats'),
    iterations: positiveInt(iterations, 'iterations'),
  };
}

function positiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a positive integer, not "${text}"`);
  return n;
}

/** Every ~/.pyenv/versions/X.Y* interpreter with X.Y >= 3.8, oldest first. */
function pyenvPythons(): string[] {
  const root = path.join(os.homedir(), '.pyenv', 'versions');
  let names: string[];
  try {
    names = fs.readdirSync(root);
  } catch {
    throw new Error(`--all-pythons: no ${root}`);
  }
  const found: Array<{ key: number[]; exe: string }> = [];
  for (const name of names) {
    const match = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(name);
    if (!match) continue;
    const key = [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
    if (key[0] < 3 || (key[0] === 3 && key[1] < 8)) continue;
    const exe = path.join(root, name, 'bin', 'python3');
    if (fs.existsSync(exe)) found.push({ key, exe });
  }
  found.sort((a, b) => a.key[0] - b.key[0] || a.key[1] - b.key[1] || a.key[2] - b.key[2]);
  if (found.length === 0) throw new Error(`--all-pythons: no Python 3.8+ under ${root}`);
  return found.map((item) => item.exe);
}

/** Runs a command with stdout to /dev/null; resolves with its wall time in seconds. */
function timeProcess(label: string, command: string, args: readonly string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { cwd, env: ENV, stdio: ['ignore', 'ignore', 'pipe'], timeout: TIMEOUT_SECONDS * 1000 });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString('utf8')).slice(-2000);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (code === 0) resolve(seconds);
      else reject(new Error(`${label} with ${command} failed (${signal ?? 'exit ' + code}): ${stderr.trim()}`));
    });
  });
}

/** Runs startTrace() to the end; resolves with its wall time and the number of frames recorded. */
async function timePipeline(setup: Setup, python: string): Promise<{ seconds: number; frames: number }> {
  const started = process.hrtime.bigint();
  const result = await startTrace({
    programPath: setup.programPath,
    program: setup.program,
    python,
    limits: setup.limits,
    tracerScript: setup.tracerScript,
  }).done;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.end.reason !== 'returned') throw new Error(`pipeline with ${python} ended "${result.end.reason}": ${result.end.message}`);
  return { seconds, frames: result.frames.length };
}

function runVariant(variant: Variant, setup: Setup, python: string): Promise<{ seconds: number; frames?: number }> {
  switch (variant) {
    case 'plain':
      return timeProcess(LABELS.plain, python, [setup.programPath], setup.dir).then((seconds) => ({ seconds }));
    case 'stdlib':
      return timeProcess(LABELS.stdlib, python, ['-m', 'trace', '--trace', setup.programPath], setup.dir).then((seconds) => ({ seconds }));
    case 'ours':
      return timeProcess(LABELS.ours, python, ['-c', BOOTSTRAP, setup.tracerScript, setup.jobPath], setup.dir).then((seconds) => ({ seconds }));
    case 'pipeline':
      return timePipeline(setup, python);
  }
}

/**
 * The interpreter's version and real executable. Every variant runs the executable itself, so that a
 * wrapper such as a pyenv shim (a shell script costing ~100 ms a start) does not pad all timings.
 */
async function describePython(python: string, cwd: string): Promise<{ version: string; executable: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-c', 'import sys; print("%d.%d.%d" % sys.version_info[:3]); print(sys.executable)'], { cwd, env: ENV, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', (error) => reject(new Error(`cannot run Python "${python}": ${error.message}`)));
    child.on('close', (code) => {
      const [version, executable] = out.trim().split(/\r?\n/);
      if (code === 0 && version && executable) resolve({ version, executable });
      else reject(new Error(`"${python}" exited with ${code} without naming its version and executable`));
    });
  });
}

async function measure(setup: Setup, requested: string, repeats: number, log: (line: string) => void): Promise<Measurement> {
  const { version, executable: python } = await describePython(requested, setup.dir);
  const seconds: Record<Variant, number[]> = { plain: [], stdlib: [], ours: [], pipeline: [] };
  let steps = 0;
  // Round 0 is the untimed warm-up (disk caches, bytecode of the stdlib modules, the JIT of the TS side).
  for (let round = 0; round <= repeats; round++) {
    for (const variant of VARIANTS) {
      const result = await runVariant(variant, setup, python);
      if (result.frames !== undefined) steps = result.frames;
      if (round > 0) seconds[variant].push(result.seconds);
    }
    log(`  ${python} (${version}): ${round === 0 ? 'warm-up' : `repeat ${round}/${repeats}`} done`);
  }
  return { python, version, steps, seconds };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const fmtSeconds = (s: number): string => s.toFixed(3);
const fmtRate = (r: number): string => Math.round(r).toLocaleString('en-US');
const fmtRatio = (r: number): string => r.toFixed(2);

function ratios(m: Measurement): { oursPlain: number; oursStdlib: number; pipelineStdlib: number } {
  const med = (v: Variant): number => median(m.seconds[v]);
  return {
    oursPlain: med('ours') / med('plain'),
    oursStdlib: med('ours') / med('stdlib'),
    pipelineStdlib: med('pipeline') / med('stdlib'),
  };
}

function table(rows: readonly string[][], rightAligned: readonly boolean[]): string[] {
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
  return rows.map((row) => row.map((cell, column) => (rightAligned[column] ? cell.padStart(widths[column]) : cell.padEnd(widths[column]))).join('  ').trimEnd());
}

function reportOne(m: Measurement, repeats: number): string[] {
  const rows: string[][] = [['variant', 'median s', 'min s', 'max s', 'steps/s']];
  for (const variant of VARIANTS) {
    const values = m.seconds[variant];
    const med = median(values);
    rows.push([
      LABELS[variant],
      fmtSeconds(med),
      fmtSeconds(Math.min(...values)),
      fmtSeconds(Math.max(...values)),
      fmtRate(m.steps / med) + (variant === 'pipeline' ? ' frames/s' : ''),
    ]);
  }
  const r = ratios(m);
  return [
    `Python ${m.version} (${m.python}); ${m.steps.toLocaleString('en-US')} traced steps; median of ${repeats} repeat${repeats === 1 ? '' : 's'}, variants interleaved, 1 warm-up round`,
    '',
    ...table(rows, [false, true, true, true, true]),
    '',
    `ours/plain             ${fmtRatio(r.oursPlain)}`,
    `ours/stdlib-trace      ${fmtRatio(r.oursStdlib)}`,
    `pipeline/stdlib-trace  ${fmtRatio(r.pipelineStdlib)}`,
    '',
    GOAL,
    `  tracer alone: ours/stdlib-trace = ${fmtRatio(r.oursStdlib)} -> ${r.oursStdlib <= 1 ? 'HOLDS' : 'DOES NOT HOLD'}`,
    `  full pipeline: pipeline/stdlib-trace = ${fmtRatio(r.pipelineStdlib)} -> ${r.pipelineStdlib <= 1 ? 'HOLDS' : 'DOES NOT HOLD'}`,
  ];
}

function reportAll(ms: readonly Measurement[], repeats: number): string[] {
  const rows: string[][] = [['python', 'plain s', 'stdlib s', 'ours s', 'pipeline s', 'ours steps/s', 'pipeline frames/s', 'ours/plain', 'ours/stdlib', 'pipeline/stdlib', 'goal']];
  for (const m of ms) {
    const r = ratios(m);
    const med = (v: Variant): number => median(m.seconds[v]);
    rows.push([
      m.version,
      ...VARIANTS.map((v) => fmtSeconds(med(v))),
      fmtRate(m.steps / med('ours')),
      fmtRate(m.steps / med('pipeline')),
      fmtRatio(r.oursPlain),
      fmtRatio(r.oursStdlib),
      fmtRatio(r.pipelineStdlib),
      r.oursStdlib <= 1 ? 'holds' : 'no',
    ]);
  }
  const held = ms.filter((m) => ratios(m).oursStdlib <= 1).length;
  return [
    `${ms[0].steps.toLocaleString('en-US')} traced steps; median of ${repeats} repeat${repeats === 1 ? '' : 's'} per interpreter, variants interleaved, 1 warm-up round`,
    '',
    ...table(rows, [false, true, true, true, true, true, true, true, true, true, false]),
    '',
    GOAL,
    `  holds (ours/stdlib-trace <= 1.0) on ${held} of ${ms.length} interpreters`,
  ];
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const tracerScript = defaultTracerScript();
  if (!fs.existsSync(tracerScript)) throw new Error(`no tracer at ${tracerScript}; run the bundled dist/bench/tracer-bench.js (npm run bench)`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tracer-bench-'));
  try {
    const programPath = path.join(dir, 'prog.py');
    const text = programText(options.iterations);
    fs.writeFileSync(programPath, text);
    const program = buildPromptProgram(text, { entry: 'work', args: String(options.iterations) });
    const limits: TraceLimits = {
      maxSteps: Math.max(1_000_000, options.iterations * 10),
      timeoutSeconds: TIMEOUT_SECONDS,
      maxReprLength: 1000,
      maxOutputBytes: 1 << 20,
      maxDepth: 500,
    };
    // The job tracer.ts writes for the same run.
    const jobPath = path.join(dir, 'job.json');
    fs.writeFileSync(jobPath, JSON.stringify({
      program: programPath,
      source: program.source,
      call: program.call,
      moduleName: program.moduleName,
      scope: 'program',
      limits,
    }));
    const setup: Setup = { dir, programPath, jobPath, program, limits, tracerScript };

    console.log(`tracer benchmark: work(${options.iterations}), a while loop with 2 locals (3 line events per iteration); ${os.cpus().length} CPUs`);
    const results: Measurement[] = [];
    for (const python of options.pythons) {
      results.push(await measure(setup, python, options.repeats, (line) => console.error(line)));
    }
    console.log('');
    const lines = results.length === 1 ? reportOne(results[0], options.repeats) : reportAll(results, options.repeats);
    console.log(lines.join('\n'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`tracer-bench: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});

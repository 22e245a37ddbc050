/**
 * A tiny sequential test runner for the end-to-end suites, which run inside VS Code's extension host
 * (no mocha there). Named steps run one after another; a failed step is recorded with its message and
 * the run goes on, except that after a failed `critical` step the remaining steps are skipped (but
 * `always` steps, the clean-ups, still run). Results are written after every step, as JSON to the file
 * named by $NEURAL_DEBUG_E2E_RESULTS and as text beside it (same name + `.txt`), so a run that hangs
 * still leaves what it got through. Extension-host stdout is not surfaced by code-server, so these files
 * (and the runner that prints them) are the only report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type StepStatus = 'passed' | 'failed' | 'skipped';

export interface StepResult {
  readonly suite: string;
  readonly name: string;
  readonly status: StepStatus;
  readonly ms: number;
  readonly error?: string;
}

export interface StepOptions {
  /** Later steps of the suite depend on this one: skip them (but not `always` steps) if it fails. */
  readonly critical?: boolean;
  /** Runs even after a critical failure (clean-up). */
  readonly always?: boolean;
  /** Bound on the step (default 60 s); it fails with a clear message when exceeded. */
  readonly timeoutMs?: number;
}

interface Step extends StepOptions {
  readonly name: string;
  readonly body: () => Promise<void> | void;
}

export interface Report {
  readonly started: string;
  finished?: string;
  readonly steps: StepResult[];
  readonly log: string[];
  passed: number;
  failed: number;
  skipped: number;
}

const report: Report = { started: new Date().toISOString(), steps: [], log: [], passed: 0, failed: 0, skipped: 0 };
const startedAt = Date.now();

/** A line for the report's log (with the seconds since the run began); also goes to the console. */
export function log(line: string): void {
  const stamped = `[${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${line}`;
  report.log.push(stamped);
  console.log(`[e2e] ${stamped}`);
  writeResults();
}

export class Suite {
  private readonly steps: Step[] = [];

  constructor(readonly name: string) {}

  step(name: string, body: () => Promise<void> | void, options: StepOptions = {}): this {
    this.steps.push({ name, body, ...options });
    return this;
  }

  async run(): Promise<void> {
    let blockedBy: string | undefined;
    for (const step of this.steps) {
      if (blockedBy && !step.always) {
        record({ suite: this.name, name: step.name, status: 'skipped', ms: 0, error: `skipped: "${blockedBy}" failed` });
        continue;
      }
      const began = Date.now();
      log(`${this.name} › ${step.name}`);
      try {
        await withTimeout(Promise.resolve().then(step.body), step.timeoutMs ?? 60_000, `step "${step.name}"`);
        record({ suite: this.name, name: step.name, status: 'passed', ms: Date.now() - began });
      } catch (error) {
        record({ suite: this.name, name: step.name, status: 'failed', ms: Date.now() - began, error: describe(error) });
        if (step.critical) blockedBy = step.name;
      }
    }
  }
}

function record(result: StepResult): void {
  report.steps.push(result);
  report[result.status]++;
  const mark = { passed: 'ok  ', failed: 'FAIL', skipped: 'skip' }[result.status];
  log(`${mark} ${result.suite} › ${result.name} (${result.ms} ms)${result.error ? `\n      ${result.error.replace(/\n/g, '\n      ')}` : ''}`);
}

export function describe(error: unknown): string {
  if (error instanceof Error) {
    const stack = error.stack?.split('\n').slice(1, 4).map((line) => line.trim()).join('\n') ?? '';
    return `${error.message}${stack ? `\n${stack}` : ''}`;
  }
  return String(error);
}

/** The results so far; `finished` set when all suites are done. */
export function finish(): Report {
  report.finished = new Date().toISOString();
  writeResults();
  return report;
}

function resultsText(): string {
  const lines = report.steps.map((step) => {
    const mark = { passed: 'ok  ', failed: 'FAIL', skipped: 'skip' }[step.status];
    return `${mark} ${step.suite} › ${step.name} (${step.ms} ms)${step.error ? `\n      ${step.error.replace(/\n/g, '\n      ')}` : ''}`;
  });
  const total = `${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped${report.finished ? '' : ' (run not finished)'}`;
  return `${lines.join('\n')}\n${total}\n\nlog:\n${report.log.join('\n')}\n`;
}

function writeResults(): void {
  const file = process.env.NEURAL_DEBUG_E2E_RESULTS;
  if (!file) return;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
    fs.renameSync(`${file}.tmp`, file);
    fs.writeFileSync(`${file}.txt`, resultsText());
  } catch (error) {
    console.error(`[e2e] cannot write results to ${file}: ${describe(error)}`);
  }
}

/** Resolves or rejects with `promise`, or rejects after `ms` with "<what> timed out". */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${(ms / 1000).toFixed(0)} s`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` every 50 ms until it returns a value other than undefined/false, or fails after `ms`. */
export async function waitUntil<T>(probe: () => T | undefined | false, ms: number, what: string): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${(ms / 1000).toFixed(0)} s waiting for ${what}`);
    await sleep(50);
  }
}

let screenshots = 0;

/**
 * Asks the runner for a screenshot of the workbench as it is now, and waits until it is taken. The
 * handshake: this writes {seq, name} to $NEURAL_DEBUG_E2E_SCREENSHOT_REQUEST; the runner, which polls
 * for it, takes the screenshot and writes {seq} to $NEURAL_DEBUG_E2E_SCREENSHOT_DONE. Without those
 * variables (the @vscode/test-electron runner, a manual run) it does nothing and says so.
 */
export async function screenshot(name: string, timeoutMs = 30_000): Promise<boolean> {
  const request = process.env.NEURAL_DEBUG_E2E_SCREENSHOT_REQUEST;
  const done = process.env.NEURAL_DEBUG_E2E_SCREENSHOT_DONE;
  if (!request || !done) {
    log(`screenshot "${name}" skipped: no screenshot handshake in this runner`);
    return false;
  }
  const seq = ++screenshots;
  fs.writeFileSync(`${request}.tmp`, JSON.stringify({ seq, name }));
  fs.renameSync(`${request}.tmp`, request);
  await waitUntil(() => {
    try {
      return (JSON.parse(fs.readFileSync(done, 'utf8')) as { seq?: number }).seq === seq;
    } catch {
      return false;
    }
  }, timeoutMs, `the runner to take screenshot "${name}"`);
  log(`screenshot "${name}" taken`);
  return true;
}

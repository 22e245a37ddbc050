/** Runs the real tracer on a fixture program the way the CLI and the debugger do. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildPromptProgram, TraceTarget } from '../../src/trace/prompt';
import { startTrace, TraceListener, TraceOptions, TraceResult, TraceRun } from '../../src/runtime/tracer';
import { PROGRAMS } from './env';

export type TraceTestOptions = Omit<TraceOptions, 'programPath' | 'program'>;

export function startFixture(file: string, target: TraceTarget, options: TraceTestOptions = {}, listener?: TraceListener): TraceRun {
  const programPath = path.isAbsolute(file) ? file : path.join(PROGRAMS, file);
  const program = buildPromptProgram(fs.readFileSync(programPath, 'utf8'), target);
  return startTrace({ programPath, program, ...options }, listener);
}

export function traceFixture(file: string, target: TraceTarget, options: TraceTestOptions = {}): Promise<TraceResult> {
  return startFixture(file, target, options).done;
}

/** A frame as one short line, for readable sequence assertions: `call boom 1 {n=1}`. */
export function summarize(result: TraceResult): string[] {
  return result.frames.map((frame) => {
    const where = `${frame.event} ${frame.origin.functionName} ${frame.origin.line}`;
    if ('value' in frame) return `${where} -> ${frame.value}${frame.origin.unwinding ? ' (unwinding)' : ''}`;
    return `${where} {${frame.locals.map(([name, repr]) => `${name}=${repr}`).join(', ')}}`;
  });
}

/** True while a process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}

export async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return condition();
}

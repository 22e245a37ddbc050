/**
 * The entry's arguments as locals, for predicting a marked entry function: bind_args.py parses the
 * program and evaluates only literals, so nothing of the user's code runs (safe without trust).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { Locals } from '../trace/frame';
import type { PromptProgram } from '../trace/prompt';
import { resolvePython } from './python';

export class BindError extends Error {}

export interface BindOptions {
  readonly python?: string;
  /** Path of bind_args.py; by default the one shipped beside this module. */
  readonly script?: string;
  readonly timeoutMs?: number;
}

export function bindArguments(program: PromptProgram, options: BindOptions = {}): Promise<Locals> {
  const python = resolvePython(options.python);
  const script = options.script ?? path.join(__dirname, 'bind_args.py');
  const request = JSON.stringify({ source: program.source, function: program.call.function, args: program.call.args });
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-I', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new BindError(`binding the arguments took longer than ${(options.timeoutMs ?? 10_000) / 1000} s`));
    }, options.timeoutMs ?? 10_000);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new BindError(`cannot start ${python} to bind the arguments: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      let answer: { locals?: Array<[string, string]>; error?: string };
      try {
        answer = JSON.parse(stdout) as typeof answer;
      } catch {
        reject(new BindError(`${python} could not bind the arguments (exit code ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`));
        return;
      }
      if (answer.error !== undefined || !Array.isArray(answer.locals)) reject(new BindError(answer.error ?? 'no answer'));
      else resolve(answer.locals.map(([name, repr]) => [name, repr] as const));
    });
    child.stdin.end(request);
  });
}

/**
 * The entry's arguments as locals, for predicting a marked entry function: bind_args.py parses the
 * program and evaluates only literals, so nothing of the user's code runs (safe without trust).
 */
import * as path from 'node:path';
import type { Locals } from '../trace/frame';
import type { PromptProgram } from '../trace/prompt';
import { resolvePython } from './python';
import { runPythonJson } from './python-json';

export class BindError extends Error {}

export interface BindOptions {
  readonly python?: string;
  /** Path of bind_args.py; by default the one shipped beside this module. */
  readonly script?: string;
  readonly timeoutMs?: number;
}

export async function bindArguments(program: PromptProgram, options: BindOptions = {}): Promise<Locals> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const answer = (await runPythonJson({
    python: resolvePython(options.python),
    script: options.script ?? path.join(__dirname, 'bind_args.py'),
    input: { source: program.source, function: program.call.function, args: program.call.args },
    timeoutMs,
    startPurpose: 'bind the arguments',
    failPurpose: 'bind the arguments',
    timeoutMessage: `binding the arguments took longer than ${timeoutMs / 1000} s`,
    error: (message) => new BindError(message),
  })) as { locals?: Array<[string, string]>; error?: string } | null;
  if (answer?.error !== undefined || !Array.isArray(answer?.locals)) throw new BindError(answer?.error ?? 'no answer');
  return answer.locals.map(([name, repr]) => [name, repr] as const);
}

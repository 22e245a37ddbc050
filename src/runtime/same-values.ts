/**
 * Whether two reprs stand for the same Python value, for many pairs at once: same_values.py reads
 * both sides with ast.literal_eval (a model's text is never run) in one interpreter start for all
 * pairs. Where either side is not a literal (`<Node object at 0x…>`, `set()`), the texts are compared
 * with memory addresses blanked.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { normalizeRepr } from '../trace/compare';
import { resolvePython } from './python';

export class ValueComparisonError extends Error {}

export interface SameValuesOptions {
  readonly python?: string;
  /** Path of same_values.py; by default the one shipped beside this module. */
  readonly script?: string;
  readonly timeoutMs?: number;
}

export type ReprPair = readonly [string, string];

export async function sameValues(pairs: readonly ReprPair[], options: SameValuesOptions = {}): Promise<boolean[]> {
  if (pairs.length === 0) return [];
  const answers = await literalAnswers(pairs, options);
  return pairs.map(([a, b], i) => answers[i] ?? normalizeRepr(a) === normalizeRepr(b));
}

/** true/false where both sides are literals, null where the text must decide. */
function literalAnswers(pairs: readonly ReprPair[], options: SameValuesOptions): Promise<Array<boolean | null>> {
  const python = resolvePython(options.python);
  const script = options.script ?? path.join(__dirname, 'same_values.py');
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-I', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new ValueComparisonError(`comparing ${pairs.length} values took longer than ${timeoutMs / 1000} s`));
    }, timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A child that dies before reading its input must not take this process down with EPIPE.
    child.stdin.on('error', () => undefined);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new ValueComparisonError(`cannot start ${python} to compare values: ${error.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      let answers: unknown;
      try {
        answers = JSON.parse(stdout);
      } catch {
        reject(new ValueComparisonError(`${python} could not compare the values (exit code ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`));
        return;
      }
      if (!Array.isArray(answers) || answers.length !== pairs.length || !answers.every((a) => a === true || a === false || a === null)) {
        reject(new ValueComparisonError(`${python} answered the value comparison with something else than ${pairs.length} answers`));
        return;
      }
      resolve(answers as Array<boolean | null>);
    });
    child.stdin.end(JSON.stringify(pairs));
  });
}

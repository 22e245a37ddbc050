/**
 * Whether two reprs stand for the same Python value, for many pairs at once: same_values.py reads
 * both sides with ast.literal_eval (a model's text is never run) in one interpreter start for all
 * pairs. Where either side is not a literal (`<Node object at 0x…>`, `set()`), the texts are compared
 * with memory addresses blanked.
 */
import * as path from 'node:path';
import { normalizeRepr } from '../trace/compare';
import { resolvePython } from './python';
import { runPythonJson } from './python-json';

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
async function literalAnswers(pairs: readonly ReprPair[], options: SameValuesOptions): Promise<Array<boolean | null>> {
  const python = resolvePython(options.python);
  const timeoutMs = options.timeoutMs ?? 60_000;
  const answers = await runPythonJson({
    python,
    script: options.script ?? path.join(__dirname, 'same_values.py'),
    input: pairs,
    timeoutMs,
    startPurpose: 'compare values',
    failPurpose: 'compare the values',
    timeoutMessage: `comparing ${pairs.length} values took longer than ${timeoutMs / 1000} s`,
    error: (message) => new ValueComparisonError(message),
  });
  if (!Array.isArray(answers) || answers.length !== pairs.length || !answers.every((a) => a === true || a === false || a === null)) {
    throw new ValueComparisonError(`${python} answered the value comparison with something else than ${pairs.length} answers`);
  }
  return answers as Array<boolean | null>;
}

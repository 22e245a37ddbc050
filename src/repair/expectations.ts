/**
 * What a function is expected to do, read from the text: `assert f(ARGS) == VALUE` (and `assert
 * f(ARGS)`, `assert not f(ARGS)`) in the program or a test that imports it, doctests (`>>> f(ARGS)`
 * and the line after), calls the program makes (they must at least not raise), and what the user
 * states. Arguments must be literals, so each expectation can be replayed as one traced call.
 */
import { findFunctionInputs, importsModule, isLiteralArgs } from '../halting/inputs';
import { scanPython } from '../trace/pysource';

export type ExpectationKind = 'equal' | 'truthy' | 'falsy' | 'returns';
export type ExpectationOrigin = 'assert' | 'doctest' | 'call' | 'test' | 'user';

export interface Expectation {
  readonly function: string;
  readonly args: string;
  readonly kind: ExpectationKind;
  /** The expected value's text (kind 'equal'). */
  readonly expected?: string;
  readonly origin: ExpectationOrigin;
  /** 1-based line in `file` when given, else in the program. */
  readonly line: number;
  readonly file?: string;
}

/** "f(2) == 4", "f(2) is true", "f(2) returns". */
export function describeExpectation(expectation: Expectation): string {
  const call = `${expectation.function}(${expectation.args})`;
  switch (expectation.kind) {
    case 'equal':
      return `${call} == ${expectation.expected}`;
    case 'truthy':
      return `${call} is true`;
    case 'falsy':
      return `${call} is false`;
    case 'returns':
      return `${call} returns`;
  }
}

const ASSERT = /^\s*assert\s+(.*?)\s*(?:,\s*(?:'[^']*'|"[^"]*"))?\s*(?:#.*)?$/;

/** The expectations a program states about its own top-level functions. */
export function findExpectations(text: string): Expectation[] {
  const scanned = scanPython(text);
  const names = new Set(scanned.functions.filter((fn) => fn.parent === undefined && !fn.isClass).map((fn) => fn.name));
  const found: Expectation[] = [];
  const assertLines = new Set<number>();
  scanned.lines.forEach((line, row) => {
    const parsed = scanned.continuation[row] ? undefined : parseAssert(line, names);
    if (parsed) {
      found.push({ ...parsed, origin: 'assert', line: row + 1 });
      assertLines.add(row + 1);
    }
    const doctest = /^\s*(?:[rRuU]?(?:"""|'''))?\s*>>>\s?(.*)$/.exec(line);
    const call = doctest && wholeCall(doctest[1].trim(), names);
    if (call) {
      const next = scanned.lines[row + 1]?.trim() ?? '';
      const expected = next.replace(/(?:"""|''')$/, '').trim();
      if (expected !== '' && !expected.startsWith('>>>')) found.push({ ...call, kind: 'equal', expected, origin: 'doctest', line: row + 1 });
    }
  });
  for (const fn of findFunctionInputs(text)) {
    for (const input of fn.inputs) {
      if (input.origin === 'doctest' || assertLines.has(input.line) || !isLiteralArgs(input.args)) continue;
      found.push({ function: fn.name, args: input.args, kind: 'returns', origin: 'call', line: input.line });
    }
  }
  return unique(found);
}

/** The asserts of a test file that imports `moduleName`, about `names`. */
export function findTestExpectations(testText: string, testFile: string, moduleName: string, names: readonly string[]): Expectation[] {
  if (!importsModule(testText, moduleName)) return [];
  const escaped = moduleName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const wanted = new Set(names);
  const found: Expectation[] = [];
  testText.split(/\r?\n/).forEach((line, row) => {
    const parsed = parseAssert(line.replace(new RegExp(`\\b${escaped}\\.`, 'g'), ''), wanted);
    if (parsed) found.push({ ...parsed, origin: 'test', line: row + 1, file: testFile });
  });
  return unique(found);
}

/** `f(2) == 4` as the user types it for a user-stated expectation. */
export function parseStatedExpectation(text: string, names: ReadonlySet<string>): Expectation | undefined {
  const parsed = parseAssert(`assert ${text}`, names);
  return parsed && { ...parsed, origin: 'user', line: 0 };
}

function parseAssert(line: string, names: ReadonlySet<string>): Omit<Expectation, 'origin' | 'line' | 'file'> | undefined {
  const match = ASSERT.exec(line);
  if (!match) return undefined;
  const body = match[1].trim();
  const negated = /^not\s+/.exec(body);
  const alone = wholeCall(negated ? body.slice(negated[0].length) : body, names);
  if (alone) return { ...alone, kind: negated ? 'falsy' : 'truthy' };
  const sides = splitTopLevel(body, '==');
  if (!sides) return undefined;
  const [left, right] = sides;
  const leftCall = wholeCall(left, names);
  const rightCall = wholeCall(right, names);
  if (leftCall && isLiteralArgs(right)) return { ...leftCall, kind: 'equal', expected: right };
  if (rightCall && isLiteralArgs(left)) return { ...rightCall, kind: 'equal', expected: left };
  return undefined;
}

/** `f(ARGS)` and nothing else, with literal arguments. */
function wholeCall(text: string, names: ReadonlySet<string>): { function: string; args: string } | undefined {
  const match = /^([A-Za-z_]\w*)\s*\(([\s\S]*)\)$/.exec(text.trim());
  if (!match || !names.has(match[1])) return undefined;
  const args = match[2].trim();
  if (!balanced(args) || !isLiteralArgs(args)) return undefined;
  return { function: match[1], args };
}

/**
 * Walks `text` outside strings, calling `visit` with each character's bracket depth; `visit` may
 * return how many characters it consumed. False when a bracket closes that never opened, or a string
 * or bracket is left open.
 */
function scanCode(text: string, visit: (i: number, depth: number) => number | void = () => undefined): boolean {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) {
      if (--depth < 0) return false;
    } else i += Math.max(0, (visit(i, depth) ?? 1) - 1);
  }
  return depth === 0 && quote === '';
}

/** [left, right] of the one top-level `op` in `text` (outside brackets and strings). */
function splitTopLevel(text: string, op: string): [string, string] | undefined {
  let at = -1;
  let twice = false;
  scanCode(text, (i, depth) => {
    if (depth !== 0 || !text.startsWith(op, i) || text[i + op.length] === '=' || '!<>='.includes(text[i - 1] ?? ' ')) return undefined;
    if (at >= 0) twice = true;
    at = i;
    return op.length;
  });
  return at < 0 || twice ? undefined : [text.slice(0, at).trim(), text.slice(at + op.length).trim()];
}

function balanced(text: string): boolean {
  return scanCode(text);
}

function unique(expectations: readonly Expectation[]): Expectation[] {
  const seen = new Set<string>();
  return expectations.filter((e) => {
    const key = describeExpectation(e);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * When a repeated state in a real run proves that the program never ends. The tracer shows each
 * activation's line and the reprs of its locals; that is the program's whole state only when nothing
 * else can change what happens next. This module says, from the source and the values, why that may
 * not be so. Any reason at all, and a repeated state is reported as what it is, not as a proof.
 *
 * Read conservatively: state the tracer cannot see hides in a `for` loop's iterator, generators,
 * objects (attributes, identities, aliasing between mutable values), globals and closed-over cells,
 * imported modules, and builtins that read the world (`input`, `time`, `random`, `next`). So a proof
 * is claimed only for programs whose functions use none of those, and whose values are all immutable
 * literals (numbers, strings, bytes, booleans, None, tuples of them): two equal reprs of such values
 * are equal values, and nothing else can differ.
 */
import { boundNames } from '../predictor/bound-names';
import { namesOnLine } from '../trace/line-names';
import { scanPython } from '../trace/pysource';
import type { Locals } from '../trace/frame';

const HIDDEN_KEYWORDS: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bfor\b/, 'a for loop keeps its iterator outside the locals'],
  [/\b(?:yield|await|async)\b/, 'a generator or coroutine keeps state outside the locals'],
  [/\b(?:global|nonlocal)\b/, 'it assigns variables outside the running function'],
  [/\b(?:import|class|with)\b/, 'it uses modules, classes or context managers, whose state the trace does not show'],
];

/** Builtins that compute from their arguments alone (or only write output). */
const PURE_BUILTINS: ReadonlySet<string> = new Set([
  'abs', 'all', 'any', 'ascii', 'bin', 'bool', 'bytes', 'chr', 'complex', 'dict', 'divmod', 'float', 'format',
  'frozenset', 'hash', 'hex', 'int', 'isinstance', 'issubclass', 'len', 'list', 'max', 'min', 'oct', 'ord', 'pow',
  'print', 'range', 'repr', 'round', 'set', 'sorted', 'str', 'sum', 'tuple', 'True', 'False', 'None',
]);

const ATTRIBUTE_ASSIGNMENT = /\.\s*[A-Za-z_]\w*\s*(?:[-+*/%&|^@]|\*\*|\/\/|>>|<<)?=(?!=)/;
const IMMUTABLE_CONSTANT = /^([A-Za-z_]\w*)\s*=(?!=)\s*(.+)$/;

/** Why the locals of `source`'s functions may not be the whole state (empty: they are). */
export function hiddenStateReasons(source: string): string[] {
  const scanned = scanPython(source);
  const code = stripStringsAndComments(source).split('\n');
  const reasons = new Set<string>();
  const functions = scanned.functions.filter((fn) => !fn.isClass);
  if (scanned.functions.some((fn) => fn.isClass)) reasons.add(HIDDEN_KEYWORDS[3][1]);
  const inFunction = (row: number): boolean => functions.some((fn) => row + 1 >= fn.firstLine && row + 1 <= fn.lastLine);

  const known = new Set(PURE_BUILTINS);
  for (const fn of scanned.functions) if (fn.parent === undefined) known.add(fn.name);
  const assignedAtTop = new Map<string, number>();
  scanned.lines.forEach((line, row) => {
    if (inFunction(row) || scanned.continuation[row]) return;
    const match = IMMUTABLE_CONSTANT.exec(line);
    if (!match) return;
    assignedAtTop.set(match[1], (assignedAtTop.get(match[1]) ?? 0) + (isImmutableLiteral(match[2].trim()) ? 1 : 2));
  });
  // A module-level name bound once to an immutable literal is a constant (no function may rebind it:
  // `global` is already a reason).
  for (const [name, count] of assignedAtTop) if (count === 1) known.add(name);

  for (const fn of functions) {
    const rows: number[] = [];
    for (let row = fn.firstLine - 1; row < fn.lastLine; row++) rows.push(row);
    const bound = new Set<string>();
    for (const row of rows) for (const name of boundNames(scanned.lines[row])) bound.add(name);
    for (const row of rows) {
      const line = code[row];
      for (const [pattern, reason] of HIDDEN_KEYWORDS) if (pattern.test(line)) reasons.add(reason);
      if (ATTRIBUTE_ASSIGNMENT.test(line)) reasons.add('it assigns attributes, which the trace does not show');
      for (const { name } of namesOnLine(line)) {
        if (bound.has(name) || known.has(name) || /^[A-Z]\w*(?:Error|Exception)$/.test(name)) continue;
        reasons.add(`${fn.name} reads "${name}", which is neither its own variable nor a constant`);
      }
    }
  }
  return [...reasons];
}

/** Why these locals may hide state (empty: every value is an immutable literal, shown whole). */
export function hiddenValueReasons(locals: Locals): string[] {
  const reasons: string[] = [];
  for (const [name, repr] of locals) {
    if (!isImmutableLiteral(repr)) reasons.push(`"${name}" holds ${repr.length > 40 ? repr.slice(0, 40) + '…' : repr}, not an immutable literal`);
  }
  return reasons;
}

/** A number, string, bytes, boolean, None, or a tuple of those, as repr() writes them (never cut). */
export function isImmutableLiteral(repr: string): boolean {
  let rest = '';
  for (let i = 0; i < repr.length; i++) {
    const c = repr[i];
    if (c === "'" || c === '"') {
      const close = endOfQuoted(repr, i);
      if (close < 0) return false;
      i = close;
      rest += ' ';
      continue;
    }
    rest += c;
  }
  // What is left between the strings: numbers, tuples, keywords; a `b` prefix before a string.
  return /^(?:[\d.eEj+\-(), ]|\bb(?= )|True|False|None|inf|nan)*$/.test(rest);
}

function endOfQuoted(text: string, open: number): number {
  const quote = text[open];
  for (let i = open + 1; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === quote) return i;
  }
  return -1;
}

/** The source with string contents and comments blanked (line structure kept), for keyword checks. */
function stripStringsAndComments(source: string): string {
  let out = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      out += '\n';
      continue;
    }
    if (c !== "'" && c !== '"') {
      out += c;
      continue;
    }
    const quote = source.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
    out += quote;
    i += quote.length;
    while (i < source.length && !source.startsWith(quote, i)) {
      if (source[i] === '\\') {
        out += ' ';
        i++;
      }
      if (source[i] === '\n') {
        out += '\n';
        if (quote.length === 1) break; // an unterminated one-line string ends at the line
      } else if (i < source.length) out += ' ';
      i++;
    }
    out += source.startsWith(quote, i) ? quote : '';
    i += quote.length - 1;
  }
  return out;
}

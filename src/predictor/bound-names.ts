/**
 * The names one physical line of Python binds in the scope it runs in: what can become a key of a
 * frame's locals. Read from the text alone, and generous where it must guess (a subscript's base in an
 * assignment target, a comprehension's variable, every name of an import or a `case` pattern), so that
 * a real local is never missed; what it leaves out are names only read there, such as the builtins and
 * globals a function calls, which never appear in its frame.
 *
 * Bindings found: parameters (a `def` line binds every name on it), nested `def`/`class` names,
 * assignment and augmented-assignment targets (left of a top-level `=`), `for` targets, `as` names,
 * walrus targets, imports, `global`/`nonlocal` and `case` lines.
 */
import { LineName, namesOnLine } from '../trace/line-names';

export function boundNames(line: string): string[] {
  const names = namesOnLine(line);
  if (names.length === 0) return [];
  const stripped = line.trimStart();
  if (/^(?:async\s+)?def\b|^(?:import|from|global|nonlocal|case)\b/.test(stripped)) return unique(names);
  if (/^class\b/.test(stripped)) return unique(names.slice(0, 1));
  const code = codeMask(line);
  const regions: Array<readonly [number, number]> = [];
  const lastAssign = lastTopLevelAssignment(line, code);
  if (lastAssign >= 0) regions.push([0, lastAssign]);
  for (const match of line.matchAll(/\bfor\b/g)) {
    const start = match.index as number;
    if (!code.at[start]) continue;
    const end = findWord(line, code, 'in', start + 3);
    regions.push([start + 3, end < 0 ? line.length : end]);
  }
  const bound = names.filter((name) => regions.some(([from, to]) => name.start >= from && name.start < to) || follows(line, name, /\bas\s+$/) || precedes(line, name, /^\s*:=/));
  return unique(bound);
}

function unique(names: readonly LineName[]): string[] {
  return [...new Set(names.map((name) => name.name))];
}

function follows(line: string, name: LineName, before: RegExp): boolean {
  return before.test(line.slice(0, name.start));
}

function precedes(line: string, name: LineName, after: RegExp): boolean {
  return after.test(line.slice(name.end));
}

interface CodeMask {
  /** Per character: code (not in a string or comment). */
  readonly at: readonly boolean[];
  /** Per character: bracket depth. */
  readonly depth: readonly number[];
}

/** Which characters are code and at what bracket depth, for one line taken to start outside any string. */
function codeMask(line: string): CodeMask {
  const at: boolean[] = [];
  const depth: number[] = [];
  let quote = '';
  let level = 0;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote !== '') {
      at.push(false);
      depth.push(level);
      if (c === '\\') {
        at.push(false);
        depth.push(level);
        i++;
      } else if (line.startsWith(quote, i)) {
        for (let k = 1; k < quote.length; k++) {
          at.push(false);
          depth.push(level);
        }
        i += quote.length - 1;
        quote = '';
      }
      continue;
    }
    if (c === '#') {
      while (at.length < line.length) {
        at.push(false);
        depth.push(level);
      }
      break;
    }
    if (c === '"' || c === "'") {
      quote = line.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      for (let k = 0; k < quote.length; k++) {
        at.push(false);
        depth.push(level);
      }
      i += quote.length - 1;
      continue;
    }
    if (c === ')' || c === ']' || c === '}') level = Math.max(0, level - 1);
    at.push(true);
    depth.push(level);
    if (c === '(' || c === '[' || c === '{') level++;
  }
  return { at, depth };
}

/** Index of the last `=` (or augmented `op=`) at bracket depth 0 that assigns, or -1. */
function lastTopLevelAssignment(line: string, code: CodeMask): number {
  let last = -1;
  for (let i = 0; i < line.length; i++) {
    if (line[i] !== '=' || !code.at[i] || code.depth[i] !== 0) continue;
    const next = line[i + 1];
    const previous = line[i - 1] ?? '';
    if (next === '=') {
      i++; // `==`
      continue;
    }
    if (previous === '=' || previous === '!' || previous === ':') continue; // `==`, `!=`, walrus
    if ((previous === '<' || previous === '>') && line[i - 2] !== previous) continue; // `<=`, `>=`; `<<=` assigns
    // An augmented operator's first character belongs to the operator, not to the target.
    last = /[+\-*/%&|^@<>]/.test(previous) ? i - (line[i - 2] === previous && (previous === '*' || previous === '/' || previous === '<' || previous === '>') ? 2 : 1) : i;
  }
  return last;
}

/** Index of the word `word` as code at or after `from`, or -1. */
function findWord(line: string, code: CodeMask, word: string, from: number): number {
  const pattern = new RegExp(`\\b${word}\\b`, 'g');
  pattern.lastIndex = from;
  for (let match = pattern.exec(line); match; match = pattern.exec(line)) {
    if (code.at[match.index]) return match.index;
  }
  return -1;
}

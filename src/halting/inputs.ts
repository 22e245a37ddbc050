/**
 * The inputs a function can be judged on: calls the program itself makes (its `__main__` block or top
 * level), doctests, calls in the workspace's tests, and inputs the user gave. Read from the text alone:
 * nothing is run to find them.
 */
import { scanPython, PySource } from '../trace/pysource';

export type InputOrigin = 'main' | 'top-level' | 'doctest' | 'test' | 'user';

export interface FunctionInput {
  /** Python argument text, e.g. `[1, 2], 3`. */
  readonly args: string;
  readonly origin: InputOrigin;
  /** 1-based line of the call, in `file` when given, else in the function's own file. */
  readonly line: number;
  readonly file?: string;
}

/** The top-level functions of a file, each with the inputs the file itself gives it (maybe none). */
export interface FunctionWithInputs {
  readonly name: string;
  readonly defLine: number;
  readonly firstLine: number;
  readonly lastLine: number;
  readonly inputs: readonly FunctionInput[];
}

const MAIN_GUARD = /^if\s+__name__\s*==\s*(['"])__main__\1\s*:/;

export function findFunctionInputs(fileText: string): FunctionWithInputs[] {
  const scanned = scanPython(fileText);
  const functions = scanned.functions.filter((fn) => fn.parent === undefined && !fn.isClass);
  const names = new Set(functions.map((fn) => fn.name));
  const found = new Map<string, FunctionInput[]>(functions.map((fn) => [fn.name, []]));
  const insideDefinition = (row: number): boolean => scanned.functions.some((fn) => fn.parent === undefined && row + 1 >= fn.firstLine && row + 1 <= fn.lastLine);

  let inMain = false;
  for (const [row, text] of logicalLines(scanned)) {
    if (insideDefinition(row)) continue;
    const indented = /^\s/.test(scanned.lines[row]);
    if (!indented) inMain = MAIN_GUARD.test(text.trim());
    if (!indented && MAIN_GUARD.test(text.trim())) continue;
    const origin: InputOrigin = inMain && indented ? 'main' : 'top-level';
    for (const call of callsIn(text, names)) found.get(call.name)?.push({ args: call.args, origin, line: row + 1 });
  }
  for (const fn of functions) {
    for (let row = fn.defLine; row < fn.lastLine; row++) {
      const doctest = /^\s*(?:[rRuU]?(?:"""|'''))?\s*>>>\s?(.*)$/.exec(scanned.lines[row]);
      if (!doctest) continue;
      for (const call of callsIn(doctest[1], names)) {
        if (call.name === fn.name) found.get(fn.name)?.push({ args: call.args, origin: 'doctest', line: row + 1 });
      }
    }
  }
  return functions.map((fn) => ({ name: fn.name, defLine: fn.defLine, firstLine: fn.firstLine, lastLine: fn.lastLine, inputs: unique(found.get(fn.name) ?? []) }));
}

/**
 * Calls with literal arguments to `names` in a test file that imports `moduleName` (`import m`,
 * `from m import f`, `from pkg.m import f`); arguments that name the test's own variables cannot be
 * replayed outside it and are left out.
 */
export function findTestInputs(testText: string, testFile: string, moduleName: string, names: readonly string[]): Map<string, FunctionInput[]> {
  const found = new Map<string, FunctionInput[]>();
  if (!importsModule(testText, moduleName)) return found;
  const scanned = scanPython(testText);
  const wanted = new Set(names);
  for (const [row, text] of logicalLines(scanned)) {
    for (const call of callsIn(text, wanted, true)) {
      if (!isLiteralArgs(call.args)) continue;
      const list = found.get(call.name) ?? [];
      list.push({ args: call.args, origin: 'test', line: row + 1, file: testFile });
      found.set(call.name, list);
    }
  }
  for (const [name, list] of found) found.set(name, unique(list));
  return found;
}

/** The text imports `moduleName` (`import m`, `import pkg.m`, `from m import f`, `from pkg.m import f`). */
export function importsModule(text: string, moduleName: string): boolean {
  const escaped = moduleName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\s*(?:from\\s+(?:[\\w.]+\\.)?${escaped}\\s+import\\b|import\\s+(?:[\\w.]+\\.)?${escaped}\\b)`, 'm').test(text);
}

/** Argument text made of literals only (numbers, strings, containers, True/False/None, keyword names). */
export function isLiteralArgs(args: string): boolean {
  const withoutStrings = args.replace(/[rbuRBU]{0,2}("""|'''|"|')(?:\\[\s\S]|(?!\1)[^\\])*\1/g, '0');
  if (/["']/.test(withoutStrings)) return false;
  const withoutKeywords = withoutStrings.replace(/\b[A-Za-z_]\w*\s*=(?!=)/g, '').replace(/\b(?:True|False|None)\b/g, '0');
  // Any name left is a variable or a call; inside number literals (1e5, 0x1f, 2j) letters are not names.
  if (/\b[A-Za-z_]\w*/.test(withoutKeywords)) return false;
  return /^[\s\w.,:+\-()[\]{}]*$/.test(withoutKeywords);
}

interface Call {
  readonly name: string;
  readonly args: string;
}

/** Calls `name(args)` of the given names in one logical line (not method calls, not definitions). */
function callsIn(text: string, names: ReadonlySet<string>, allowAttribute = false): Call[] {
  const calls: Call[] = [];
  const pattern = /\b([A-Za-z_]\w*)\s*\(/g;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    const name = match[1];
    const before = text.slice(0, match.index);
    if (!names.has(name) || /\bdef\s+$/.test(before) || insideString(before)) continue;
    // `module.f(...)` in a test names the function through its module; elsewhere it is another object's method.
    if (/\.\s*$/.test(before) && !allowAttribute) continue;
    const open = match.index + match[0].length - 1;
    const close = matchingParen(text, open);
    if (close < 0) continue;
    calls.push({ name, args: text.slice(open + 1, close).trim() });
  }
  return calls;
}

function matchingParen(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      const quote = text.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
      i += quote.length;
      while (i < text.length && !text.startsWith(quote, i)) i += text[i] === '\\' ? 2 : 1;
      i += quote.length - 1;
    } else if (c === '#') return -1;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c) && --depth === 0) return i;
  }
  return -1;
}

function insideString(before: string): boolean {
  let quote = '';
  for (let i = 0; i < before.length; i++) {
    const c = before[i];
    if (quote) {
      if (c === '\\') i++;
      else if (before.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = '';
      }
    } else if (c === '#') return true;
    else if (c === '"' || c === "'") quote = before.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
  }
  return quote !== '';
}

/** [first physical row (0-based), the logical line's text joined] for each statement. */
function logicalLines(scanned: PySource): Array<readonly [number, string]> {
  const lines: Array<[number, string]> = [];
  scanned.lines.forEach((line, row) => {
    if (scanned.continuation[row] && lines.length > 0) lines[lines.length - 1][1] += '\n' + line;
    else lines.push([row, line]);
  });
  return lines;
}

function unique(inputs: readonly FunctionInput[]): FunctionInput[] {
  const seen = new Set<string>();
  return inputs.filter((input) => !seen.has(input.args) && seen.add(input.args) !== undefined);
}

/**
 * Just enough of Python's lexical structure to find logical lines, indentation and function
 * definitions without a Python process (predict mode runs where no interpreter may be allowed).
 * Strings, comments, brackets and backslash continuations are respected, so a `def` inside a string
 * or a bracket is never taken for a definition.
 */

export interface PyFunction {
  readonly name: string;
  /** 1-based line of the `def` keyword (decorators come before it). */
  readonly defLine: number;
  /** 1-based line of the first decorator, or defLine when there is none. */
  readonly firstLine: number;
  /** 1-based last line of the body. */
  readonly lastLine: number;
  readonly indent: number;
  readonly isClass: boolean;
  /** Index of the enclosing definition in PySource.functions, if any. */
  readonly parent?: number;
}

export interface PySource {
  /** Physical lines without their line terminators. */
  readonly lines: readonly string[];
  /** For each physical line (0-based index): it begins inside a string or bracket, not a new statement. */
  readonly continuation: readonly boolean[];
  readonly functions: readonly PyFunction[];
}

interface LogicalLine {
  readonly first: number; // 0-based physical line
  readonly last: number;
  readonly indent: number;
  readonly text: string; // the first physical line's text
}

export function splitLines(source: string): string[] {
  const lines = source.split(/\r\n|\r|\n/);
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function scanPython(source: string): PySource {
  const lines = splitLines(source);
  const continuation = new Array<boolean>(lines.length).fill(false);
  const logical: LogicalLine[] = [];

  let quote = ''; // the open string's delimiter: ', ", ''' or """
  let depth = 0;
  let start = -1;
  let joined = false; // the previous line ended in a backslash outside any comment or string
  for (let row = 0; row < lines.length; row++) {
    const line = lines[row];
    const beginsInside = quote !== '' || depth > 0 || (joined && start >= 0);
    continuation[row] = beginsInside;
    if (!beginsInside) {
      const stripped = line.trim();
      if (stripped !== '' && !stripped.startsWith('#')) start = row;
      else start = -1;
      if (start === row) logical.push({ first: row, last: row, indent: indentOf(line), text: line });
    } else if (logical.length > 0 && start >= 0) {
      const open = logical[logical.length - 1];
      logical[logical.length - 1] = { ...open, last: row };
    }
    let i = 0;
    let inComment = false;
    while (i < line.length) {
      if (quote !== '') {
        const c = line[i];
        if (c === '\\') {
          i += 2;
          continue;
        }
        if (line.startsWith(quote, i)) {
          i += quote.length;
          quote = '';
          continue;
        }
        i++;
        continue;
      }
      const c = line[i];
      if (c === '#') {
        inComment = true;
        break;
      }
      if (c === '"' || c === "'") {
        const triple = line.startsWith(c.repeat(3), i) ? c.repeat(3) : c;
        quote = triple;
        i += triple.length;
        continue;
      }
      if (c === '(' || c === '[' || c === '{') depth++;
      else if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
      i++;
    }
    // A one-quote string cannot span lines unless the line ends in a backslash.
    if (quote.length === 1 && !endsWithBackslash(line)) quote = '';
    joined = quote === '' && !inComment && endsWithBackslash(line);
  }

  return { lines, continuation, functions: findFunctions(logical, lines.length) };
}

function findFunctions(logical: readonly LogicalLine[], lineCount: number): PyFunction[] {
  const functions: PyFunction[] = [];
  const open: number[] = []; // indices into functions whose bodies are still open
  let decoratorStart = -1;
  const close = (index: number, lastLine: number): void => {
    functions[index] = { ...functions[index], lastLine };
  };
  for (let k = 0; k < logical.length; k++) {
    const line = logical[k];
    while (open.length > 0 && line.indent <= functions[open[open.length - 1]].indent) {
      close(open.pop() as number, previousCodeLine(logical, k));
    }
    const stripped = line.text.trim();
    if (stripped.startsWith('@')) {
      if (decoratorStart < 0) decoratorStart = line.first;
      continue;
    }
    const match = /^(?:async\s+)?(def|class)\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(stripped);
    if (match) {
      functions.push({
        name: match[2],
        defLine: line.first + 1,
        firstLine: (decoratorStart >= 0 ? decoratorStart : line.first) + 1,
        lastLine: line.last + 1,
        indent: line.indent,
        isClass: match[1] === 'class',
        parent: open.length > 0 ? open[open.length - 1] : undefined,
      });
      // Every body closes at the next logical line indented no deeper than its header, which also
      // covers one-line bodies (`def f(): return 1`) and headers spread over several lines.
      open.push(functions.length - 1);
    }
    decoratorStart = -1;
  }
  const last = logical.length > 0 ? logical[logical.length - 1].last + 1 : lineCount;
  while (open.length > 0) close(open.pop() as number, last);
  return functions;
}

function previousCodeLine(logical: readonly LogicalLine[], k: number): number {
  return k > 0 ? logical[k - 1].last + 1 : 1;
}

function endsWithBackslash(line: string): boolean {
  return /\\$/.test(line);
}

export function indentOf(line: string): number {
  let n = 0;
  while (n < line.length && (line[n] === ' ' || line[n] === '\t')) n++;
  return n;
}

/**
 * The last line of the block a compound statement opens (its own line for `while n: n -= 1`):
 * the lines after it that are indented deeper, not counting blank lines, comments and continuations.
 */
export function blockEnd(source: PySource, line: number): number {
  const indent = indentOf(source.lines[line - 1] ?? '');
  let end = line;
  for (let row = line; row < source.lines.length; row++) {
    if (source.continuation[row]) {
      if (end === row) end = row + 1; // the header's own continuation lines
      continue;
    }
    const text = source.lines[row];
    const stripped = text.trim();
    if (stripped === '' || stripped.startsWith('#')) continue;
    if (indentOf(text) <= indent) break;
    end = row + 1;
  }
  return end;
}

export function isLoopHeader(text: string): boolean {
  return /^\s*(?:async\s+)?(?:for|while)\b/.test(text);
}

/** The innermost function (not class) whose body contains a 1-based line, or undefined at module level. */
export function enclosingFunction(source: PySource, line: number): PyFunction | undefined {
  let best: PyFunction | undefined;
  for (const fn of source.functions) {
    if (fn.isClass || line < fn.defLine || line > fn.lastLine) continue;
    if (!best || fn.defLine > best.defLine) best = fn;
  }
  return best;
}

/**
 * Turns a user's Python file plus "what to run" into the source text CWM sees after
 * <|trace_context_start|>, and into the call the tracer makes. Both the predicting and the recording
 * side start from this one description, so the two worlds always trace the same program.
 */
import { SPECIAL_TOKENS, START_OF_TRACE_MARKER, START_OF_TRACE_SUFFIX } from './tokens';
import { PySource, scanPython } from './pysource';

export type PromptShape =
  /** `def main():  # << START_OF_TRACE` / `return f(ARGS)` appended (CWM's Figure 5 shape). */
  | 'wrapper'
  /** The entry function's own def line carries the marker and is called with the arguments. */
  | 'marked'
  /** A script without functions, wrapped whole into a marked `main()`. */
  | 'script';

export interface TraceTarget {
  /** Function to trace; empty: the function marked START_OF_TRACE, or the whole script. */
  readonly entry?: string;
  /** Python argument text, e.g. `[1, 2], 3`. */
  readonly args?: string;
}

export interface PromptProgram {
  readonly shape: PromptShape;
  /** The exact SOURCE of CWM's prompt, ending in a newline. */
  readonly source: string;
  /** The top-level function the tracer calls, and its argument text. */
  readonly call: { readonly function: string; readonly args: string };
  /** Python module name to run the program under; `__main__` only where the whole script is the entry. */
  readonly moduleName: string;
  /** Lines of `source` before the user's first line (1 for a wrapped script). */
  readonly lineOffset: number;
  /** Number of the user's lines that `source` holds, from lineOffset + 1 on. */
  readonly userLineCount: number;
}

export class PromptError extends Error {}

const MARKER_AT_END = /\s*#\s*<<\s*START_OF_TRACE\s*$/;

export function buildPromptProgram(fileText: string, target: TraceTarget): PromptProgram {
  const text = fileText.replace(/\r\n?/g, '\n');
  const scanned = scanPython(text);
  const topLevel = scanned.functions.filter((fn) => fn.parent === undefined && !fn.isClass);
  const marked = scanned.functions.filter((fn) => MARKER_AT_END.test(scanned.lines[fn.defLine - 1]));
  const entry = target.entry?.trim() ?? '';
  const args = target.args?.trim() ?? '';

  if (entry !== '') {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(entry)) throw new PromptError(`"${entry}" is not a function name`);
    const fn = topLevel.find((candidate) => candidate.name === entry);
    if (!fn) {
      const names = topLevel.map((candidate) => candidate.name);
      throw new PromptError(`no top-level function named "${entry}" in the program` + (names.length ? ` (it defines ${names.join(', ')})` : ' (it defines no function)'));
    }
    const lines = scanned.lines.map((line, i) => (marked.some((m) => m.defLine === i + 1) ? stripMarker(line) : line));
    const definesMain = topLevel.some((candidate) => candidate.name === 'main');
    if (entry === 'main' || definesMain) {
      // A wrapper named main would shadow the program's own main: mark the entry itself instead.
      lines[fn.defLine - 1] = lines[fn.defLine - 1] + START_OF_TRACE_SUFFIX;
      return program('marked', joinLines(lines), entry, args, '__cwm_program__', 0, lines.length);
    }
    const body = trimTrailingBlankLines(lines);
    const source = joinLines([...body, '', 'def main():' + START_OF_TRACE_SUFFIX, `    return ${entry}(${args})`]);
    return program('wrapper', source, 'main', '', '__cwm_program__', 0, body.length);
  }

  if (marked.length > 1) {
    throw new PromptError(`${marked.length} functions carry "${START_OF_TRACE_MARKER}" (lines ${marked.map((m) => m.defLine).join(', ')}); keep one, or name the entry function`);
  }
  if (marked.length === 1) {
    const fn = marked[0];
    if (fn.parent !== undefined) throw new PromptError(`the marked function "${fn.name}" (line ${fn.defLine}) is not at the top level of the program`);
    return program('marked', joinLines(scanned.lines), fn.name, args, '__cwm_program__', 0, scanned.lines.length);
  }
  if (topLevel.length > 0 || scanned.functions.some((fn) => fn.isClass && fn.parent === undefined)) {
    const names = topLevel.map((fn) => fn.name);
    throw new PromptError(
      'name the function to trace (entry) or mark its def line with "  ' + START_OF_TRACE_MARKER + '"' +
        (names.length ? `; the program defines ${names.join(', ')}` : ''),
    );
  }
  return wrapScript(scanned, args);
}

function wrapScript(scanned: PySource, args: string): PromptProgram {
  if (args !== '') throw new PromptError('a script without functions takes no arguments');
  const body = trimTrailingBlankLines(scanned.lines);
  if (body.every((line) => line.trim() === '' || line.trim().startsWith('#'))) {
    throw new PromptError('the program has no code to trace');
  }
  // Lines that begin inside a string literal keep their text: indenting them would change the string.
  const indented = body.map((line, i) => (scanned.continuation[i] || line === '' ? line : '    ' + line));
  const source = joinLines(['def main():' + START_OF_TRACE_SUFFIX, ...indented]);
  return program('script', source, 'main', '', '__main__', 1, body.length);
}

function program(shape: PromptShape, source: string, fn: string, args: string, moduleName: string, lineOffset: number, userLineCount: number): PromptProgram {
  return { shape, source, call: { function: fn, args }, moduleName, lineOffset, userLineCount };
}

function stripMarker(line: string): string {
  return line.replace(MARKER_AT_END, '');
}

function trimTrailingBlankLines(lines: readonly string[]): string[] {
  let end = lines.length;
  while (end > 0 && lines[end - 1].trim() === '') end--;
  return lines.slice(0, end);
}

function joinLines(lines: readonly string[]): string {
  return lines.map((line) => line + '\n').join('');
}

/** `<|begin_of_text|><|trace_context_start|>SOURCE<|frame_sep|>`: the whole prompt as text. */
export function promptText(source: string): string {
  return SPECIAL_TOKENS.beginOfText + SPECIAL_TOKENS.traceContextStart + source + SPECIAL_TOKENS.frameSep;
}

/** Maps a line of the prompt source back to the user's file, or undefined for a synthesized line. */
export function toFileLine(program: PromptProgram, sourceLine: number): number | undefined {
  const line = sourceLine - program.lineOffset;
  return line >= 1 && line <= program.userLineCount ? line : undefined;
}

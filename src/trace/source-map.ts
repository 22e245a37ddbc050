/**
 * Finds the line number of a frame's SRC text. The model writes source text, not line numbers, and a
 * file often repeats a line (`i += 1` in two loops, `return None` in three functions); taking the first
 * match, as Meta's demo does, puts the cursor in the wrong place. Candidates are narrowed to the
 * function that is running, then ordered by where execution can go from the previous line.
 */
import { FrameEvent, TraceFrame } from './frame';
import { blockEnd, enclosingFunction, isLoopHeader, PyFunction, PySource, scanPython } from './pysource';

const MARKER = /\s*#\s*<<\s*START_OF_TRACE\s*$/;

export interface LocateContext {
  readonly event: FrameEvent;
  /** def line of the function the frame runs in (for call frames: of the caller, if any). */
  readonly functionDefLine?: number;
  /** The line this activation ran last (for call frames: the caller's line). */
  readonly previousLine?: number;
}

export class SourceLocator {
  readonly source: PySource;
  private readonly byText = new Map<string, number[]>();

  constructor(sourceText: string) {
    this.source = scanPython(sourceText);
    this.source.lines.forEach((line, i) => {
      const key = normalize(line);
      const list = this.byText.get(key);
      if (list) list.push(i + 1);
      else this.byText.set(key, [i + 1]);
    });
  }

  /** 1-based line of `text` in the source, or undefined when no line has that text. */
  locate(text: string, context: LocateContext): number | undefined {
    let candidates = this.byText.get(normalize(text));
    if (!candidates || candidates.length === 0) return undefined;
    if (candidates.length === 1) return candidates[0];
    if (context.event === 'call') return this.pickDefinition(candidates, context);

    if (context.functionDefLine !== undefined) {
      const inside = candidates.filter((line) => this.ownerOf(line)?.defLine === context.functionDefLine);
      if (inside.length > 0) candidates = inside;
    }
    const previous = context.previousLine;
    if (previous === undefined) return candidates[0];
    // A return or an exception happens on the line that was running.
    if (context.event !== 'line' && candidates.includes(previous)) return previous;
    // A line event jumps back to the header of a loop whose body just ran (the innermost one),
    // repeats a one-line loop, or moves forward.
    const loops = candidates.filter((line) => line < previous && isLoopHeader(this.source.lines[line - 1]) && blockEnd(this.source, line) >= previous);
    if (loops.length > 0) return loops[loops.length - 1];
    if (candidates.includes(previous) && isLoopHeader(this.source.lines[previous - 1]) && blockEnd(this.source, previous) === previous) return previous;
    const ahead = candidates.find((line) => line > previous);
    if (ahead !== undefined) return ahead;
    if (candidates.includes(previous)) return previous;
    return candidates[0];
  }

  /**
   * Among identical def lines, the one the caller can reach: a function nested in the caller's own
   * function, a method of the class the caller line constructs or names, a method of the caller's
   * own class; otherwise the first.
   */
  private pickDefinition(candidates: readonly number[], context: LocateContext): number {
    const defs = candidates
      .map((line) => this.source.functions.find((fn) => fn.defLine === line))
      .filter((fn): fn is PyFunction => fn !== undefined);
    if (defs.length === 0) return candidates[0];
    const functions = this.source.functions;
    const callerText = context.previousLine !== undefined ? this.source.lines[context.previousLine - 1] ?? '' : '';
    const caller = functions.find((fn) => fn.defLine === context.functionDefLine);
    const score = (fn: PyFunction): number => {
      const parent = fn.parent !== undefined ? functions[fn.parent] : undefined;
      if (!parent) return 0;
      if (!parent.isClass) return caller !== undefined && parent.defLine === caller.defLine ? 3 : 0;
      if (new RegExp(`\\b${parent.name}\\s*(?:\\(|\\.\\s*${fn.name}\\b)`).test(callerText)) return 2;
      return caller?.parent !== undefined && functions[caller.parent] === parent ? 1 : 0;
    };
    let best = defs[0];
    for (const fn of defs) if (score(fn) > score(best)) best = fn;
    return best.defLine;
  }

  /** The function a line's statement runs in: a def line (and its decorators) belongs to the enclosing one. */
  private ownerOf(line: number): PyFunction | undefined {
    let owner: PyFunction | undefined;
    for (const fn of this.source.functions) {
      if (fn.isClass || line <= fn.defLine || line > fn.lastLine) continue;
      if (!owner || fn.defLine > owner.defLine) owner = fn;
    }
    return owner;
  }
}

/**
 * Follows a trace frame by frame and gives each frame its line, keeping the call stack so that the
 * function and previous line of the running activation are known.
 */
export class TraceLineMapper {
  private readonly stack: Array<{ defLine?: number; line?: number }> = [];

  constructor(private readonly locator: SourceLocator) {}

  next(frame: TraceFrame): number | undefined {
    const top = this.stack[this.stack.length - 1];
    if (frame.event === 'call') {
      const line = this.locator.locate(frame.source, { event: 'call', functionDefLine: top?.defLine, previousLine: top?.line });
      this.stack.push({ defLine: line, line });
      return line;
    }
    const line = this.locator.locate(frame.source, { event: frame.event, functionDefLine: top?.defLine, previousLine: top?.line });
    if (top) top.line = line ?? top.line;
    else this.stack.push({ defLine: line === undefined ? undefined : enclosingFunction(this.locator.source, line)?.defLine, line });
    if (frame.event === 'return') this.stack.pop();
    return line;
  }
}

function normalize(line: string): string {
  return line.replace(MARKER, '').replace(/\s+$/, '');
}

/**
 * Finds the line number of a frame's SRC text. The model writes source text, not line numbers, and a
 * file often repeats a line (`i += 1` in two loops, `return None` in three functions); taking the first
 * match, as Meta's demo does, puts the cursor in the wrong place. Candidates are narrowed to the
 * function that is running, then ordered by where execution can go from the previous line.
 */
import { FrameEvent, TraceFrame } from './frame';
import { enclosingFunction, PyFunction, PySource, scanPython } from './pysource';

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
      const inside = candidates.filter((line) => enclosingFunction(this.source, line)?.defLine === context.functionDefLine);
      if (inside.length > 0) candidates = inside;
    }
    const previous = context.previousLine;
    if (previous === undefined) return candidates[0];
    // A return or an exception happens on the line that was running; a line event moves forward,
    // stays (a one-line loop), or jumps back to a loop header.
    if (context.event !== 'line' && candidates.includes(previous)) return previous;
    const ahead = candidates.find((line) => line > previous);
    if (ahead !== undefined) return ahead;
    if (candidates.includes(previous)) return previous;
    return candidates[0];
  }

  private pickDefinition(candidates: readonly number[], context: LocateContext): number {
    const defs = candidates
      .map((line) => this.source.functions.find((fn) => fn.defLine === line))
      .filter((fn): fn is PyFunction => fn !== undefined);
    if (context.previousLine !== undefined) {
      const callerText = this.source.lines[context.previousLine - 1] ?? '';
      const called = defs.filter((fn) => new RegExp(`\\b${fn.name}\\s*\\(`).test(callerText));
      if (called.length > 0) return called[0].defLine;
    }
    return defs.length > 0 ? defs[0].defLine : candidates[0];
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

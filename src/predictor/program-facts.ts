/**
 * What the prompt's source allows a frame to say, for frame-grammar decoding (frame-grammar.ts): the
 * lines an action may name and the names a frame's locals may have, per function. Read from the
 * source alone (pysource.ts, line-names.ts), so nothing of the program runs.
 *
 * The sets are deliberately generous where Python's rules are subtle: a function's names are the names
 * its own lines bind (bound-names.ts: parameters, assignment and loop targets, ...) and the names it
 * uses that an enclosing function binds (a closure's free variables); names it only reads, such as the
 * builtins and globals it calls, are left out, since they are never in its frame.
 */
import type { FrameEvent, Locals, TraceFrame } from '../trace/frame';
import { uniqueNames } from '../trace/line-names';
import { boundNames } from './bound-names';
import { PyFunction, scanPython } from '../trace/pysource';

/** Where a frame may be: the lines it may name and the local names it may hold. */
export interface Scope {
  /** 0-based indices into ProgramFacts.lines. */
  readonly lines: ReadonlySet<number>;
  readonly names: ReadonlySet<string>;
  /** A local can disappear here (`del`, or the end of an `except ... as name:` block). */
  readonly forgets: boolean;
}

/**
 * What a call frame naming `line` holds: exactly `names` (a function's parameters and the free variables
 * it uses), or, where that is not exact (a generator resumes with its body's locals, a class body, a
 * lambda, a def spread over lines), some of them.
 */
export interface CallSignature {
  readonly line: number;
  readonly names: ReadonlySet<string>;
  readonly exact: boolean;
}

/** What the frame about to be written may say. */
export interface FrameRules {
  /** The call frames the program can have; a call frame's locals and line must fit one of them. */
  readonly signatures: readonly CallSignature[];
  /** The scope a line, return or exception frame runs in. */
  readonly current: Scope;
  /** The source lines, by index as the scopes count them. */
  readonly lines: readonly string[];
  /** Names a line frame may write as "..": the previous frame's, when it was a call or line frame. */
  readonly unchanged: ReadonlySet<string>;
  /**
   * Names a line frame must hold: those its activation held in its last call or line frame, since a
   * local, once bound, stays (empty where the function can forget one).
   */
  readonly required: ReadonlySet<string>;
}

/** A frame of the trace so far, or what is known of a malformed one (its event, if any). */
export interface FrameSoFar {
  readonly event?: FrameEvent;
  readonly frame?: TraceFrame;
}

export class ProgramFacts {
  /** The prompt source's physical lines, as a frame writes them (no line terminator). */
  readonly lines: readonly string[];
  /** Lines a statement can start on: neither blank nor only a comment. */
  readonly executable: Scope;
  /** The call frames the program can have: one per def, class and lambda line. */
  readonly signatures: readonly CallSignature[];
  /** The scope of each function whose def line has this exact text (one text may define several). */
  private readonly byDefLine = new Map<string, Scope>();
  private readonly byLambdaLine = new Map<string, Scope>();

  constructor(source: string) {
    const scanned = scanPython(source);
    this.lines = scanned.lines;
    const executable = new Set<number>();
    scanned.lines.forEach((line, index) => {
      const stripped = line.trim();
      if (stripped !== '' && !stripped.startsWith('#')) executable.add(index);
    });
    const allNames = new Set<string>();
    for (const index of executable) for (const name of boundNames(this.lines[index])) allNames.add(name);
    this.executable = { lines: executable, names: allNames, forgets: forgetsNames(executable, this.lines) };

    const signatures: CallSignature[] = [];
    const functions = scanned.functions;
    functions.forEach((fn, index) => {
      const { scope, free } = functionScope(functions, index, executable, this.lines);
      const text = this.lines[fn.defLine - 1];
      this.byDefLine.set(text, union(this.byDefLine.get(text), scope));
      signatures.push(callSignature(fn, text, scope, free, this.lines));
    });
    for (const index of executable) {
      const text = this.lines[index];
      if (!/\blambda\b/.test(text)) continue;
      // A lambda's frame names its own line; its parameters are among the names on it.
      const scope: Scope = { lines: new Set([index]), names: new Set(uniqueNames(text)), forgets: false };
      this.byLambdaLine.set(text, union(this.byLambdaLine.get(text), scope));
      signatures.push({ line: index, names: scope.names, exact: false });
    }
    this.signatures = signatures;
  }

  /**
   * The scope a call frame naming this line opens, or undefined when the line is no def, class or
   * lambda line of the source. A line that is both (a def whose default is a lambda) opens either.
   */
  scopeOfCall(source: string): Scope | undefined {
    const def = this.byDefLine.get(source);
    const lambda = this.byLambdaLine.get(source);
    return def && lambda ? union(def, lambda) : (def ?? lambda);
  }
}

/**
 * The rules for the frame after `history`: the scope it runs in follows the calls and returns written
 * so far (a call opens the scope of the function its line defines, a return closes one). Where that
 * cannot be known (a malformed call, a line that defines nothing), every executable line and name is
 * allowed.
 */
export function frameRules(facts: ProgramFacts, history: readonly FrameSoFar[]): FrameRules {
  // Called before every frame over the whole trace so far: the walk keeps references, and only the
  // activation the next frame runs in has its names collected.
  const stack: Activation[] = [];
  for (const step of history) {
    const event = step.frame?.event ?? step.event;
    const frame = step.frame;
    if (event === 'call') stack.push({ scope: frame ? facts.scopeOfCall(frame.source) : undefined, locals: frame && 'locals' in frame ? frame.locals : [] });
    else if (event === 'return') stack.pop();
    else if (frame && 'locals' in frame && stack.length > 0) stack[stack.length - 1] = { ...stack[stack.length - 1], locals: frame.locals };
  }
  const previous = history[history.length - 1]?.frame;
  const unchanged = previous && 'locals' in previous ? namesOf(previous.locals) : new Set<string>();
  const top = stack[stack.length - 1];
  const current = top?.scope ?? facts.executable;
  const required = top && !current.forgets ? namesOf(top.locals) : new Set<string>();
  return { signatures: facts.signatures, current, lines: facts.lines, unchanged, required };
}

/** What the rules know of one activation: its function's scope and the locals it last held. */
interface Activation {
  readonly scope: Scope | undefined;
  readonly locals: Locals;
}

function namesOf(locals: Locals): Set<string> {
  return new Set(locals.map(([name]) => name));
}

/** What a class body's frame holds besides its own names. */
const CLASS_DUNDERS = ['__module__', '__qualname__', '__firstlineno__', '__doc__', '__static_attributes__', '__classcell__'];

/**
 * The lines and names of one function's own body (its nested functions' bodies belong to them), and
 * which of the names are free variables: used here, bound by an enclosing function.
 */
function functionScope(functions: readonly PyFunction[], index: number, executable: ReadonlySet<number>, lines: readonly string[]): { scope: Scope; free: ReadonlySet<string> } {
  const own = ownLines(functions, index, executable);
  const names = new Set<string>();
  for (const line of own) for (const name of boundNames(lines[line])) names.add(name);
  if (functions[index].isClass) for (const name of CLASS_DUNDERS) names.add(name);
  const enclosing = new Set<string>();
  for (let parent = functions[index].parent; parent !== undefined; parent = functions[parent].parent) {
    for (const line of ownLines(functions, parent, executable)) for (const name of boundNames(lines[line])) enclosing.add(name);
  }
  const free = new Set<string>();
  for (const line of own) for (const name of uniqueNames(lines[line])) if (enclosing.has(name) && !names.has(name)) free.add(name);
  for (const name of free) names.add(name);
  return { scope: { lines: own, names, forgets: forgetsNames(own, lines) }, free };
}

/** A function's call frame: its parameters and free variables exactly, where its def line says so. */
function callSignature(fn: PyFunction, text: string, scope: Scope, free: ReadonlySet<string>, lines: readonly string[]): CallSignature {
  const line = fn.defLine - 1;
  const loose = { line, names: scope.names, exact: false };
  if (fn.isClass || /^\s*async\b/.test(text)) return loose;
  const body = [...scope.lines].map((index) => lines[index]).join('\n');
  // A generator resumes with its locals; super() brings the __class__ cell.
  if (/\byield\b/.test(body)) return loose;
  if (/\bsuper\b|\b__class__\b/.test(body)) return { line, names: new Set([...scope.names, '__class__']), exact: false };
  const params = parameterNames(text);
  return params ? { line, names: new Set([...params, ...free]), exact: true } : loose;
}

/** The parameter names of a one-line def header, or undefined when the header cannot be read whole. */
function parameterNames(header: string): string[] | undefined {
  const open = header.indexOf('(');
  if (open < 0) return undefined;
  const parts: string[] = [];
  let depth = 0;
  let quote = '';
  let current = '';
  for (let i = open + 1; i < header.length; i++) {
    const c = header[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") {
      quote = c;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) {
        parts.push(current);
        const names = parts.map((part) => part.trim()).filter((part) => part !== '' && part !== '*' && part !== '/').map((part) => /^\*{0,2}\s*([A-Za-z_][A-Za-z0-9_]*)/.exec(part)?.[1]);
        return names.every((name): name is string => name !== undefined) ? names : undefined;
      }
      depth--;
    }
    if (c === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else if (depth === 0) {
      current += c;
    }
  }
  return undefined;
}

function ownLines(functions: readonly PyFunction[], index: number, executable: ReadonlySet<number>): Set<number> {
  const fn = functions[index];
  const own = new Set<number>();
  for (let line = fn.defLine; line <= fn.lastLine; line++) if (executable.has(line - 1)) own.add(line - 1);
  for (const nested of functions) {
    if (nested.parent !== index) continue;
    // The nested def (and its decorators) runs in this function; its body does not.
    for (let line = nested.defLine + 1; line <= nested.lastLine; line++) own.delete(line - 1);
  }
  return own;
}

/** Whether one of these lines can unbind a local: a `del`, or an `except ... as name:` (unbound at its end). */
function forgetsNames(indices: ReadonlySet<number>, lines: readonly string[]): boolean {
  for (const index of indices) if (/^\s*del\b|^\s*except\b.*\bas\b/.test(lines[index])) return true;
  return false;
}

function union(a: Scope | undefined, b: Scope): Scope {
  if (!a) return b;
  return { lines: new Set([...a.lines, ...b.lines]), names: new Set([...a.names, ...b.names]), forgets: a.forgets || b.forgets };
}

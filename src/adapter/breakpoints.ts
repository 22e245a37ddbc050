/**
 * Breakpoints of a session and whether a step hits them. A condition is tried in each world that has
 * the step (the prediction, and the real run where a real step matches); the breakpoint hits when it
 * holds in either, and the stop says in which.
 */
import * as path from 'node:path';
import type { EvalResult } from '../runtime/expression-evaluator';
import { formatLogMessage, parseHitCondition } from '../runtime/breakpoint-text';

export type World = 'predicted' | 'actual';
export const WORLD_WORDS: Record<World, string> = { predicted: 'the prediction', actual: 'the real run' };

export interface LineBreakpointSpec {
  readonly line: number;
  readonly condition?: string;
  readonly hitCondition?: string;
  readonly logMessage?: string;
}

export interface BreakpointState {
  readonly id: number;
  readonly verified: boolean;
  readonly line?: number;
  readonly message?: string;
}

interface Breakpoint {
  readonly id: number;
  readonly condition?: string;
  readonly hitTest?: (hits: number) => boolean;
  readonly logMessage?: string;
  hits: number;
}

interface LineBreakpoint extends Breakpoint {
  readonly line: number;
}

interface FunctionBreakpoint extends Breakpoint {
  readonly name: string;
}

/** What a step offers to breakpoints: its line in the user's file, its event, the function, per world. */
export interface StepProbe {
  readonly fileLine?: number;
  readonly callOf?: string;
  readonly exceptionIn: readonly World[];
  /** Worlds that have locals at this step. */
  readonly worlds: readonly World[];
  readonly evaluate: (expression: string, world: World) => Promise<EvalResult>;
}

export type BreakpointHit =
  | { readonly kind: 'exception'; readonly worlds: readonly World[] }
  | { readonly kind: 'breakpoint' | 'function breakpoint'; readonly ids: readonly number[]; readonly note: string }
  | { readonly kind: 'log'; readonly messages: readonly string[] };

export class Breakpoints {
  private nextId = 1;
  /** Line breakpoints by file, as the editor sent them (before launch the program is not known). */
  private readonly byFile = new Map<string, LineBreakpoint[]>();
  private program: { readonly path: string; readonly lineCount: number } | undefined;
  private functions: FunctionBreakpoint[] = [];
  private exceptionFilters = new Set<World>(['predicted', 'actual']);

  /** Ties the breakpoints to the program; returns those that turned out not to fit it. */
  bind(programPath: string, lineCount: number): BreakpointState[] {
    this.program = { path: programPath, lineCount };
    const changed: BreakpointState[] = [];
    for (const [file, list] of this.byFile) {
      for (const bp of list) {
        const problem = this.problem(file, bp.line);
        if (problem) changed.push({ id: bp.id, verified: false, line: bp.line, message: problem });
      }
    }
    return changed;
  }

  setLineBreakpoints(file: string, specs: readonly LineBreakpointSpec[]): BreakpointState[] {
    const list: LineBreakpoint[] = [];
    this.byFile.set(key(file), list);
    return specs.map((spec) => {
      const id = this.nextId++;
      const problem = this.problem(file, spec.line);
      if (problem) return { id, verified: false, line: spec.line, message: problem };
      const hit = spec.hitCondition ? parseHitCondition(spec.hitCondition) : undefined;
      if (hit && 'error' in hit) return { id, verified: false, line: spec.line, message: hit.error };
      list.push({ id, line: spec.line, hits: 0, ...common(spec, hit) });
      return { id, verified: true, line: spec.line };
    });
  }

  private problem(file: string, line: number): string | undefined {
    if (!this.program) return undefined;
    const name = path.basename(this.program.path);
    if (key(file) !== key(this.program.path)) return `only ${name} runs in this session`;
    if (line < 1 || line > this.program.lineCount) return `${name} has no line ${line}`;
    return undefined;
  }

  private get lines(): readonly LineBreakpoint[] {
    return this.program ? (this.byFile.get(key(this.program.path)) ?? []) : [];
  }

  setFunctionBreakpoints(specs: readonly { readonly name: string; readonly condition?: string; readonly hitCondition?: string }[]): BreakpointState[] {
    this.functions = [];
    return specs.map((spec) => {
      const id = this.nextId++;
      const hit = spec.hitCondition ? parseHitCondition(spec.hitCondition) : undefined;
      if (hit && 'error' in hit) return { id, verified: false, message: hit.error };
      this.functions.push({ id, name: spec.name.trim(), hits: 0, ...common(spec, hit) });
      return { id, verified: true };
    });
  }

  setExceptionFilters(filters: readonly string[]): void {
    this.exceptionFilters = new Set(filters.filter((f): f is World => f === 'predicted' || f === 'actual'));
  }

  resetHits(): void {
    for (const bp of [...[...this.byFile.values()].flat(), ...this.functions]) bp.hits = 0;
  }

  /**
   * Whether a step stops execution. Going forward (`counting`), hits are counted and log messages
   * written; going backward (reverse continue) only conditions matter.
   */
  async check(step: StepProbe, counting: boolean): Promise<BreakpointHit | undefined> {
    const raised = step.exceptionIn.filter((world) => this.exceptionFilters.has(world));
    if (raised.length > 0) return { kind: 'exception', worlds: raised };
    const candidates: Array<{ bp: Breakpoint; kind: 'breakpoint' | 'function breakpoint' }> = [
      ...(step.callOf !== undefined ? this.functions.filter((bp) => bp.name === step.callOf).map((bp) => ({ bp, kind: 'function breakpoint' as const })) : []),
      ...(step.fileLine !== undefined ? this.lines.filter((bp) => bp.line === step.fileLine).map((bp) => ({ bp, kind: 'breakpoint' as const })) : []),
    ];
    const stops: Array<{ bp: Breakpoint; kind: 'breakpoint' | 'function breakpoint'; note: string }> = [];
    const logs: string[] = [];
    for (const { bp, kind } of candidates) {
      const condition = bp.condition ? await this.conditionHolds(bp.condition, step) : { holds: true, note: '' };
      if (!condition.holds) continue;
      if (counting) bp.hits += 1;
      if (counting && bp.hitTest && !bp.hitTest(bp.hits)) continue;
      if (bp.logMessage !== undefined) {
        if (counting) logs.push(await this.formatLog(bp.logMessage, step));
        continue;
      }
      stops.push({ bp, kind, note: condition.note });
    }
    if (stops.length > 0) {
      return { kind: stops[0].kind, ids: stops.map((s) => s.bp.id), note: stops.map((s) => s.note).filter(Boolean).join('; ') };
    }
    return logs.length > 0 ? { kind: 'log', messages: logs } : undefined;
  }

  private async conditionHolds(condition: string, step: StepProbe): Promise<{ holds: boolean; note: string }> {
    const results = await Promise.all(step.worlds.map(async (world) => ({ world, result: await step.evaluate(condition, world) })));
    const held = results.filter((r) => r.result.ok && r.result.truthy).map((r) => r.world);
    const failed = results.filter((r) => !r.result.ok);
    // A condition that cannot be evaluated stops, as in other debuggers: silently skipping hides the mistake.
    if (held.length === 0 && failed.length > 0) {
      const first = failed[0].result as { error: string };
      return { holds: true, note: `the condition \`${condition}\` could not be evaluated in ${WORLD_WORDS[failed[0].world]}: ${first.error}` };
    }
    if (held.length === 0) return { holds: false, note: '' };
    const note = step.worlds.length > 1 && held.length === 1 ? `\`${condition}\` holds in ${WORLD_WORDS[held[0]]} only` : '';
    return { holds: true, note };
  }

  private async formatLog(template: string, step: StepProbe): Promise<string> {
    const texts = await Promise.all(step.worlds.map(async (world) => ({ world, text: await formatLogMessage(template, (expression) => step.evaluate(expression, world)) })));
    if (texts.length === 2 && texts[0].text !== texts[1].text) return texts.map((t) => `${t.text}  (${t.world})`).join('\n');
    return texts[0]?.text ?? template;
  }
}

function common(spec: { readonly condition?: string; readonly logMessage?: string }, hit: { readonly test: (hits: number) => boolean } | undefined): Pick<Breakpoint, 'condition' | 'hitTest' | 'logMessage'> {
  const condition = spec.condition?.trim();
  return {
    ...(condition ? { condition } : {}),
    ...(hit ? { hitTest: hit.test } : {}),
    ...(spec.logMessage !== undefined && spec.logMessage !== '' ? { logMessage: spec.logMessage } : {}),
  };
}

/** A path as a map key: case-folded where the file system usually is. */
function key(file: string): string {
  const resolved = path.resolve(file);
  return process.platform === 'win32' || process.platform === 'darwin' ? resolved.toLowerCase() : resolved;
}

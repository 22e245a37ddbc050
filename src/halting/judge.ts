/** Judging one call: the model's verdict and the real check side by side (both at once), for the CLI, the lenses and the benchmark. */
import { isCancelled, ModelBackend, ModelError } from '../model/backend';
import { bindArguments, BindError } from '../runtime/bind-args';
import type { Locals } from '../trace/frame';
import type { PromptProgram } from '../trace/prompt';
import { ModelCheckOptions, ModelVerdict, predictHalting } from './model-check';
import { checkHaltingForReal, RealCheck, RealCheckOptions } from './real-check';
import type { HaltingReport } from './verdict';

export interface JudgeOptions {
  /** Undefined: no model verdict, for `modelProblem`'s reason. */
  readonly backend?: ModelBackend;
  readonly modelProblem?: string;
  readonly model?: ModelCheckOptions;
  /** Undefined: no real run, for `realSkipped`'s reason (an untrusted workspace runs nothing). */
  readonly real?: RealCheckOptions;
  readonly realSkipped?: string;
  /** Interpreter that binds a marked entry's literal arguments (none of the program runs for that). */
  readonly python?: string;
  readonly signal?: AbortSignal;
}

/** `call` is the user's call (the program may wrap it in a `main`). */
export async function judgeHalting(program: PromptProgram, call: { readonly entry: string; readonly args: string }, options: JudgeOptions): Promise<HaltingReport> {
  const modelPart = options.backend ? judgeByModel(options.backend, program, options) : Promise.resolve({ problem: options.modelProblem ?? 'no model' });
  const realPart: Promise<RealCheck | undefined> = options.real ? checkHaltingForReal(program, { ...options.real, ...(options.signal ? { signal: options.signal } : {}) }) : Promise.resolve(undefined);
  const [model, real] = await Promise.all([modelPart, realPart]);
  return {
    entry: call.entry,
    args: call.args,
    ...('verdict' in model ? { model } : { modelProblem: model.problem }),
    ...(real ? { real } : { realSkipped: options.realSkipped ?? 'not requested' }),
  };
}

async function judgeByModel(backend: ModelBackend, program: PromptProgram, options: JudgeOptions): Promise<ModelVerdict | { problem: string }> {
  let entryLocals: Locals | undefined;
  if (program.shape === 'marked' && program.call.args !== '') {
    try {
      entryLocals = await bindArguments(program, options.python ? { python: options.python } : {});
    } catch (error) {
      if (error instanceof BindError) return { problem: error.message };
      throw error;
    }
  }
  try {
    return await predictHalting(backend, program, entryLocals, { ...options.model, ...(options.signal ? { signal: options.signal } : {}) });
  } catch (error) {
    if (error instanceof ModelError && !isCancelled(error)) return { problem: error.message };
    throw error;
  }
}

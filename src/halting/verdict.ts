/** A halting verdict from both worlds, and how it reads: one line for a lens, a page for its witness. */
import type { ModelVerdict, PredictedRun } from './model-check';
import type { RealCheck } from './real-check';

export type Verdict = 'terminates' | 'may-not-terminate' | 'unknown';

export const VERDICT_WORDS: Readonly<Record<Verdict, string>> = {
  terminates: 'terminates',
  'may-not-terminate': 'may not terminate',
  unknown: 'unknown',
};

export interface HaltingReport {
  readonly entry: string;
  readonly args: string;
  readonly model?: ModelVerdict;
  /** Why there is no model verdict (no model, a load error...). */
  readonly modelProblem?: string;
  readonly real?: RealCheck;
  /** Why no real run was made (untrusted workspace, turned off). */
  readonly realSkipped?: string;
}

/** Both worlds have a verdict, and they differ. */
export function disagrees(report: HaltingReport): boolean {
  const model = report.model?.verdict;
  const real = report.real?.verdict;
  return model !== undefined && real !== undefined && model !== 'unknown' && real !== 'unknown' && model !== real;
}

/** The model's verdict in words: "terminates (83 %)". */
export function modelWords(model: ModelVerdict): string {
  return model.verdict === 'unknown' ? 'unknown' : `${VERDICT_WORDS[model.verdict]} (${Math.round(model.confidence * 100)} %)`;
}

/** One line: "terminates (83 %) · real run returned in 4 ms". */
export function headline(report: HaltingReport): string {
  const model = report.model ? modelWords(report.model) : `no prediction (${report.modelProblem ?? 'no model'})`;
  const real = report.real ? report.real.summary : `model only: ${report.realSkipped ?? 'no real run'}`;
  return `${disagrees(report) ? 'model: ' : ''}${model} · ${real}${disagrees(report) ? ' — they disagree' : ''}`;
}

/** The predicted run that shows the model's verdict: the trace to the return, or the lasso, or the budget spent. */
export function witnessRun(model: ModelVerdict): PredictedRun | undefined {
  const first = (outcome: PredictedRun['outcome']): PredictedRun | undefined => model.runs.find((run) => run.outcome === outcome);
  if (model.verdict === 'terminates') return first('ended');
  if (model.verdict === 'may-not-terminate') return first('lasso') ?? first('budget');
  return model.runs[0];
}

/** The whole report as text: the verdicts, each run, the real check, and the witness trace. */
export function reportText(report: HaltingReport): string {
  const out: string[] = [`Halting of ${report.entry}(${report.args})`, ''];
  if (report.model) {
    const model = report.model;
    const samples = model.runs.filter((run) => run.kind === 'sample').length;
    out.push(`Model (${model.model}, greedy${samples ? ` + ${samples} sampled run${samples === 1 ? '' : 's'}` : ''}): ${modelWords(model)}`);
    for (const run of model.runs) out.push(`  ${run.kind === 'greedy' ? 'greedy' : `sample (seed ${run.seed})`}: ${runWords(run)}`);
  } else {
    out.push(`Model: no prediction (${report.modelProblem ?? 'no model'})`);
  }
  if (report.real) {
    const real = report.real;
    out.push(`Real run: ${VERDICT_WORDS[real.verdict]}: ${real.summary} (${real.steps.toLocaleString('en-US')} steps)`);
    if (real.repeat) {
      out.push(`  line ${real.repeat.line} with ${real.repeat.locals.map(([name, value]) => `${name} = ${value}`).join(', ') || 'no locals'}, the same stack, each time;`);
      out.push('  every value is an immutable literal and the program keeps no state outside its locals, so it loops forever');
    } else if (!real.proven && real.verdict === 'may-not-terminate' && real.hidden.length > 0) {
      out.push(`  no proof from repeated states: ${real.hidden.slice(0, 3).join('; ')}`);
    }
  } else {
    out.push(`Real run: none (${report.realSkipped ?? 'not requested'}); this is the model's verdict only`);
  }
  if (disagrees(report)) out.push('', `The model and the real run disagree: the model says ${VERDICT_WORDS[report.model?.verdict ?? 'unknown']}, the real run ${VERDICT_WORDS[report.real?.verdict ?? 'unknown']}.`);
  const witness = report.model && witnessRun(report.model);
  if (witness) {
    out.push('', `Witness: the ${witness.kind === 'greedy' ? 'greedy' : `sampled (seed ${witness.seed})`} prediction, ${runWords(witness)}`);
    for (const step of witness.steps) {
      const mark = witness.lasso && step.step === witness.lasso.first ? '   ◀ this state…' : witness.lasso && step.step === witness.lasso.second ? `   ◀ …repeats (step ${witness.lasso.first})` : '';
      out.push(`${String(step.step).padStart(4)}  ${step.line === undefined ? '    ' : `L${String(step.line).padEnd(3)}`}  ${'  '.repeat(Math.max(0, step.depth - 1))}${step.reading}${mark}`);
    }
  }
  return out.join('\n') + '\n';
}

function runWords(run: PredictedRun): string {
  switch (run.outcome) {
    case 'ended':
      return `the trace ends after ${run.steps.length} steps`;
    case 'lasso':
      return `the state at step ${run.lasso?.first} repeats at step ${run.lasso?.second}`;
    case 'budget':
      return `still going after ${run.steps.length} steps (${run.problem ? `when ${run.problem}` : 'the budget'})`;
    case 'broken':
      return `no verdict: ${run.problem ?? 'the prediction broke off'}`;
  }
}

/**
 * What an evaluation prints: a compact table (the model beside both baselines) for people, and a JSON
 * document with every number and per-row detail for scripts and for comparing runs.
 * In the table "—" marks a number a baseline cannot have, "skipped" a part that was not run, and
 * "n/a" a number over nothing (no step or row measured).
 */
import type { ModelInfo } from '../model/backend';
import type { EvalRun, RowResult, StepOutcome } from './harness';
import { EvalMetrics, judgedCounts, Rate, rateValue } from './metrics';

export interface ReportContext {
  readonly model: Pick<ModelInfo, 'name' | 'backend' | 'device'>;
  /** The data file, as the user named it. */
  readonly data: string;
  readonly maxFrameTokens: number;
  readonly maxSteps: number;
  readonly limit?: number;
}

const CANNOT = '—';
const SKIPPED = 'skipped';
const NOTHING = 'n/a';

export function formatTable(context: ReportContext, run: EvalRun, metrics: EvalMetrics): string {
  const { rows, steps, model } = metrics;
  const lines: string[] = [];
  if (run.stopped) lines.push(`PARTIAL (${run.stopped.message}): ${rows.measured + rows.excluded} of ${rows.total} rows reached`);
  lines.push(`model: ${context.model.name} (${context.model.backend}, ${context.model.device})`);
  lines.push(`data:  ${context.data}: ${rows.measured} rows used, ${rows.excluded} excluded${excludedText(rows.excludedBy)}`);
  lines.push(`steps: ${steps.measured} teacher-forced steps, ${steps.skippedForContext} skipped for context`);
  lines.push('');
  const free = metrics.unconstrained;
  // With the grammar, a second model column: the same steps decoded without it.
  const second = (value: string): string[] => (free ? [value] : []);
  const table: string[][] = [
    ['', run.parts.grammar ? 'model (frame grammar)' : 'model', ...second('model (unconstrained)'), 'repeat previous frame', 'next line'],
    ['valid format', rate(model.validFormat), ...second(rate(free?.validFormat)), CANNOT, CANNOT],
    ['action EM', rate(model.actionMatch), ...second(rate(free?.actionMatch)), rate(metrics.repeatPrevious.actionMatch), rate(metrics.nextLine.actionMatch)],
    ['state EM', rate(model.stateMatch), ...second(rate(free?.stateMatch)), rate(metrics.repeatPrevious.stateMatch), rate(metrics.nextLine.stateMatch)],
    ['output pass@1', rate(model.outputPass), ...second(SKIPPED), CANNOT, CANNOT],
    ['tokens/trace', amount(model.tokensPerTrace), ...second(SKIPPED), CANNOT, CANNOT],
    ['ms/frame', amount(model.msPerFrame), ...second(SKIPPED), CANNOT, CANNOT],
    ['ms/step (teacher-forced)', amount(model.msPerStep), ...second(SKIPPED), CANNOT, CANNOT],
  ];
  const widths = table[0].map((_, column) => Math.max(...table.map((row) => row[column].length)));
  for (const row of table) lines.push(row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]))).join('  ').trimEnd());
  for (const note of run.notes) lines.push(`note: ${note}`);
  return lines.join('\n') + '\n';
}

export function reportJson(context: ReportContext, run: EvalRun, metrics: EvalMetrics): Record<string, unknown> {
  const { model } = metrics;
  return {
    format: 'neural-debug-eval',
    version: 1,
    partial: run.stopped !== undefined,
    stopped: run.stopped ?? null,
    model: context.model,
    data: context.data,
    options: {
      maxFrameTokens: context.maxFrameTokens,
      maxSteps: context.maxSteps,
      limit: context.limit ?? null,
      teacherForced: run.parts.teacherForced,
      freeRunning: run.parts.freeRunning,
      grammar: run.parts.grammar,
    },
    rows: metrics.rows,
    steps: metrics.steps,
    metrics: {
      model: {
        validFormat: rateJson(model.validFormat),
        actionMatch: rateJson(model.actionMatch),
        stateMatch: rateJson(model.stateMatch),
        outputPass: rateJson(model.outputPass),
        tokensPerTrace: model.tokensPerTrace ?? null,
        msPerFrame: model.msPerFrame ?? null,
        msPerStep: model.msPerStep ?? null,
      },
      unconstrained: metrics.unconstrained
        ? { validFormat: rateJson(metrics.unconstrained.validFormat), actionMatch: rateJson(metrics.unconstrained.actionMatch), stateMatch: rateJson(metrics.unconstrained.stateMatch) }
        : null,
      repeatPreviousFrame: { actionMatch: rateJson(metrics.repeatPrevious.actionMatch), stateMatch: rateJson(metrics.repeatPrevious.stateMatch) },
      nextLine: { actionMatch: rateJson(metrics.nextLine.actionMatch), stateMatch: rateJson(metrics.nextLine.stateMatch) },
    },
    notes: run.notes,
    perRow: run.rows.map(rowJson),
  };
}

function rowJson(row: RowResult): Record<string, unknown> {
  if (row.kind === 'excluded') return { id: row.id, status: 'excluded', reason: row.reason, message: row.message };
  const count = (test: (step: StepOutcome) => boolean): number => row.steps.filter(test).length;
  const forced = row.teacherForcedMs !== undefined;
  return {
    id: row.id,
    status: 'measured',
    frames: row.frames,
    steps: row.steps.length,
    skippedForContext: row.skippedForContext,
    teacherForced: forced
      ? {
          ...judgedCounts(count, (step) => step.model),
          ...(row.steps.some((step) => step.unconstrained) ? { unconstrained: judgedCounts(count, (step) => step.unconstrained) } : {}),
          firstDivergentStep: row.firstDivergence?.step ?? null,
          firstDivergence: row.firstDivergence ?? null,
          ms: row.teacherForcedMs,
        }
      : null,
    baselines: {
      repeatPreviousFrame: { actionMatch: count((step) => step.repeatPrevious.action), stateMatch: count((step) => step.repeatPrevious.state) },
      nextLine: { actionMatch: count((step) => step.nextLine.action), stateMatch: count((step) => step.nextLine.state) },
    },
    freeRunning: row.freeRunning
      ? {
          pass: row.freeRunning.pass,
          predicted: row.freeRunning.predicted ?? null,
          expected: row.freeRunning.expected,
          end: row.freeRunning.end,
          frames: row.freeRunning.frames,
          tokens: row.freeRunning.tokens,
          ms: row.freeRunning.ms,
        }
      : null,
  };
}

function rate(value: Rate | undefined): string {
  if (!value) return SKIPPED;
  const share = rateValue(value);
  return share === undefined ? NOTHING : `${(share * 100).toFixed(1)}% (${value.hits}/${value.total})`;
}

function amount(value: number | null | undefined): string {
  if (value === undefined) return SKIPPED;
  return value === null ? NOTHING : value.toFixed(1);
}

function rateJson(value: Rate | undefined): Record<string, number | null> | null {
  return value ? { hits: value.hits, total: value.total, rate: rateValue(value) ?? null } : null;
}

function excludedText(by: Readonly<Record<string, number>>): string {
  const parts = Object.entries(by).sort(([a], [b]) => a.localeCompare(b)).map(([reason, n]) => `${reason} ${n}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}

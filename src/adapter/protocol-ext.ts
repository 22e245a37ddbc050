/**
 * What the `cwm` debug adapter says beyond the Debug Adapter Protocol, declared once for both ends
 * (the adapter sends, the extension's decorations listen).
 */

/** Sent at every stop: where each world stands and the values on those lines, for editor decorations. */
export const WORLDS_EVENT = 'neuralDebugger/worlds';

export interface WorldPosition {
  readonly path: string;
  /** 1-based line in the program. */
  readonly line: number;
}

export interface LineValue {
  readonly name: string;
  /** 1-based line the name appears on. */
  readonly line: number;
  /** 0-based columns of the name's first appearance on the line. */
  readonly start: number;
  readonly end: number;
  readonly predicted?: string;
  readonly actual?: string;
}

export interface WorldsEventBody {
  /** 1-based step number, as the stop description counts. */
  readonly step: number;
  readonly mode: 'compare' | 'predict' | 'record';
  readonly predicted?: WorldPosition;
  readonly actual?: WorldPosition;
  readonly values: readonly LineValue[];
}

/** Scope names, which the editor shows and tests look for. */
export const SCOPE_NAMES = {
  predictedLocals: 'Locals (predicted)',
  actualLocals: 'Locals (actual)',
  predictedReturn: 'Return value (predicted)',
  actualReturn: 'Return value (actual)',
} as const;

/** Exception filters offered to the editor: stop when either world raises. */
export const EXCEPTION_FILTERS = [
  { filter: 'predicted', label: 'Predicted exceptions', description: 'Stop where the model predicts an exception', default: true },
  { filter: 'actual', label: 'Real exceptions', description: 'Stop where the real run raises an exception', default: true },
] as const;

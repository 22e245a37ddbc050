/** Misuse of the predictor (as opposed to a model failure, which stays a ModelError from the backend). */

export type PredictorErrorCode =
  | 'not-started' // a step was asked for before start()
  | 'busy' // a command is still running: the predictor does one thing at a time
  | 'bad-entry' // entry locals given where the prompt's shape cannot take them
  | 'bad-step' // goTo() to a step that does not exist or cannot be returned to
  | 'not-editable' // editLocals() on a frame without locals (return, exception, malformed)
  | 'bad-locals' // edited locals that CWM's format cannot carry
  | 'broken' // the sequence could not be put back after a failure: its content is unknown
  | 'disposed';

export class PredictorError extends Error {
  constructor(
    readonly code: PredictorErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'PredictorError';
  }
}

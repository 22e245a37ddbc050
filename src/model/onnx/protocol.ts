/** Messages between the engine (extension host / CLI thread) and its inference worker. */
import type { ModelErrorCode } from '../backend';
import type { KvDtype } from '../model-folder';

export type ExecutionProviderChoice = 'auto' | 'cpu' | 'cuda';

export interface LoadRequest {
  readonly modelFile: string;
  readonly executionProvider: ExecutionProviderChoice;
  /** Threads for one operator; 0 lets ONNX Runtime choose. */
  readonly threads: number;
  readonly numLayers: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  readonly dtype: KvDtype;
  /** Ids the tokenizer knows; sampling never picks one past it. */
  readonly tokenizerSize: number;
  readonly contextLength: number;
}

export interface LoadResult {
  readonly device: 'cpu' | 'cuda';
  readonly deviceNote?: string;
  readonly hasPositionIds: boolean;
  /** The graph takes `past_input_ids` (a copy path over the ids already read). */
  readonly hasCopyPath: boolean;
}

export interface WireGenerateOptions {
  readonly maxTokens: number;
  readonly stopTokenIds: readonly number[];
  readonly temperature?: number;
  readonly topP?: number;
  readonly seed?: number;
}

export interface WireTokenScore {
  readonly tokenId: number;
  readonly logprob: number;
  readonly topTokenId: number;
  readonly topLogprob: number;
}

/** Operations on sequences, all applied in the order sent. */
export type WorkerRequest =
  | { readonly op: 'load'; readonly load: LoadRequest }
  | { readonly op: 'create'; readonly seq: number; readonly tokens: readonly number[] }
  | { readonly op: 'append'; readonly seq: number; readonly tokens: readonly number[] }
  | { readonly op: 'truncate'; readonly seq: number; readonly length: number }
  | { readonly op: 'fork'; readonly seq: number; readonly into: number }
  | { readonly op: 'dispose'; readonly seq: number }
  | { readonly op: 'generate'; readonly seq: number; readonly options: WireGenerateOptions; readonly cancel: SharedArrayBuffer }
  | { readonly op: 'score'; readonly seq: number; readonly tokens: readonly number[]; readonly append: boolean; readonly cancel: SharedArrayBuffer }
  /** The next token's logits, after appending `append` (one message per token for constrained decoding). */
  | { readonly op: 'logits'; readonly seq: number; readonly append?: readonly number[] }
  | { readonly op: 'stats' }
  /** Releases the session and lets the worker thread end by itself (see OnnxEngine.close). */
  | { readonly op: 'close' };

export type WorkerResultOf<R extends WorkerRequest['op']> = R extends 'load'
  ? LoadResult
  : R extends 'generate'
    ? { readonly tokens: number[]; readonly finishReason: 'stop' | 'length' | 'context' }
    : R extends 'score'
      ? WireTokenScore[]
      : R extends 'logits'
        ? Float32Array
        : R extends 'stats'
          ? EngineStats
          : null;

/** Counters for benchmarks and tests: how much work the model really did. */
export interface EngineStats {
  /** Tokens run through the model (each costs a forward position). */
  readonly tokensComputed: number;
  readonly runs: number;
  readonly sequences: number;
}

export type WorkerMessage =
  | { readonly id: number; readonly kind: 'result'; readonly result: unknown }
  | { readonly id: number; readonly kind: 'error'; readonly code: ModelErrorCode; readonly message: string }
  | { readonly id: number; readonly kind: 'token'; readonly token: number };

export type Envelope = WorkerRequest & { readonly id: number };

/** Index of the cancel flag in a request's shared Int32Array: non-zero means stop. */
export const CANCEL_FLAG = 0;

/**
 * The one interface both inference backends implement: the bundled ONNX Runtime engine and the remote
 * vLLM-compatible client. A debugger asks for one frame at a time, steps back and forks counterfactual
 * states, so the unit of work is a *sequence* of token ids that can grow, shrink and split; a backend
 * that keeps a KV cache reuses it for every one of those moves.
 */
import type { SpecialToken } from '../trace/tokens';
import type { TokenConstraint } from './constraint';
import type { CwmTokenizer } from './tokenizer';

export interface ModelInfo {
  /** What the user chose, in words: a folder's name, or an endpoint's model id. */
  readonly name: string;
  readonly backend: 'onnx' | 'remote';
  /** Where inference runs: `cpu`, `cuda`, or the endpoint's URL. */
  readonly device: string;
  /** Why the device differs from the one asked for (e.g. CUDA could not load); shown to the user. */
  readonly deviceNote?: string;
  /** Width of the model's logits: every token id is below it. */
  readonly vocabSize: number;
  /** Most tokens a sequence may hold. */
  readonly contextLength: number;
  readonly specialTokenIds: Readonly<Record<SpecialToken, number>>;
  /** Tokens that end a whole generation (CWM: <|end_of_text|>, and <|eot_id|> in chat mode). */
  readonly eosTokenIds: readonly number[];
  /** generate() honours GenerateOptions.constraint (absent: it generates unconstrained). */
  readonly constrainedDecoding?: boolean;
}

export interface SamplingOptions {
  /** 0 (the default) decodes greedily; ties go to the lowest id. */
  readonly temperature?: number;
  /** Nucleus sampling: keep the smallest set of tokens whose probability reaches topP. Default 1. */
  readonly topP?: number;
  /** Seed for sampling, so a sampled run can be replayed. */
  readonly seed?: number;
}

export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to generate, the stop token included. */
  readonly maxTokens: number;
  /** Generation ends after emitting one of these (it is kept in the sequence). */
  readonly stopTokenIds: readonly number[];
  readonly signal?: AbortSignal;
  /** Each token as soon as it is chosen (before the model has read it back). */
  readonly onToken?: (tokenId: number) => void;
  /**
   * Only tokens it allows are generated, where the backend can (ModelInfo.constrainedDecoding); the
   * constraint is told of each one. If it ever allows nothing, generation goes on unconstrained.
   */
  readonly constraint?: TokenConstraint;
}

export type FinishReason =
  | 'stop' // a stop token was emitted
  | 'length' // maxTokens reached
  | 'context'; // the sequence filled the model's context

export interface GenerateResult {
  /** The generated tokens, already appended to the sequence. */
  readonly tokens: readonly number[];
  readonly finishReason: FinishReason;
}

export interface TokenScore {
  readonly tokenId: number;
  /** Natural-log probability the model gave this token after everything before it. */
  readonly logprob: number;
  /** The model's own first choice at this position, and its log-probability. */
  readonly topTokenId: number;
  readonly topLogprob: number;
}

export interface ScoreOptions {
  readonly signal?: AbortSignal;
  /** Keep the scored tokens in the sequence afterwards (default false: the sequence is unchanged). */
  readonly append?: boolean;
}

export interface ModelSequence {
  /** Number of tokens held. */
  readonly length: number;
  /** The tokens held (a copy). */
  tokens(): number[];
  /** Adds tokens the caller chose (a prompt, a forced event token, an edited frame). */
  append(tokens: readonly number[]): Promise<void>;
  /**
   * Generates and appends tokens until a stop token, the budget or the context's end. When it
   * rejects (cancelled, a server gone), the tokens already passed to onToken stay in the sequence.
   */
  generate(options: GenerateOptions): Promise<GenerateResult>;
  /** Drops every token after the first `length` (a step back). */
  truncate(length: number): Promise<void>;
  /** An independent copy that shares what it can with this one (a counterfactual branch). */
  fork(): Promise<ModelSequence>;
  /**
   * Teacher forcing: for each token of `continuation`, the log-probability the model gives it after
   * the sequence plus the continuation's earlier tokens, and the model's own top choice there.
   * The sequence must not be empty.
   */
  score(continuation: readonly number[], options?: ScoreOptions): Promise<TokenScore[]>;
  /** Frees what the sequence holds; it must not be used afterwards. */
  dispose(): void;
}

export interface ModelBackend {
  readonly info: ModelInfo;
  readonly tokenizer: CwmTokenizer;
  createSequence(tokens?: readonly number[]): Promise<ModelSequence>;
  /** Releases the worker, sockets and memory. Pending calls reject with a ModelError('closed'). */
  close(): Promise<void>;
}

export type ModelErrorCode =
  | 'model-folder' // a missing, corrupt or inconsistent model folder
  | 'tokenizer' // the tokenizer does not match the model's configuration
  | 'load' // ONNX Runtime refused the model
  | 'inference' // a run failed
  | 'context' // the sequence would not fit the model's context
  | 'cancelled'
  | 'closed' // the backend was closed
  | 'connect' // the server cannot be reached
  | 'timeout'
  | 'auth' // 401/403
  | 'http' // any other HTTP status
  | 'protocol' // the server's answer is not what the API promises
  | 'bad-request'; // the caller asked for something impossible

/** Every failure a backend reports: a code to act on and a message to show as it is. */
export class ModelError extends Error {
  constructor(
    readonly code: ModelErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ModelError';
  }
}

export function isCancelled(error: unknown): boolean {
  return error instanceof ModelError && error.code === 'cancelled';
}

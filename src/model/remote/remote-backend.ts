/**
 * The remote backend: CWM served by vLLM (or by `neural-debug serve`) behind an OpenAI-compatible
 * HTTP API, seen through the same ModelBackend interface as the in-process engine.
 */
import { ModelBackend, ModelError, ModelInfo, ModelSequence } from '../backend';
import { CwmTokenizer, TokenizerJson } from '../tokenizer';
import { parseEndpoint } from './endpoint';
import { ExchangeTimeouts } from './http-exchange';
import { isObject, isTokenId } from './json-reading';
import { MODEL_DESCRIPTION_PATH, ModelDescription, NEURAL_DEBUG_OWNER, readModelDescription } from './neural-debug-api';
import { HttpStatusError, RemoteClient } from './remote-client';
import { RemoteModel, RemoteSequence } from './remote-sequence';
import { DEFAULT_RETRY_POLICY } from './retry';

export type RemoteTimeouts = ExchangeTimeouts;

export const DEFAULT_REMOTE_TIMEOUTS: RemoteTimeouts = { connectMs: 10_000, firstByteMs: 120_000, idleMs: 120_000 };

export interface RemoteBackendOptions {
  /** Base URL: http(s)://host:port, with or without a trailing /v1. */
  readonly endpoint: string;
  /** Sent as `Authorization: Bearer`; never shown in any message. */
  readonly apiKey?: string;
  /** Model id; default: the first one the server lists. */
  readonly model?: string;
  /**
   * CWM's tokenizer. Without it, the tokenizer comes from the server (`neural-debug serve` sends
   * it); a plain vLLM server cannot, and then the folder with facebook/cwm's tokenizer.json is needed.
   */
  readonly tokenizer?: CwmTokenizer;
  /** Context length, for servers whose /v1/models does not say (vLLM does: max_model_len). */
  readonly contextLength?: number;
  readonly timeouts?: Partial<RemoteTimeouts>;
  /** Further attempts after a 429/5xx or a reset connection (default 3). */
  readonly retries?: number;
  /** Backoff before the first retry, doubling after (default 500 ms). */
  readonly retryDelayMs?: number;
  /** Longest Retry-After waited out (default 60 s); a server asking for more fails the call. */
  readonly maxRetryAfterMs?: number;
  /** Extra trusted CA certificates (PEM) for a server with a self-signed certificate. */
  readonly ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Cancels opening (listing models, fetching the tokenizer). Once open, close() ends everything. */
  readonly signal?: AbortSignal;
}

/** Answers of 100k-token prompts with log-probabilities run to tens of megabytes. */
const MAX_BODY_CHARS = 512 * 1024 * 1024;

/** Connects to the server, learns the model and its tokenizer, and returns the backend. */
export async function openRemoteBackend(options: RemoteBackendOptions): Promise<RemoteBackend> {
  const endpoint = parseEndpoint(options.endpoint);
  const retries = options.retries ?? DEFAULT_RETRY_POLICY.retries;
  if (!Number.isInteger(retries) || retries < 0) throw new ModelError('bad-request', `retries must be a whole number (0 or more), not ${retries}`);
  const client = new RemoteClient(endpoint, {
    ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    timeouts: { ...DEFAULT_REMOTE_TIMEOUTS, ...options.timeouts },
    retry: {
      ...DEFAULT_RETRY_POLICY,
      retries,
      ...(options.retryDelayMs !== undefined ? { baseDelayMs: options.retryDelayMs } : {}),
      ...(options.maxRetryAfterMs !== undefined ? { maxRetryAfterMs: options.maxRetryAfterMs } : {}),
    },
    maxBodyChars: MAX_BODY_CHARS,
  });
  try {
    const card = await pickModel(client, options.model, options.signal);
    const ours = card.ownedBy === NEURAL_DEBUG_OWNER;
    let tokenizer = options.tokenizer;
    let description: ModelDescription | undefined;
    if (!tokenizer) {
      description = await fetchDescription(client, options.signal);
      tokenizer = tokenizerFrom(description, client.where);
    }
    const contextLength = card.maxModelLen ?? options.contextLength ?? description?.contextLength;
    if (contextLength === undefined) {
      throw new ModelError('protocol', `${client.where}/v1/models does not say the model's context length (max_model_len): pass contextLength`);
    }
    const eosTokenIds = description?.eosTokenIds ?? defaultEosIds(tokenizer);
    const info: ModelInfo = {
      name: card.id,
      backend: 'remote',
      device: client.where,
      vocabSize: description?.vocabSize ?? tokenizer.size,
      contextLength,
      specialTokenIds: tokenizer.specialTokenIds,
      eosTokenIds,
    };
    return new RemoteBackend(client, info, tokenizer, ours);
  } catch (error) {
    client.close();
    throw error;
  }
}

export class RemoteBackend implements ModelBackend {
  private readonly remote: RemoteModel;

  constructor(
    private readonly client: RemoteClient,
    readonly info: ModelInfo,
    readonly tokenizer: CwmTokenizer,
    /** Whether the server is `neural-debug serve`. */
    readonly servedByNeuralDebug: boolean,
  ) {
    this.remote = {
      client,
      model: info.name,
      vocabSize: info.vocabSize,
      contextLength: info.contextLength,
      eosTokenIds: info.eosTokenIds,
      ours: servedByNeuralDebug,
    };
  }

  async createSequence(tokens: readonly number[] = []): Promise<ModelSequence> {
    if (this.client.isClosed) throw new ModelError('closed', `the connection to ${this.client.where} was closed`);
    const sequence = new RemoteSequence(this.remote, []);
    await sequence.append(tokens);
    return sequence;
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

interface ModelCard {
  readonly id: string;
  readonly maxModelLen?: number;
  readonly ownedBy?: string;
}

async function pickModel(client: RemoteClient, wanted: string | undefined, signal: AbortSignal | undefined): Promise<ModelCard> {
  const where = `${client.where}/v1/models`;
  const value = await client.json('GET', '/v1/models', undefined, signal);
  const data = isObject(value) ? value.data : undefined;
  if (!Array.isArray(data)) throw new ModelError('protocol', `${where} did not answer with a model list ("data" is missing): is this an OpenAI-compatible server?`);
  const cards: ModelCard[] = [];
  for (const entry of data) {
    if (!isObject(entry) || typeof entry.id !== 'string') continue;
    cards.push({
      id: entry.id,
      ...(isTokenId(entry.max_model_len) && entry.max_model_len > 0 ? { maxModelLen: entry.max_model_len } : {}),
      ...(typeof entry.owned_by === 'string' ? { ownedBy: entry.owned_by } : {}),
    });
  }
  if (cards.length === 0) throw new ModelError('protocol', `${where} lists no models: the server has nothing loaded`);
  if (wanted === undefined) return cards[0];
  const card = cards.find((c) => c.id === wanted);
  if (!card) throw new ModelError('bad-request', `${client.where} serves ${cards.map((c) => `"${c.id}"`).join(', ')}, not "${wanted}": pick one of those`);
  return card;
}

async function fetchDescription(client: RemoteClient, signal: AbortSignal | undefined): Promise<ModelDescription> {
  const where = `${client.where}${MODEL_DESCRIPTION_PATH}`;
  let value: unknown;
  try {
    value = await client.json('GET', MODEL_DESCRIPTION_PATH, undefined, signal);
  } catch (error) {
    if (error instanceof HttpStatusError && error.status === 404) {
      throw new ModelError(
        'tokenizer',
        `${client.where} cannot send CWM's tokenizer (it is not a neural-debug server; plain vLLM has no ${MODEL_DESCRIPTION_PATH}): give the folder that holds facebook/cwm's tokenizer.json`,
      );
    }
    throw error;
  }
  const description = readModelDescription(value);
  if (typeof description === 'string') throw new ModelError('protocol', `${where} sent a model description this client cannot use: ${description}`);
  return description;
}

function tokenizerFrom(description: ModelDescription, where: string): CwmTokenizer {
  return new CwmTokenizer(description.tokenizer as TokenizerJson, description.specialTokens, `the tokenizer sent by ${where}`);
}

/** `<|end_of_text|>`, and `<|eot_id|>` where the tokenizer has it (CWM's chat turns end with it). */
function defaultEosIds(tokenizer: CwmTokenizer): number[] {
  const eot = tokenizer.idOf('<|eot_id|>');
  return [tokenizer.special('<|end_of_text|>'), ...(eot !== undefined ? [eot] : [])];
}

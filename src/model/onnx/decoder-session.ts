/**
 * One ONNX Runtime session over a decoder graph in the Optimum / onnxruntime-genai layout: inputs
 * `input_ids`, `attention_mask`, optional `position_ids` and `past_key_values.N.key/value`; outputs
 * `logits` and `present.N.key/value`. A graph with a copy path (kernels/cwm_onnx.py) also takes
 * `past_input_ids`, the ids its cache holds: the cache carries them, so forks and truncation keep them
 * right without any extra bookkeeping. Runs inside the inference worker: `run` blocks its thread.
 */
import * as fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { ModelError } from '../backend';
import type { KvDtype } from '../model-folder';
import type { LoadRequest, LoadResult } from './protocol';

/** One layer's keys or values, [1, kvHeads, length, headDim] in row-major order. */
export type KvArray = Float32Array | Uint16Array;

/** The cache after `length` tokens: keys and values of every layer, never mutated once made. */
export interface KvCache {
  readonly length: number;
  /** layer 0 key, layer 0 value, layer 1 key, ... */
  readonly arrays: readonly KvArray[];
  /** The ids of those `length` positions, kept only for a graph with a copy path (which reads them); empty otherwise. */
  readonly ids: readonly number[];
}

export interface RunOutput {
  /** [tokens, vocab] row-major, as float32. */
  readonly logits: Float32Array;
  readonly cache: KvCache;
}

const CUDA_HELP = 'install the CUDA 12 provider libraries that match onnxruntime-node (README: "Running on a GPU")';

export class DecoderSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly load: LoadRequest,
    readonly hasPositionIds: boolean,
    readonly hasCopyPath: boolean,
  ) {}

  static async open(load: LoadRequest): Promise<{ session: DecoderSession; result: LoadResult }> {
    // ONNX Runtime's own warnings go to the extension host's stderr where nobody reads them; what
    // matters reaches the user through the errors and the device note below.
    const base: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      ...(load.threads > 0 ? { intraOpNumThreads: load.threads } : {}),
    };
    // The CUDA provider's load failure is logged by the process-wide logger before we catch it.
    ort.env.logLevel = 'fatal';
    let device: 'cpu' | 'cuda' = 'cpu';
    let deviceNote: string | undefined;
    let session: ort.InferenceSession | undefined;
    const wantCuda = load.executionProvider === 'cuda' || (load.executionProvider === 'auto' && hasNvidiaDriver());
    if (wantCuda) {
      try {
        session = await ort.InferenceSession.create(load.modelFile, { ...base, logSeverityLevel: 4, executionProviders: ['cuda'] });
        device = 'cuda';
      } catch (error) {
        const reason = firstLine((error as Error).message);
        // A graph that cannot load at all fails the same way on CPU; only a provider problem falls back.
        deviceNote = `CUDA was requested but could not be used (${reason}); running on the CPU instead. To use the GPU, ${CUDA_HELP}.`;
      }
    }
    if (!session) {
      try {
        session = await ort.InferenceSession.create(load.modelFile, { ...base, executionProviders: ['cpu'] });
      } catch (error) {
        throw new ModelError('load', `ONNX Runtime cannot load ${load.modelFile}: ${firstLine((error as Error).message)}. Re-export the model, and keep any external-data file next to it.`);
      }
    }
    let layout: Layout;
    try {
      layout = checkLayout(session, load);
    } catch (error) {
      await session.release();
      throw error;
    }
    const { hasPositionIds, hasCopyPath } = layout;
    return { session: new DecoderSession(session, load, hasPositionIds, hasCopyPath), result: { device, deviceNote, hasPositionIds, hasCopyPath } };
  }

  /** Runs `tokens` after `past`, whose last position is `past.length - 1`. */
  async run(tokens: readonly number[], past: KvCache): Promise<RunOutput> {
    const { numLayers, numKvHeads, headDim, dtype, vocabSize } = this.load;
    const n = tokens.length;
    const total = past.length + n;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(tokens, (t) => BigInt(t)), [1, n]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
    };
    if (this.hasPositionIds) {
      const positions = new BigInt64Array(n);
      for (let i = 0; i < n; i++) positions[i] = BigInt(past.length + i);
      feeds.position_ids = new ort.Tensor('int64', positions, [1, n]);
    }
    if (this.hasCopyPath) {
      feeds.past_input_ids = new ort.Tensor('int64', BigInt64Array.from(past.ids, (t) => BigInt(t)), [1, past.length]);
    }
    for (let layer = 0; layer < numLayers; layer++) {
      feeds[`past_key_values.${layer}.key`] = new ort.Tensor(dtype, past.arrays[2 * layer], [1, numKvHeads, past.length, headDim]);
      feeds[`past_key_values.${layer}.value`] = new ort.Tensor(dtype, past.arrays[2 * layer + 1], [1, numKvHeads, past.length, headDim]);
    }
    let outputs: ort.InferenceSession.ReturnType;
    try {
      outputs = await this.session.run(feeds);
    } catch (error) {
      throw new ModelError('inference', `the model failed on ${n} token(s) after ${past.length}: ${firstLine((error as Error).message)}`);
    }
    const logitsTensor = outputs.logits;
    const width = logitsTensor.dims[logitsTensor.dims.length - 1];
    if (width !== vocabSize) {
      throw new ModelError('load', `the model's logits have ${width} entries per token, but neural-debug-model.json says vocabSize ${vocabSize}: fix vocabSize or re-export`);
    }
    const arrays: KvArray[] = [];
    for (let layer = 0; layer < numLayers; layer++) {
      for (const part of ['key', 'value']) {
        const present = outputs[`present.${layer}.${part}`];
        if (present.dims[2] !== total) {
          throw new ModelError('inference', `present.${layer}.${part} holds ${present.dims[2]} positions after ${total} tokens: the graph does not keep a full KV cache`);
        }
        arrays.push(present.data as KvArray);
      }
    }
    return { logits: toFloat32(logitsTensor.data as KvArray, dtype), cache: { length: total, arrays, ids: this.hasCopyPath ? [...past.ids, ...tokens] : past.ids } };
  }

  emptyCache(): KvCache {
    const make = (): KvArray => (this.load.dtype === 'float16' ? new Uint16Array(0) : new Float32Array(0));
    return { length: 0, arrays: Array.from({ length: 2 * this.load.numLayers }, make), ids: [] };
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** The first `length` positions of a cache (a copy: caches are shared between forks and never change). */
export function truncateCache(cache: KvCache, length: number, numKvHeads: number, headDim: number): KvCache {
  if (length >= cache.length) return cache;
  const arrays = cache.arrays.map((array) => {
    const out = new (array.constructor as { new (n: number): KvArray })(numKvHeads * length * headDim);
    for (let h = 0; h < numKvHeads; h++) {
      const from = h * cache.length * headDim;
      out.set(array.subarray(from, from + length * headDim), h * length * headDim);
    }
    return out;
  });
  return { length, arrays, ids: cache.ids.slice(0, length) };
}

interface Layout {
  readonly hasPositionIds: boolean;
  readonly hasCopyPath: boolean;
}

/** Checks the graph's inputs and outputs against the folder's configuration, and says which optional inputs it takes. */
function checkLayout(session: ort.InferenceSession, load: LoadRequest): Layout {
  const fail = (what: string): never => {
    throw new ModelError('load', `${load.modelFile} ${what}. The runtime supports the Optimum / onnxruntime-genai decoder layout (input_ids, attention_mask, optional position_ids, past_key_values.N.key/value → logits, present.N.key/value).`);
  };
  const inputs = new Set(session.inputNames);
  const outputs = new Set(session.outputNames);
  const expectedInputs = ['input_ids', 'attention_mask'];
  const expectedOutputs = ['logits'];
  for (let layer = 0; layer < load.numLayers; layer++) {
    expectedInputs.push(`past_key_values.${layer}.key`, `past_key_values.${layer}.value`);
    expectedOutputs.push(`present.${layer}.key`, `present.${layer}.value`);
  }
  for (const name of expectedInputs) if (!inputs.has(name)) fail(`has no input "${name}" (its inputs: ${[...inputs].join(', ')})`);
  for (const name of expectedOutputs) if (!outputs.has(name)) fail(`has no output "${name}" (its outputs: ${[...outputs].join(', ')})`);
  const known = new Set([...expectedInputs, 'position_ids', 'past_input_ids']);
  const extra = [...inputs].filter((name) => !known.has(name));
  if (extra.length > 0) {
    const layers = extra.filter((name) => name.startsWith('past_key_values.')).length / 2;
    if (layers > 0) fail(`has ${load.numLayers + layers} layers of KV cache, but neural-debug-model.json says numLayers ${load.numLayers}`);
    fail(`wants inputs this runtime does not provide: ${extra.join(', ')}`);
  }
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor || !meta.name.startsWith('past_key_values.')) continue;
    checkType(meta.type, load.dtype, meta.name, fail);
    const [, heads, , dim] = meta.shape;
    if (typeof heads === 'number' && heads !== load.numKvHeads) fail(`has ${heads} KV heads in ${meta.name}, but neural-debug-model.json says numKvHeads ${load.numKvHeads}`);
    if (typeof dim === 'number' && dim !== load.headDim) fail(`has head size ${dim} in ${meta.name}, but neural-debug-model.json says headDim ${load.headDim}`);
  }
  for (const meta of session.outputMetadata) {
    if (!meta.isTensor || meta.name !== 'logits') continue;
    checkType(meta.type, load.dtype, 'logits', fail);
    const width = meta.shape[meta.shape.length - 1];
    if (typeof width === 'number' && width !== load.vocabSize) fail(`has ${width} logits per token, but neural-debug-model.json says vocabSize ${load.vocabSize}`);
  }
  return { hasPositionIds: inputs.has('position_ids'), hasCopyPath: inputs.has('past_input_ids') };
}

function checkType(actual: string, expected: KvDtype, name: string, fail: (what: string) => never): void {
  if (actual !== expected) fail(`has ${name} of type ${actual}, but neural-debug-model.json says dtype ${expected}`);
}

function hasNvidiaDriver(): boolean {
  return fs.existsSync('/proc/driver/nvidia/version');
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim();
}

let halfTable: Float32Array | undefined;

/** IEEE 754 half-precision bits to float32, through a table built on first use. */
function toFloat32(data: KvArray, dtype: KvDtype): Float32Array {
  if (dtype === 'float32') return data as Float32Array;
  halfTable ??= buildHalfTable();
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = halfTable[data[i]];
  return out;
}

function buildHalfTable(): Float32Array {
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >> 10) & 0x1f;
    const fraction = bits & 0x3ff;
    if (exponent === 0) table[bits] = sign * fraction * 2 ** -24;
    else if (exponent === 31) table[bits] = fraction === 0 ? sign * Infinity : NaN;
    else table[bits] = sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
  }
  return table;
}

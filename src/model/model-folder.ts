/**
 * A model comes as a folder: `neural-debug-model.json` (what the runtime needs to know), the ONNX
 * graph (+ external data) and a Hugging Face tokenizer.json. The same shape serves the bundled model,
 * a CWM export and the test fixtures. Everything that can be checked before ONNX Runtime loads the
 * graph is checked here, and every problem is one message naming the file and the fix.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SPECIAL_TOKENS, SpecialToken } from '../trace/tokens';
import { ModelError } from './backend';
import { CwmTokenizer, SpecialTokenIds } from './tokenizer';


/** CWM reads 131,072 tokens; eight times that leaves room for any model this runtime could hold. */
const MAX_CONTEXT_LENGTH = 1 << 20;
export const MODEL_CONFIG_FILE = 'neural-debug-model.json';
export const MODEL_CONFIG_FORMAT = 'neural-debug-model';

export type KvDtype = 'float32' | 'float16';

export interface ModelConfig {
  readonly name: string;
  /** Absolute paths. */
  readonly modelFile: string;
  readonly tokenizerFile: string;
  /** Width of the logits. */
  readonly vocabSize: number;
  readonly contextLength: number;
  readonly specialTokens: SpecialTokenIds;
  readonly eosTokenIds: readonly number[];
  readonly numLayers: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  /** Element type of the KV cache and logits at the graph's boundary. */
  readonly dtype: KvDtype;
  /** Per layer: the local attention window in tokens, or null for a global layer. */
  readonly attentionWindows: readonly (number | null)[];
}

export interface ModelFolder {
  readonly dir: string;
  readonly config: ModelConfig;
  readonly tokenizer: CwmTokenizer;
}

/** Reads and checks a model folder; throws ModelError('model-folder' | 'tokenizer'). */
export function readModelFolder(dir: string): ModelFolder {
  const folder = path.resolve(dir);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(folder);
  } catch {
    throw new ModelError('model-folder', `model folder ${folder} does not exist`);
  }
  if (!stat.isDirectory()) throw new ModelError('model-folder', `${folder} is a file; a model is a folder holding ${MODEL_CONFIG_FILE}, the ONNX model and tokenizer.json`);
  const configFile = path.join(folder, MODEL_CONFIG_FILE);
  if (!fs.existsSync(configFile)) {
    throw new ModelError('model-folder', `${folder} is not a model folder: it has no ${MODEL_CONFIG_FILE} (the README's "Model folders" section shows what goes in it)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  } catch (error) {
    throw new ModelError('model-folder', `${configFile} is not valid JSON: ${(error as Error).message}`);
  }
  const config = parseConfig(raw, folder, configFile);
  for (const [what, file] of [['ONNX model', config.modelFile], ['tokenizer', config.tokenizerFile]] as const) {
    if (!fs.existsSync(file)) throw new ModelError('model-folder', `${configFile} names the ${what} ${path.basename(file)}, but ${file} does not exist`);
  }
  const tokenizer = CwmTokenizer.fromFile(config.tokenizerFile, config.specialTokens);
  if (tokenizer.size > config.vocabSize) {
    throw new ModelError('model-folder', `${config.tokenizerFile} knows ${tokenizer.size} token ids but ${configFile} says the model's logits have only ${config.vocabSize} (vocabSize): the tokenizer and the model do not belong together`);
  }
  return { dir: folder, config, tokenizer };
}

function parseConfig(raw: unknown, folder: string, file: string): ModelConfig {
  const fail = (what: string): never => {
    throw new ModelError('model-folder', `${file}: ${what}`);
  };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return fail('must hold a JSON object');
  const obj = raw as Record<string, unknown>;
  if (obj.format !== MODEL_CONFIG_FORMAT) fail(`"format" must be "${MODEL_CONFIG_FORMAT}"`);
  if (obj.version !== 1) fail(`"version" ${JSON.stringify(obj.version)} is not supported (this build reads version 1)`);
  const positive = (key: string): number => {
    const value = obj[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(`"${key}" must be a whole number of at least 1, not ${JSON.stringify(value)}`);
    return value as number;
  };
  const fileName = (key: string, fallback: string): string => {
    const value = obj[key] ?? fallback;
    if (typeof value !== 'string' || value === '' || path.isAbsolute(value) || value.split(/[\\/]/).includes('..')) {
      fail(`"${key}" must be a file name inside the folder, not ${JSON.stringify(value)}`);
    }
    return path.join(folder, value as string);
  };
  const vocabSize = positive('vocabSize');
  const tokenId = (value: unknown, what: string): number => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value >= vocabSize) {
      fail(`${what} must be a token id below vocabSize ${vocabSize}, not ${JSON.stringify(value)}`);
    }
    return value as number;
  };

  const specials = obj.specialTokens;
  if (typeof specials !== 'object' || specials === null) return fail('"specialTokens" must map each CWM special token to its id');
  const specialTokens = {} as Record<SpecialToken, number>;
  for (const token of Object.values(SPECIAL_TOKENS)) {
    specialTokens[token] = tokenId((specials as Record<string, unknown>)[token], `"specialTokens" entry ${token}`);
  }
  const eos = obj.eosTokenIds;
  if (!Array.isArray(eos) || eos.length === 0) fail('"eosTokenIds" must be a non-empty list of token ids');
  const eosTokenIds = (eos as unknown[]).map((id) => tokenId(id, '"eosTokenIds" entry'));
  if (!eosTokenIds.includes(specialTokens[SPECIAL_TOKENS.endOfText])) fail(`"eosTokenIds" must include the id of ${SPECIAL_TOKENS.endOfText}`);

  const numLayers = positive('numLayers');
  const dtype = obj.dtype;
  if (dtype !== 'float32' && dtype !== 'float16') fail(`"dtype" must be "float32" or "float16", not ${JSON.stringify(dtype)}`);
  const windows = obj.attentionWindows;
  if (!Array.isArray(windows) || windows.length !== numLayers) fail(`"attentionWindows" must list one entry per layer (${numLayers}): a window in tokens, or null for a global layer`);
  const attentionWindows = (windows as unknown[]).map((w) => {
    if (w !== null && (typeof w !== 'number' || !Number.isInteger(w) || w < 1)) fail(`"attentionWindows" entries must be whole numbers or null, not ${JSON.stringify(w)}`);
    return w as number | null;
  });
  const contextLength = positive('contextLength');
  // Positions and KV caches are sized from it: a typo of a few zeros must not pass for a model.
  if (contextLength > MAX_CONTEXT_LENGTH) fail(`"contextLength" ${contextLength} is beyond any model this runtime can hold (at most ${MAX_CONTEXT_LENGTH.toLocaleString('en-US')} tokens)`);
  const name = obj.name ?? path.basename(folder);
  if (typeof name !== 'string') fail('"name" must be a string');
  return {
    name: name as string,
    modelFile: fileName('model', 'model.onnx'),
    tokenizerFile: fileName('tokenizer', 'tokenizer.json'),
    vocabSize,
    contextLength,
    specialTokens,
    eosTokenIds,
    numLayers,
    numKvHeads: positive('numKvHeads'),
    headDim: positive('headDim'),
    dtype: dtype as KvDtype,
    attentionWindows,
  };
}

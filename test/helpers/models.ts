/** The tiny random-weight model fixtures (built by kernels/build_test_models.py) and their reference. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, tempDir } from './env';

export const MODELS = path.join(REPO_ROOT, 'test', 'fixtures', 'models');
/** float32, takes position_ids (the Optimum layout). */
export const TINY = path.join(MODELS, 'tiny-cwm');
/** Same weights; positions come from attention_mask (the onnxruntime-genai layout). */
export const TINY_NOPOS = path.join(MODELS, 'tiny-cwm-nopos');
/** Same weights; KV cache and logits are float16 at the graph's boundary. */
export const TINY_FP16 = path.join(MODELS, 'tiny-cwm-fp16');

export interface ReferenceSequence {
  readonly name: string;
  readonly tokens: number[];
  /** Logits after each of the last four positions, oldest first. */
  readonly lastLogits: number[][];
  /** For every position i >= 1: log-probability of tokens[i] after tokens[..i]. */
  readonly logprobs: number[];
  readonly argmax: number[];
}

/** Outputs of an independent float64 numpy forward pass (full recompute, no cache). */
export interface Reference {
  readonly vocabSize: number;
  readonly prompt: number[];
  readonly greedy: number[];
  readonly sequences: ReferenceSequence[];
}

export function loadReference(): Reference {
  return JSON.parse(fs.readFileSync(path.join(MODELS, 'reference.json'), 'utf8')) as Reference;
}

export function referenceSequence(reference: Reference, name: string): ReferenceSequence {
  const found = reference.sequences.find((sequence) => sequence.name === name);
  if (!found) throw new Error(`reference.json has no sequence "${name}"`);
  return found;
}

export function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  if (actual.length !== expected.length) throw new Error(`length ${actual.length} != ${expected.length}`);
  let max = 0;
  for (let i = 0; i < actual.length; i++) max = Math.max(max, Math.abs(actual[i] - expected[i]));
  return max;
}

/**
 * A copy of a fixture model folder in a temporary directory, without the files in `remove`, with its
 * neural-debug-model.json replaced by what `edit` returns (an object, or raw text; undefined keeps it).
 */
export function copyModelFolder(from: string, edit: (config: Record<string, unknown>) => unknown = () => undefined, remove: readonly string[] = []): string {
  const dir = tempDir('nd-model-');
  for (const file of fs.readdirSync(from)) if (!remove.includes(file)) fs.copyFileSync(path.join(from, file), path.join(dir, file));
  const configFile = path.join(dir, 'neural-debug-model.json');
  if (fs.existsSync(configFile)) {
    const config = JSON.parse(fs.readFileSync(configFile, 'utf8')) as Record<string, unknown>;
    const edited = edit(config) ?? config;
    fs.writeFileSync(configFile, typeof edited === 'string' ? edited : JSON.stringify(edited));
  }
  return dir;
}

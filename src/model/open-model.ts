/** Opening the model a user chose: a folder run in-process, or a server. Shared by the CLI and the extension. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelBackend, ModelError } from './backend';
import { openOnnxEngine } from './onnx/engine';
import type { ExecutionProviderChoice } from './onnx/protocol';
import { openRemoteBackend } from './remote';
import { CwmTokenizer } from './tokenizer';

/** Where the bundled model sits, relative to the extension's (or the repository's) root. */
export const BUNDLED_MODEL_DIR = path.join('models', 'cwm-tiny');

export interface ModelChoice {
  /** A model folder; with neither this nor an endpoint, the bundled model. */
  readonly model?: string;
  /** A vLLM-compatible server's URL; wins over `model`. */
  readonly endpoint?: string;
  readonly apiKey?: string;
  /** tokenizer.json (or its folder) of the served model; not needed against neural-debug serve. */
  readonly tokenizer?: string;
  readonly device?: ExecutionProviderChoice;
  readonly threads?: number;
  /** The bundled model's folder, if this installation has one. */
  readonly bundledModel?: string;
  readonly signal?: AbortSignal;
}

export function openModel(choice: ModelChoice): Promise<ModelBackend> {
  if (choice.endpoint) {
    return openRemoteBackend({
      endpoint: choice.endpoint,
      ...(choice.apiKey ? { apiKey: choice.apiKey } : {}),
      ...(choice.tokenizer ? { tokenizer: CwmTokenizer.fromFile(tokenizerFile(choice.tokenizer)) } : {}),
      ...(choice.signal ? { signal: choice.signal } : {}),
    });
  }
  const dir = choice.model || choice.bundledModel;
  if (!dir) return Promise.reject(new ModelError('model-folder', 'no model is configured and this installation has no bundled model: choose a model folder or a server endpoint'));
  return openOnnxEngine(dir, { executionProvider: choice.device ?? 'auto', threads: choice.threads ?? 0 });
}

/** The bundled model under one of `roots`, if present. */
export function findBundledModel(roots: readonly string[]): string | undefined {
  return roots.map((root) => path.join(root, BUNDLED_MODEL_DIR)).find((dir) => fs.existsSync(dir));
}

function tokenizerFile(given: string): string {
  return fs.existsSync(given) && fs.statSync(given).isDirectory() ? path.join(given, 'tokenizer.json') : given;
}

/** The CLI's choice of model: a folder run in-process, or a server, with their shared options. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelBackend, ModelError } from '../model/backend';
import { openOnnxEngine } from '../model/onnx/engine';
import { ExecutionProviderChoice } from '../model/onnx/protocol';
import { openRemoteBackend } from '../model/remote';
import { CwmTokenizer } from '../model/tokenizer';
import { choiceOption, intOption, OptionSpec, ParsedArgs, UsageError } from './args';

/** Where the bundled model lives relative to dist/cli.js (and to the repository root). */
export const BUNDLED_MODEL_DIR = path.join('models', 'cwm-tiny');
/** The remote API key is read from here, never from the command line (shell history, `ps`). */
export const API_KEY_VARIABLE = 'NEURAL_DEBUG_API_KEY';

export const MODEL_OPTIONS: readonly OptionSpec[] = ['model', 'endpoint', 'tokenizer', 'device', 'threads'].map((name) => ({ name, value: true }));

export const MODEL_USAGE = `  --model DIR        model folder run in-process (default: the bundled model)
  --endpoint URL     a vLLM-compatible server instead (e.g. http://gpu-box:8000); the API key,
                     if it needs one, is read from $${API_KEY_VARIABLE}
  --tokenizer PATH   with --endpoint: tokenizer.json (or its folder) of the served model; not needed
                     against neural-debug serve, which sends its own
  --device DEVICE    auto (default) | cpu | cuda: where the in-process model runs
  --threads N        CPU threads per operator (default: ONNX Runtime's choice)`;

/** The bundled model beside the installed CLI, if this build has one. */
export function bundledModel(): string | undefined {
  for (const base of [path.join(__dirname, '..'), path.join(__dirname, '..', '..')]) {
    const dir = path.join(base, BUNDLED_MODEL_DIR);
    if (fs.existsSync(dir)) return dir;
  }
  return undefined;
}

export async function openModelFromArgs(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): Promise<ModelBackend> {
  const endpoint = args.options.get('endpoint');
  const model = args.options.get('model');
  if (endpoint !== undefined && model !== undefined) throw new UsageError('give --model or --endpoint, not both');
  if (endpoint !== undefined) {
    const tokenizerPath = args.options.get('tokenizer');
    const apiKey = env[API_KEY_VARIABLE];
    return openRemoteBackend({
      endpoint,
      ...(apiKey ? { apiKey } : {}),
      ...(tokenizerPath !== undefined ? { tokenizer: CwmTokenizer.fromFile(tokenizerFile(tokenizerPath)) } : {}),
    });
  }
  if (args.options.has('tokenizer')) throw new UsageError('--tokenizer goes with --endpoint; a model folder has its own');
  const dir = model ?? bundledModel();
  if (dir === undefined) throw new ModelError('model-folder', 'this build has no bundled model: pass --model DIR (a model folder) or --endpoint URL');
  return openOnnxEngine(dir, {
    executionProvider: choiceOption<ExecutionProviderChoice>(args, 'device', ['auto', 'cpu', 'cuda'], 'auto'),
    threads: intOption(args, 'threads', 1) ?? 0,
  });
}

function tokenizerFile(given: string): string {
  return fs.existsSync(given) && fs.statSync(given).isDirectory() ? path.join(given, 'tokenizer.json') : given;
}

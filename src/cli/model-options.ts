/** The CLI's choice of model: a folder run in-process, or a server, with their shared options. */
import * as path from 'node:path';
import { ModelBackend, ModelError } from '../model/backend';
import type { ExecutionProviderChoice } from '../model/onnx/protocol';
import { findBundledModel, openModel } from '../model/open-model';
import { choiceOption, intOption, OptionSpec, ParsedArgs, UsageError } from './args';
import type { Io } from './trace-command';

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

export function openModelFromArgs(args: ParsedArgs, env: NodeJS.ProcessEnv = process.env): Promise<ModelBackend> {
  const endpoint = args.options.get('endpoint');
  const model = args.options.get('model');
  if (endpoint !== undefined && model !== undefined) throw new UsageError('give --model or --endpoint, not both');
  if (endpoint === undefined && args.options.has('tokenizer')) throw new UsageError('--tokenizer goes with --endpoint; a model folder has its own');
  const device = choiceOption<ExecutionProviderChoice>(args, 'device', ['auto', 'cpu', 'cuda'], 'auto');
  const threads = intOption(args, 'threads', 1) ?? 0;
  const apiKey = env[API_KEY_VARIABLE];
  const tokenizer = args.options.get('tokenizer');
  // dist/cli.js sits one folder below the root that holds models/.
  const bundledModel = findBundledModel([path.join(__dirname, '..'), path.join(__dirname, '..', '..')]);
  return openModel({
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(model !== undefined ? { model } : {}),
    ...(apiKey ? { apiKey } : {}),
    ...(tokenizer !== undefined ? { tokenizer } : {}),
    ...(bundledModel ? { bundledModel } : {}),
    device,
    threads,
  });
}

/** The chosen model, or undefined after telling the user why it cannot be opened. */
export async function openModelOrReport(args: ParsedArgs, io: Io, env: NodeJS.ProcessEnv = process.env): Promise<ModelBackend | undefined> {
  try {
    return await openModelFromArgs(args, env);
  } catch (error) {
    if (!(error instanceof ModelError)) throw error;
    io.err(`neural-debug: ${error.message}\n`);
    return undefined;
  }
}

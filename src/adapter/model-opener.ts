/** How a debug session opens its model: the launch's choice, else the host's settings, else the bundled model. */
import type { ModelBackend } from '../model/backend';
import { findBundledModel, openModel } from '../model/open-model';
import type { ResolvedLaunch } from './launch-args';

export interface ModelOpenerOptions {
  /** Folders that may hold models/cwm-tiny (the extension's or the package's root). */
  readonly bundledRoots: readonly string[];
  /** The remote server's key, from the editor's secret storage or the environment; never from launch.json. */
  readonly apiKey: () => Promise<string | undefined>;
}

export function modelOpener(options: ModelOpenerOptions): (launch: ResolvedLaunch, signal: AbortSignal) => Promise<ModelBackend> {
  return async (launch, signal) => {
    const apiKey = launch.endpoint ? await options.apiKey() : undefined;
    const bundledModel = findBundledModel(options.bundledRoots);
    return openModel({
      ...(launch.endpoint ? { endpoint: launch.endpoint } : {}),
      ...(apiKey ? { apiKey } : {}),
      ...(launch.model ? { model: launch.model } : {}),
      ...(launch.tokenizer ? { tokenizer: launch.tokenizer } : {}),
      ...(launch.device ? { device: launch.device } : {}),
      ...(launch.threads !== undefined ? { threads: launch.threads } : {}),
      ...(bundledModel ? { bundledModel } : {}),
      signal,
    });
  };
}

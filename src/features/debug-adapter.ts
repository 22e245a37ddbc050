/**
 * Registers the `cwm` debugger: configurations (F5 on a Python file with no launch.json works), and the
 * adapter itself, run inline in the extension host with the workspace's trust, the settings and the
 * secret API key.
 */
import * as vscode from 'vscode';
import { NeuralDebugSession } from '../adapter/session';
import { modelOpener } from '../adapter/model-opener';
import type { ResolveContext } from '../adapter/launch-args';
import type { ExecutionProviderChoice } from '../model/onnx/protocol';
import type { ModelProvider } from './model-provider';
import { traceLimitSettings } from './trace-settings';

export function registerDebugAdapter(context: vscode.ExtensionContext, models: ModelProvider): vscode.Disposable[] {
  const openModel = modelOpener({ bundledRoots: [context.extensionPath], apiKey: () => models.apiKey() });
  return [
    vscode.debug.registerDebugConfigurationProvider('cwm', {
      provideDebugConfigurations: () => [defaultConfiguration('${file}')],
      resolveDebugConfiguration: (_folder, config) => {
        if (!config.type && !config.request && !config.name) {
          const editor = vscode.window.activeTextEditor;
          if (!editor || editor.document.languageId !== 'python') {
            void vscode.window.showErrorMessage('Open a Python file to debug it with CWM, or add a "cwm" configuration to launch.json.');
            return undefined;
          }
          return defaultConfiguration(editor.document.uri.fsPath);
        }
        if (!config.program) {
          void vscode.window.showErrorMessage('The "cwm" launch configuration needs "program": the Python file to debug.');
          return undefined;
        }
        return config;
      },
    }),
    vscode.debug.registerDebugAdapterDescriptorFactory('cwm', {
      createDebugAdapterDescriptor: () =>
        new vscode.DebugAdapterInlineImplementation(
          new NeuralDebugSession({
            // Asked at launch, from VS Code itself: a launch.json cannot claim trust.
            trusted: () => vscode.workspace.isTrusted,
            defaults: settingsDefaults,
            openModel,
          }),
        ),
    }),
  ];
}

function defaultConfiguration(program: string): vscode.DebugConfiguration {
  return { type: 'cwm', request: 'launch', name: 'Debug with CWM (predicted vs real)', program, stopOnEntry: true };
}

function settingsDefaults(): ResolveContext['defaults'] {
  const config = vscode.workspace.getConfiguration('neuralDebugger');
  const text = (name: string): string | undefined => config.get<string>(name, '').trim() || undefined;
  const python = text('pythonPath');
  const model = text('model');
  const endpoint = text('endpoint');
  const tokenizer = text('remoteTokenizer');
  return {
    ...(python ? { python } : {}),
    ...(model ? { model } : {}),
    ...(endpoint ? { endpoint } : {}),
    ...(tokenizer ? { tokenizer } : {}),
    device: config.get<ExecutionProviderChoice>('device', 'auto'),
    threads: config.get<number>('threads', 0),
    maxTokensPerFrame: config.get<number>('maxFrameTokens', 2048),
    limits: traceLimitSettings(config),
  };
}

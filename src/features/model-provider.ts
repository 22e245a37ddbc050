/**
 * The model the editor uses, opened once from the settings and kept until they change. The remote API
 * key lives in VS Code's secret storage, never in settings or logs.
 */
import * as vscode from 'vscode';
import type { ModelBackend } from '../model/backend';
import type { ExecutionProviderChoice } from '../model/onnx/protocol';
import { findBundledModel, ModelChoice, openModel } from '../model/open-model';

const API_KEY_SECRET = 'neuralDebugger.remoteApiKey';
const MODEL_SETTINGS = ['model', 'endpoint', 'remoteTokenizer', 'device', 'threads'].map((name) => `neuralDebugger.${name}`);

export class ModelProvider implements vscode.Disposable {
  private opened: Promise<ModelBackend> | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly context: vscode.ExtensionContext) {
    this.disposables.push(
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (MODEL_SETTINGS.some((setting) => event.affectsConfiguration(setting))) void this.release();
      }),
      vscode.commands.registerCommand('neuralDebugger.setApiKey', () => this.setApiKey()),
      vscode.commands.registerCommand('neuralDebugger.clearApiKey', async () => {
        await context.secrets.delete(API_KEY_SECRET);
        await this.release();
        void vscode.window.showInformationMessage('Neural Debugger: the remote API key was removed.');
      }),
    );
  }

  /** The configured model, opening it (with a progress notification) on first use. */
  get(): Promise<ModelBackend> {
    if (!this.opened) {
      const opening = this.open();
      this.opened = opening;
      // A failed open is not kept: the next use tries again (after the user fixed the setting).
      opening.catch(() => {
        if (this.opened === opening) this.opened = undefined;
      });
    }
    return this.opened;
  }

  /** The remote server's key, if the user saved one. */
  async apiKey(): Promise<string | undefined> {
    return (await this.context.secrets.get(API_KEY_SECRET)) || undefined;
  }

  dispose(): void {
    void this.release();
    for (const disposable of this.disposables) disposable.dispose();
  }

  private async open(): Promise<ModelBackend> {
    const config = vscode.workspace.getConfiguration('neuralDebugger');
    const endpoint = config.get<string>('endpoint', '').trim();
    const apiKey = endpoint ? await this.context.secrets.get(API_KEY_SECRET) : undefined;
    const bundledModel = findBundledModel([this.context.extensionPath]);
    const choice: ModelChoice = {
      ...(endpoint ? { endpoint } : {}),
      ...(apiKey ? { apiKey } : {}),
      model: config.get<string>('model', '').trim(),
      tokenizer: config.get<string>('remoteTokenizer', '').trim(),
      device: config.get<ExecutionProviderChoice>('device', 'auto'),
      threads: config.get<number>('threads', 0),
      ...(bundledModel ? { bundledModel } : {}),
    };
    const where = endpoint || choice.model || 'the bundled model';
    const model = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Neural Debugger: loading ${where}` },
      () => openModel(choice),
    );
    if (model.info.deviceNote) void vscode.window.showWarningMessage(`Neural Debugger: ${model.info.deviceNote}`);
    return model;
  }

  private async release(): Promise<void> {
    const opened = this.opened;
    this.opened = undefined;
    if (opened) await opened.then((model) => model.close(), () => undefined);
  }

  private async setApiKey(): Promise<void> {
    const key = await vscode.window.showInputBox({
      title: 'Remote API key',
      prompt: 'Sent as "Authorization: Bearer" to the server in neuralDebugger.endpoint. Stored in VS Code\'s secret storage.',
      password: true,
      ignoreFocusOut: true,
    });
    if (key === undefined) return;
    await this.context.secrets.store(API_KEY_SECRET, key.trim());
    await this.release();
    void vscode.window.showInformationMessage('Neural Debugger: the remote API key was saved.');
  }
}

/**
 * Activation and wiring: the `cwm` debugger (predicted vs real stepping, with its editor decorations),
 * both halves as plain commands (tracing a function's real execution, and predicting it with the
 * configured model, each written in CWM's format to an output channel), halting lenses, and verified
 * patch suggestions.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { displayFrameText, encodeFrame } from './trace/encoder';
import { TraceFrame } from './trace/frame';
import { SPECIAL_TOKENS } from './trace/tokens';
import { registerDebugAdapter } from './features/debug-adapter';
import { HaltingLenses } from './features/halting-lenses';
import { ModelProvider } from './features/model-provider';
import { predictFile } from './features/predict-file';
import { RepairActions } from './features/repair-actions';
import { pickProgram, pythonDocument } from './features/target-picker';
import { bundledTracerScript, traceLimitSettings } from './features/trace-settings';
import { WorldDecorations } from './features/world-decorations';
import { WorkspaceTests } from './features/workspace-tests';
import { startTrace, TraceLimits, TraceRun, TraceScope } from './runtime/tracer';

export function activate(context: vscode.ExtensionContext): void {
  const channel = vscode.window.createOutputChannel('Neural Debugger');
  const models = new ModelProvider(context);
  const tests = new WorkspaceTests();
  let running: TraceRun | undefined;
  let predicting: vscode.CancellationTokenSource | undefined;
  context.subscriptions.push(
    channel,
    models,
    tests,
    vscode.commands.registerCommand('neuralDebugger.predictFile', async (uri?: vscode.Uri) => {
      if (predicting) {
        void vscode.window.showWarningMessage('A prediction is already running. Stop it first (Neural Debugger: Stop Running Prediction).');
        return;
      }
      predicting = new vscode.CancellationTokenSource();
      try {
        await predictFile(models, channel, uri, predicting.token);
      } finally {
        predicting.dispose();
        predicting = undefined;
      }
    }),
    vscode.commands.registerCommand('neuralDebugger.stopPrediction', () => predicting?.cancel()),
    { dispose: () => predicting?.cancel() },
    vscode.commands.registerCommand('neuralDebugger.traceFile', async (uri?: vscode.Uri) => {
      if (running) {
        void vscode.window.showWarningMessage('A trace is already running. Stop it first (Neural Debugger: Stop Running Trace).');
        return;
      }
      running = await traceFile(context, channel, uri);
      try {
        await running?.done;
      } finally {
        running = undefined;
      }
    }),
    vscode.commands.registerCommand('neuralDebugger.stopTrace', () => running?.stop()),
    // A window that closes must not leave the user's program running.
    { dispose: () => running?.stop() },
    ...registerDebugAdapter(context, models),
    new WorldDecorations(),
    new HaltingLenses(context, models, tests),
    new RepairActions(context, tests),
  );
}

export function deactivate(): void {
  // A running trace is stopped by the disposable registered in activate().
}

function settings(): { python: string; limits: TraceLimits; scope: TraceScope } {
  const config = vscode.workspace.getConfiguration('neuralDebugger');
  return {
    python: config.get<string>('pythonPath', ''),
    limits: traceLimitSettings(config),
    scope: config.get<TraceScope>('traceScope', 'program'),
  };
}

async function traceFile(context: vscode.ExtensionContext, channel: vscode.OutputChannel, uri?: vscode.Uri): Promise<TraceRun | undefined> {
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showErrorMessage('Tracing runs your program; it is only available in a trusted workspace.');
    return undefined;
  }
  const document = await pythonDocument(uri, 'trace');
  if (!document) return undefined;
  if (document.uri.scheme !== 'file') {
    void vscode.window.showErrorMessage('Save the file to disk to trace it.');
    return undefined;
  }
  const program = await pickProgram(document, 'trace');
  if (!program) return undefined;
  const { python, limits, scope } = settings();
  channel.clear();
  channel.show(true);
  let previous: TraceFrame | undefined;
  const run = startTrace(
    { programPath: document.uri.fsPath, program, python, limits, scope, tracerScript: bundledTracerScript(context) },
    {
      frame: (frame) => {
        channel.appendLine(displayFrameText(encodeFrame(frame, previous)));
        previous = frame;
      },
      output: (item) => channel.append(item.text),
    },
  );
  void vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Tracing ${path.basename(document.uri.fsPath)}`, cancellable: true },
    async (_progress, token) => {
      token.onCancellationRequested(run.stop);
      const result = await run.done;
      if (result.end.reason === 'returned' || result.end.reason === 'raised') channel.appendLine(SPECIAL_TOKENS.endOfText);
      channel.appendLine(`— ${result.frames.length} frames; ${result.end.message}`);
      if (result.end.traceback) channel.append(result.end.traceback);
    },
  );
  return run;
}

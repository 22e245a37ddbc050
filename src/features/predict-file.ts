/**
 * "Predict Execution": the model writes the trace of a function into the output channel as it
 * generates it. Nothing of the user's code runs, so it works in untrusted workspaces too.
 */
import * as vscode from 'vscode';
import { isCancelled, ModelError } from '../model/backend';
import { displayPieces, predictToEnd, Predictor } from '../predictor';
import { bindArguments } from '../runtime/bind-args';
import type { Locals } from '../trace/frame';
import { displayFrameText } from '../trace/encoder';
import { SPECIAL_TOKENS } from '../trace/tokens';
import type { ModelProvider } from './model-provider';
import { pickProgram, pythonDocument } from './target-picker';

/** Most frames one command predicts; the debug adapter steps without such a bound. */
const MAX_FRAMES = 1000;

export async function predictFile(models: ModelProvider, channel: vscode.OutputChannel, uri: vscode.Uri | undefined, cancel: vscode.CancellationToken): Promise<void> {
  const document = await pythonDocument(uri, 'predict');
  if (!document) return;
  const program = await pickProgram(document, 'predict');
  if (!program) return;
  const config = vscode.workspace.getConfiguration('neuralDebugger');
  let entryLocals: Locals | undefined;
  if (program.shape === 'marked' && program.call.args !== '') {
    try {
      entryLocals = await bindArguments(program, { python: config.get<string>('pythonPath', '') });
    } catch (error) {
      void vscode.window.showErrorMessage(`Neural Debugger: ${(error as Error).message}`);
      return;
    }
  }
  let model;
  try {
    model = await models.get();
  } catch (error) {
    void vscode.window.showErrorMessage(`Neural Debugger: ${error instanceof ModelError ? error.message : String(error)}`);
    return;
  }
  const sequence = await model.createSequence();
  const controller = new AbortController();
  const subscription = cancel.onCancellationRequested(() => controller.abort());
  channel.clear();
  channel.show(true);
  channel.appendLine(`— predicted by ${model.info.name} on ${model.info.device}; nothing of your code runs`);
  const predictor = new Predictor(model, sequence, {
    maxTokensPerFrame: config.get<number>('maxFrameTokens', 2048),
    onProgress: (progress) => channel.append(displayPieces(progress.pieces)),
    onStep: (step) => {
      if (step.origin === 'teacher-forced') channel.appendLine(displayFrameText(step.text));
      for (const issue of step.issues) channel.appendLine(`\n— step ${step.index}: ${issue.message}`);
    },
  });
  try {
    await predictor.start(program, entryLocals ? { entryLocals } : {});
    await predictToEnd(predictor, { maxSteps: MAX_FRAMES, signal: controller.signal });
    if (predictor.ended) channel.appendLine(SPECIAL_TOKENS.endOfText);
    channel.appendLine(`— ${predictor.steps.length} predicted frames${predictor.ended ? '; the model ended the trace' : ''}`);
  } catch (error) {
    if (isCancelled(error)) channel.appendLine('\n— stopped');
    else void vscode.window.showErrorMessage(`Neural Debugger: ${error instanceof ModelError ? error.message : String(error)}`);
  } finally {
    subscription.dispose();
    sequence.dispose();
  }
}

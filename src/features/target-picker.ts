/** Asks which function of a Python document to trace or predict, and with which arguments. */
import * as vscode from 'vscode';
import { buildPromptProgram, PromptError, PromptProgram } from '../trace/prompt';
import { scanPython } from '../trace/pysource';

/** The program to run or predict; undefined when the user cancelled or was told what is wrong. */
export async function pickProgram(document: vscode.TextDocument, verb: string): Promise<PromptProgram | undefined> {
  const functions = scanPython(document.getText()).functions.filter((fn) => fn.parent === undefined && !fn.isClass);
  let entry: string | undefined;
  let args = '';
  if (functions.length > 0) {
    const picked = await vscode.window.showQuickPick(
      [{ label: '$(symbol-event) marked function', description: 'the def line carrying # << START_OF_TRACE', name: '' }, ...functions.map((fn) => ({ label: fn.name, description: `line ${fn.defLine}`, name: fn.name }))],
      { title: `Function to ${verb}` },
    );
    if (!picked) return undefined;
    entry = picked.name || undefined;
    const typed = await vscode.window.showInputBox({ title: `Arguments for ${picked.name || 'the marked function'}`, prompt: 'Python argument text, e.g. [1, 2], 3', value: '' });
    if (typed === undefined) return undefined;
    args = typed;
  }
  try {
    return buildPromptProgram(document.getText(), { entry, args });
  } catch (error) {
    if (error instanceof PromptError) {
      void vscode.window.showErrorMessage(error.message);
      return undefined;
    }
    throw error;
  }
}

/** The Python document a command applies to: the one given, else the active editor's. */
export async function pythonDocument(uri: vscode.Uri | undefined, action: string): Promise<vscode.TextDocument | undefined> {
  const document = uri ? await vscode.workspace.openTextDocument(uri) : vscode.window.activeTextEditor?.document;
  if (!document || document.languageId !== 'python') {
    void vscode.window.showErrorMessage(`Open a Python file to ${action} it.`);
    return undefined;
  }
  return document;
}

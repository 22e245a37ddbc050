/**
 * Halting lenses in a real VS Code, on the bundled model (the workspace setting clears the stand-in
 * endpoint, so the extension loads models/cwm-tiny in its inference worker) and a real Python:
 * `halting.py` calls a function that returns and one that goes round a cycle for ever. Checked: both
 * lenses reach a verdict with their real run (returned; the repeated whole state), the witness opens
 * from the lens, and an edit that makes the loop end refreshes its lens while the other stays cached.
 * In the untrusted workspace (untrustedHaltingStep) the lens gives the model's verdict only.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { log, screenshot, sleep, Suite } from './harness';

export const HALTING_PROGRAM = 'halting.py';
const PENDING = /halting verdict queued|predicting…/;

/** The lenses of `uri` that carry a verdict for `call` ("spin(5)"), once it is no longer pending. */
async function verdictLens(uri: vscode.Uri, call: string, ms: number, accept: (title: string) => boolean = () => true): Promise<vscode.CodeLens> {
  const deadline = Date.now() + ms;
  let last = '(no lens yet)';
  for (;;) {
    const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 100)) ?? [];
    const lens = lenses.find((candidate) => candidate.command?.title.includes(` ${call}: `));
    if (lens?.command) {
      last = lens.command.title;
      if (!PENDING.test(last) && accept(last)) return lens;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms / 1000} s waiting for the verdict of ${call}; last lens: ${last}`);
    await sleep(250);
  }
}

export function haltingSuite(): Suite {
  let document: vscode.TextDocument | undefined;
  const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('neuralDebugger');
  const uri = (): vscode.Uri => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'no workspace folder');
    return vscode.Uri.joinPath(folder.uri, HALTING_PROGRAM);
  };
  return new Suite('halting lenses')
    .step('the bundled model, quick settings', async () => {
      await config().update('endpoint', '', vscode.ConfigurationTarget.Workspace);
      await config().update('haltingLenses.samples', 1, vscode.ConfigurationTarget.Workspace);
      await config().update('haltingLenses.maxSteps', 16, vscode.ConfigurationTarget.Workspace);
      // halting.py's spin(5) never returns: the repair suggestions would look for fixes meanwhile.
      await config().update('repair.enabled', false, vscode.ConfigurationTarget.Workspace);
      assert.equal(config().get('endpoint'), '');
    }, { critical: true })
    .step('a terminating and a looping function get their verdicts, each with its real run', async () => {
      document = await vscode.workspace.openTextDocument(uri());
      await vscode.window.showTextDocument(document);
      const ends = await verdictLens(uri(), 'countdown(3)', 90_000);
      const loops = await verdictLens(uri(), 'spin(5)', 90_000);
      log(`  ${ends.command?.title}\n  ${loops.command?.title}`);
      assert.match(ends.command?.title ?? '', /^\$\((check|warning)\) countdown\(3\): .*real run returned in \d+ ms/);
      assert.match(loops.command?.title ?? '', /^\$\((sync|warning)\) spin\(5\): .*proven: the state at step 4 repeats at step 10/);
      assert.match(ends.command?.title ?? '', /(terminates|may not terminate|unknown)/, 'the model gives a verdict');
      const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri(), 100)) ?? [];
      assert.equal(lenses.filter((lens) => lens.command?.command === 'neuralDebugger.haltingInputs').length, 2, 'each function offers to give inputs');
      await sleep(500);
      await screenshot('halting-lenses');
    }, { critical: true, timeoutMs: 200_000 })
    .step('the witness opens from the lens', async () => {
      const loops = await verdictLens(uri(), 'spin(5)', 5_000);
      await vscode.commands.executeCommand(loops.command?.command ?? '', ...(loops.command?.arguments ?? []));
      const editor = vscode.window.activeTextEditor;
      assert.equal(editor?.document.uri.scheme, 'neural-debug-halting');
      const text = editor?.document.getText() ?? '';
      assert.match(text, /^Halting of spin\(5\)\n/);
      assert.match(text, /Real run: may not terminate: proven: the state at step 4 repeats at step 10/);
      assert.match(text, /line 2 with x = 5|line \d+ with x = 5/);
      assert.match(text, /Witness: the (greedy|sampled \(seed 1\)) prediction/);
      await sleep(500);
      await screenshot('halting-witness');
    }, { timeoutMs: 30_000 })
    .step('an edit refreshes the edited function\'s lens; the other one stays cached', async () => {
      assert.ok(document);
      await vscode.window.showTextDocument(document, vscode.ViewColumn.One);
      const line = document.getText().split('\n').findIndex((text) => text.includes('x = x + 5'));
      assert.ok(line >= 0, 'halting.py has no "x = x + 5"');
      const edit = new vscode.WorkspaceEdit();
      const column = document.lineAt(line).text.indexOf('+ 5') + 2;
      edit.replace(uri(), new vscode.Range(line, column, line, column + 1), '1'); // 5 -> 6 -> 3 -> 4 -> 2 -> 1
      assert.ok(await vscode.workspace.applyEdit(edit));
      const cached = await verdictLens(uri(), 'countdown(3)', 1_000);
      assert.match(cached.command?.title ?? '', /real run returned/, 'countdown did not change: its verdict is still there');
      const refreshed = await verdictLens(uri(), 'spin(5)', 90_000, (title) => /real run returned/.test(title));
      log(`  after the edit: ${refreshed.command?.title}`);
      await document.save();
      await sleep(500);
      await screenshot('halting-after-edit');
    }, { timeoutMs: 120_000 })
    .step('settings back', async () => {
      for (const key of ['endpoint', 'haltingLenses.samples', 'haltingLenses.maxSteps', 'repair.enabled']) await config().update(key, undefined, vscode.ConfigurationTarget.Workspace);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }, { always: true });
}

/** In the untrusted workspace: the marked function's lens is the model's verdict only, and nothing runs. */
export async function untrustedHaltingStep(program: vscode.Uri, call: string, marker: string): Promise<void> {
  const document = await vscode.workspace.openTextDocument(program);
  await vscode.window.showTextDocument(document);
  const lens = await verdictLens(program, call, 90_000);
  log(`  ${lens.command?.title}`);
  assert.match(lens.command?.title ?? '', /model only: untrusted workspace: no code of yours runs/);
  assert.equal(fs.existsSync(marker), false, `${path.basename(marker)} exists: the halting lens ran the program`);
}

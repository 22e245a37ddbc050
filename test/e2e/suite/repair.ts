/**
 * Verified patch suggestions in a real VS Code: `buggy.py` sums the odd numbers where its asserts
 * expect the even ones. Opening it runs its asserts for real; a quick fix appears on the function and a
 * lens on the failing assert; applying the fix makes the program's asserts pass when run by Python; undo
 * restores the file. In the untrusted workspace (untrustedRepairStep) nothing is offered.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { log, screenshot, sleep, Suite } from './harness';

export const BUGGY_PROGRAM = 'buggy.py';

async function fixActions(uri: vscode.Uri, range: vscode.Range): Promise<vscode.CodeAction[]> {
  const actions = (await vscode.commands.executeCommand<Array<vscode.CodeAction | vscode.Command>>('vscode.executeCodeActionProvider', uri, range)) ?? [];
  return actions.filter((action): action is vscode.CodeAction => 'edit' in action && typeof action.title === 'string' && action.title.startsWith('Fix: '));
}

export function repairSuite(): Suite {
  let document: vscode.TextDocument | undefined;
  let original = '';
  let offered: vscode.CodeAction | undefined;
  const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('neuralDebugger');
  const uri = (): vscode.Uri => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'no workspace folder');
    return vscode.Uri.joinPath(folder.uri, BUGGY_PROGRAM);
  };
  const python = process.env.NEURAL_DEBUG_PYTHON ?? 'python3';
  const runProgram = (): number | null => spawnSync(python, [uri().fsPath], { cwd: path.dirname(uri().fsPath), timeout: 20_000 }).status;
  return new Suite('verified fixes')
    .step('apply fixes without the preview dialog (the smoke-test driver cannot confirm it)', async () => {
      await config().update('repair.preview', false, vscode.ConfigurationTarget.Workspace);
      await config().update('repair.enabled', true, vscode.ConfigurationTarget.Workspace);
      assert.notEqual(runProgram(), 0, 'buggy.py should fail its asserts before the fix');
    }, { critical: true, timeoutMs: 30_000 })
    .step('a failing function gets a verified quick fix and a lens on the failing assert', async () => {
      document = await vscode.workspace.openTextDocument(uri());
      original = document.getText();
      await vscode.window.showTextDocument(document);
      const line = original.split('\n').findIndex((text) => text.includes('% 2 == 1'));
      assert.ok(line >= 0);
      const deadline = Date.now() + 120_000;
      let actions: vscode.CodeAction[] = [];
      while (actions.length === 0) {
        if (Date.now() > deadline) throw new Error('no verified fix was offered within 120 s');
        await sleep(500);
        actions = await fixActions(uri(), new vscode.Range(line, 0, line, 0));
      }
      log(`  ${actions.map((action) => action.title).join('\n  ')}`);
      assert.match(actions[0].title, /^Fix: .* on line \d+ \(verified: now total_of_evens\(\[2, 4\]\) == 6 holds/);
      const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri(), 100)) ?? [];
      const lens = lenses.find((candidate) => /verified fix/.test(candidate.command?.title ?? ''));
      assert.ok(lens, `no verified-fix lens among ${lenses.map((candidate) => candidate.command?.title).join(' | ')}`);
      assert.ok(original.split('\n')[lens.range.start.line].includes('assert total_of_evens([2, 4]) == 6'), 'the lens sits on the failing assert');
      const diagnostics = vscode.languages.getDiagnostics(uri()).filter((diagnostic) => diagnostic.source === 'Neural Debugger');
      assert.ok(diagnostics.some((diagnostic) => /total_of_evens\(\[2, 4\]\) == 6: returned 0, expected 6/.test(diagnostic.message)), JSON.stringify(diagnostics.map((d) => d.message)));
      await vscode.window.showTextDocument(document, { selection: new vscode.Range(line, 0, line, 0) });
      await vscode.commands.executeCommand('editor.action.quickFix');
      await sleep(1500);
      await screenshot('repair-quick-fix');
      await vscode.commands.executeCommand('hideCodeActionWidget');
      await sleep(300);
      offered = actions[0];
    }, { critical: true, timeoutMs: 150_000 })
    .step('applying it makes the asserts pass; undo restores the file', async () => {
      assert.ok(document);
      assert.ok(offered?.edit);
      assert.ok(await vscode.workspace.applyEdit(offered.edit), 'the fix did not apply');
      assert.notEqual(document.getText(), original);
      assert.ok(await document.save());
      assert.equal(runProgram(), 0, 'after the fix, python buggy.py still fails');
      await sleep(500);
      await screenshot('repair-applied');
      await vscode.window.showTextDocument(document);
      await vscode.commands.executeCommand('undo');
      assert.equal(document.getText(), original, 'undo did not restore the file');
      assert.ok(await document.save());
      assert.notEqual(runProgram(), 0);
    }, { timeoutMs: 60_000 })
    .step('settings back', async () => {
      for (const key of ['repair.preview', 'repair.enabled']) await config().update(key, undefined, vscode.ConfigurationTarget.Workspace);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    }, { always: true });
}

/** Untrusted: the program is not run, so no fix is claimed verified and none is offered. */
export async function untrustedRepairStep(program: vscode.Uri, marker: string): Promise<void> {
  const document = await vscode.workspace.openTextDocument(program);
  await vscode.window.showTextDocument(document);
  await sleep(4000);
  const whole = new vscode.Range(0, 0, document.lineCount, 0);
  assert.deepEqual((await fixActions(program, whole)).map((action) => action.title), [], 'a fix was offered in an untrusted workspace');
  const lenses = (await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', program, 100)) ?? [];
  assert.ok(!lenses.some((lens) => /verified|expected value/.test(lens.command?.title ?? '')), 'repair lenses in an untrusted workspace');
  assert.equal(fs.existsSync(marker), false, `${path.basename(marker)} exists: a check ran the program`);
}

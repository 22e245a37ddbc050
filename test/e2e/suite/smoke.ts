/**
 * The extension as VS Code loaded it: present, activated, its commands and debugger registered, the
 * runner's settings in effect, and the workbench able to show the example program (a screenshot).
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { log, screenshot, sleep, Suite } from './harness';

export const EXTENSION_ID = 'neural-debugger.neural-debugger';

export function smokeSuite(options: { screenshot: boolean }): Suite {
  let extension: vscode.Extension<unknown> | undefined;
  return new Suite('extension')
    .step('the extension is installed', () => {
      extension = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(extension, `${EXTENSION_ID} is not among ${vscode.extensions.all.length} extensions`);
      log(`  extension at ${extension.extensionPath} (version ${String((extension.packageJSON as { version?: string }).version)})`);
      const expected = process.env.NEURAL_DEBUG_E2E_EXTENSION_PATH;
      if (expected) assert.equal(path.resolve(extension.extensionPath), path.resolve(expected), 'the extension was loaded from another folder');
    }, { critical: true })
    .step('it activates', async () => {
      await extension?.activate();
      assert.equal(extension?.isActive, true);
    }, { critical: true, timeoutMs: 20_000 })
    .step('its commands are registered', async () => {
      const commands = new Set(await vscode.commands.getCommands(true));
      for (const command of ['neuralDebugger.traceFile', 'neuralDebugger.predictFile', 'neuralDebugger.stopTrace', 'neuralDebugger.setApiKey']) {
        assert.ok(commands.has(command), `command ${command} is not registered`);
      }
    })
    .step('it contributes the cwm debugger', () => {
      const debuggers = (extension?.packageJSON as { contributes?: { debuggers?: Array<{ type: string }> } }).contributes?.debuggers ?? [];
      assert.deepEqual(debuggers.map((d) => d.type), ['cwm']);
    })
    .step('the workspace folder holds the example and the runner\'s settings are in effect', () => {
      const folder = vscode.workspace.workspaceFolders?.[0];
      assert.ok(folder, 'no workspace folder is open');
      assert.ok(fs.existsSync(path.join(folder.uri.fsPath, 'sum_list.py')), `no sum_list.py in ${folder.uri.fsPath}`);
      const endpoint = process.env.NEURAL_DEBUG_E2E_ENDPOINT;
      if (endpoint) assert.equal(vscode.workspace.getConfiguration('neuralDebugger').get('endpoint'), endpoint);
      log(`  workspace ${folder.uri.toString()}, trusted: ${vscode.workspace.isTrusted}`);
    })
    .step('the workbench shows the example program', async () => {
      const folder = vscode.workspace.workspaceFolders?.[0];
      assert.ok(folder);
      const document = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder.uri, 'sum_list.py'));
      const editor = await vscode.window.showTextDocument(document);
      assert.equal(editor.document.languageId, 'python');
      assert.match(editor.document.getText(), /def sum_list\(xs\):/);
      if (options.screenshot) {
        await sleep(500);
        await screenshot('workbench');
      }
    }, { timeoutMs: 40_000 });
}

/**
 * A workspace VS Code does NOT trust (workspace trust on, the folder never trusted) must run nothing of
 * its code. The workspace holds a program that creates a marker file ($NEURAL_DEBUG_E2E_MARKER) when
 * it runs (the runner checked, on a copy, that it really does), and workspace settings that point
 * `neuralDebugger.pythonPath` at a script of the workspace that would create the marker too.
 *
 * What VS Code itself does here: DebugService.startDebugging asks for workspace trust before it
 * resolves any configuration (its trust prompt offers only Trust / Manage / Cancel, and Cancel ends
 * the launch). So no debug session of any type starts in an untrusted window, and the adapter's own
 * fallback (an untrusted launch runs in predict mode, and says so) cannot be reached from VS Code: it
 * is for other editors that start the standalone adapter, and is tested there (DebugClient tests).
 * Under the smoke-test driver the trust prompt is refused (no dialogs in tests), so the launch stays
 * pending, which is what the last step checks.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DebugDriver } from './dap';
import { ACTUAL, PREDICTED } from './debug-session';
import { untrustedHaltingStep } from './halting';
import { untrustedRepairStep } from './repair';
import { log, sleep, Suite, withTimeout } from './harness';
import { EXTENSION_ID } from './smoke';

export const SIDE_EFFECT_PROGRAM = 'side_effect.py';
/** The workspace's own `neuralDebugger.pythonPath` (restricted: ignored while untrusted). */
export const WORKSPACE_PYTHON = 'evil-python.sh';
/** An unrestricted setting in the same workspace settings file, which does apply. */
export const WORKSPACE_MAX_STEPS = 1234;

export function untrustedSuite(): Suite {
  const driver = new DebugDriver();
  const marker = process.env.NEURAL_DEBUG_E2E_MARKER ?? '';
  const folder = (): vscode.WorkspaceFolder => {
    const found = vscode.workspace.workspaceFolders?.[0];
    assert.ok(found, 'no workspace folder');
    return found;
  };
  const noMarker = (when: string): void => assert.equal(fs.existsSync(marker), false, `${marker} exists ${when}: code of the untrusted workspace was executed`);

  return new Suite('untrusted workspace')
    .step('the workspace is not trusted, and the marker does not exist', () => {
      assert.equal(vscode.workspace.isTrusted, false, 'VS Code trusts this workspace: the runner should have left it untrusted');
      assert.ok(marker, 'NEURAL_DEBUG_E2E_MARKER is not set');
      noMarker('before the suite');
      assert.ok(fs.existsSync(path.join(folder().uri.fsPath, SIDE_EFFECT_PROGRAM)), `no ${SIDE_EFFECT_PROGRAM} in the workspace`);
    }, { critical: true })
    .step('the extension loads and activates in restricted mode', async () => {
      const extension = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(extension, 'the extension is not loaded in restricted mode (its manifest says untrustedWorkspaces: limited)');
      await extension.activate();
      assert.equal(extension.isActive, true);
      const commands = new Set(await vscode.commands.getCommands(true));
      assert.ok(commands.has('neuralDebugger.predictFile'), 'predicting runs nothing, so it is offered in restricted mode');
    }, { critical: true, timeoutMs: 20_000 })
    .step('the workspace\'s own pythonPath and endpoint are ignored (restricted settings)', () => {
      const config = vscode.workspace.getConfiguration('neuralDebugger');
      // The same settings file sets an unrestricted value, which does apply: the file was read.
      assert.equal(config.get('maxSteps'), WORKSPACE_MAX_STEPS, `the workspace settings were not read: ${JSON.stringify(config.inspect('maxSteps'))}`);
      const python = config.get<string>('pythonPath') ?? '';
      assert.ok(!python.endsWith(WORKSPACE_PYTHON), `the untrusted workspace chose the Python that runs programs: ${python}`);
      assert.equal(config.get('endpoint'), process.env.NEURAL_DEBUG_E2E_ENDPOINT, 'the untrusted workspace chose the model server; the machine setting should apply');
    })
    .step('"Trace Real Execution" refuses to run the program', async () => {
      const program = vscode.Uri.file(path.join(folder().uri.fsPath, SIDE_EFFECT_PROGRAM));
      await withTimeout(Promise.resolve(vscode.commands.executeCommand('neuralDebugger.traceFile', program)), 10_000, 'neuralDebugger.traceFile');
      await sleep(1000);
      noMarker('after neuralDebugger.traceFile');
    }, { timeoutMs: 20_000 })
    .step('a cwm launch asking for compare mode runs nothing: no session without trust, or a predict-only one', async () => {
      let settled: string | undefined;
      // VS Code asks for trust first; under the smoke-test driver that prompt is refused and the launch
      // stays pending. Should a VS Code ever let the launch through, the adapter must fall back to
      // predict mode and say so: that is checked below instead.
      driver.listen();
      vscode.debug.startDebugging(folder(), {
        type: 'cwm',
        request: 'launch',
        name: 'untrusted compare',
        program: path.join(folder().uri.fsPath, SIDE_EFFECT_PROGRAM),
        args: '3',
        mode: 'compare',
        stopOnEntry: true,
      }).then((started) => (settled = `startDebugging returned ${started}`), (error: Error) => (settled = `startDebugging failed: ${error.message}`));
      await sleep(4000);
      log(`  after 4 s: ${settled ?? 'the launch is still waiting for trust'}; session: ${driver.session ? 'started' : 'none'}`);
      noMarker('after the launch');
      if (!driver.session) return;

      const stop = await driver.waitForStop(0);
      assert.equal(stop.reason, 'entry');
      assert.match(driver.outputText(), /untrusted/i, 'the session says the workspace is untrusted');
      for (let i = 0; i < 3; i++) {
        const { scopes } = await driver.topScopes();
        const names = scopes.map((scope) => scope.name);
        assert.ok(names.includes(PREDICTED) && !names.includes(ACTUAL), `predict mode shows only predicted locals: ${JSON.stringify(names)}`);
        await driver.step('next');
        noMarker(`after step ${i + 2}`);
      }
      await driver.stop();
    }, { timeoutMs: 60_000 })
    .step('the halting lens gives the model\'s verdict only and runs nothing', async () => {
      await untrustedHaltingStep(vscode.Uri.file(path.join(folder().uri.fsPath, SIDE_EFFECT_PROGRAM)), 'leak(3)', marker);
    }, { timeoutMs: 120_000 })
    .step('no fix is offered or claimed verified, and nothing runs', async () => {
      await untrustedRepairStep(vscode.Uri.file(path.join(folder().uri.fsPath, SIDE_EFFECT_PROGRAM)), marker);
    }, { timeoutMs: 30_000 })
    .step('the program never ran: no marker file', async () => {
      await sleep(500);
      noMarker('at the end');
      if (driver.session) await driver.stop();
      driver.dispose();
    }, { always: true });
}

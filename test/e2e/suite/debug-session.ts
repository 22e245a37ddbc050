/**
 * A whole `cwm` debug session in compare mode on sum_list.py, driven as a user would: launch from the
 * workspace's launch.json, step (over, into), read both worlds' locals, see the model's mistake marked,
 * step back, edit a predicted value and watch the re-prediction use it, and stop.
 *
 * The runner's stand-in model replays the real trace of sum_list.py with ONE mistake: where the real
 * run first reaches `for x in xs:` (step 5, 1-based) with total 0, the model predicts total 1.
 * The real trace (step: line, event):
 *   1: 7 call main · 2: 8 line · 3: 1 call sum_list · 4: 2 `total = 0` · 5: 3 `for` (total 0; predicted 1)
 *   6: 4 `total += x` (x 1) · 7: 3 · 8: 4 · 9: 3 · 10: 4 · 11: 3 · 12: 5 · 13: 5 return 6 · 14: 8 return 6
 */
import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DebugDriver, fsPathOf, pythonName, reprOf, show, StoppedBody, WORLDS_EVENT } from './dap';
import { log, screenshot, sleep, Suite } from './harness';

export const PREDICTED = 'Locals (predicted)';
export const ACTUAL = 'Locals (actual)';
/** The launch.json configuration the runner writes into the workspace. */
export const LAUNCH_NAME = 'Neural debug: sum_list (compare)';

/** The step number a stop description states ("step 5 — …"). */
export function stepOf(stop: StoppedBody): number {
  const match = /\bstep (\d+)/i.exec(stop.description ?? '');
  assert.ok(match, `the stop description names no step: ${JSON.stringify(stop.description)}`);
  return Number(match[1]);
}

export function debugSessionSuite(): Suite {
  const driver = new DebugDriver();
  const program = (): string => path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '', 'sum_list.py');
  let step = 0;
  let lastStopMark = 0;
  let divergedNames: string[] = [];

  async function go(command: 'next' | 'stepIn' | 'stepBack', expectLine: number): Promise<StoppedBody> {
    lastStopMark = driver.mark;
    const stop = await driver.step(command);
    step = stepOf(stop);
    const [top] = await driver.stackTrace();
    assert.equal(top?.line, expectLine, `after ${command}, the top frame is at line ${top?.line} (step ${step}), expected ${expectLine}`);
    return stop;
  }

  return new Suite('debug session (compare, sum_list.py)')
    .step('launching the workspace\'s cwm configuration stops on entry', async () => {
      const folder = vscode.workspace.workspaceFolders?.[0];
      assert.ok(folder, 'no workspace folder');
      await driver.start(folder, LAUNCH_NAME);
      const stop = await driver.waitForStop(0);
      log(`  stopped (${stop.reason}): ${stop.description ?? ''}`);
      assert.equal(stop.reason, 'entry');
      step = stepOf(stop);
      assert.equal(step, 1, 'the entry stop is step 1');
      const frames = await driver.stackTrace();
      assert.equal(frames.length, 1, `stack: ${frames.map((f) => `${f.name}:${f.line}`).join(', ')}`);
      assert.equal(frames[0].name.split(/[\s(]/)[0], 'main');
      assert.equal(frames[0].line, 7, 'the entry stop is on main\'s def line');
      assert.equal(path.resolve(fsPathOf(frames[0].source?.path)), path.resolve(program()), 'the frame\'s source is the program');
    }, { critical: true, timeoutMs: 40_000 })
    .step('both worlds\' locals are scopes of the frame', async () => {
      const { scopes } = await driver.topScopes();
      const names = scopes.map((scope) => scope.name);
      assert.ok(names.includes(PREDICTED) && names.includes(ACTUAL), `scopes: ${JSON.stringify(names)}`);
    })
    .step('next, stepIn, next, next reach the step where the prediction diverged', async () => {
      await go('next', 8);
      await go('stepIn', 1);
      const frames = await driver.stackTrace();
      assert.deepEqual(frames.map((f) => f.name.split(/[\s(]/)[0]), ['sum_list', 'main'], 'stepIn enters sum_list');
      await go('next', 2);
      const stop = await go('next', 3);
      assert.equal(step, 5, `the divergence is at step 5, the stop says: ${stop.description}`);
      assert.match(stop.description ?? '', /diverge/i, 'the stop description says the worlds diverged');
    }, { critical: true, timeoutMs: 60_000 })
    .step('the diverged value is marked ≠ in the predicted scope', async () => {
      const { values, raw } = await driver.topScopes();
      divergedNames = [...raw.values()].flat().map((variable) => variable.name);
      const predicted = values.get(PREDICTED);
      const actual = values.get(ACTUAL);
      assert.equal(reprOf(actual?.get('total')), '0', `actual: ${show(actual)}`);
      const total = predicted?.get('total') ?? '';
      assert.match(total, /^1\b/, `predicted total should read 1: ${show(predicted)}`);
      assert.ok(total.includes('≠'), `predicted total should carry ≠: ${JSON.stringify(total)}`);
      assert.match(total, /≠.*\b0\b/, `and name the actual value 0: ${JSON.stringify(total)}`);
      const xs = predicted?.get('xs') ?? '';
      assert.ok(xs.startsWith('[1, 2, 3]') && !xs.includes('≠'), `xs agrees in both worlds: ${JSON.stringify(xs)}`);
    })
    .step('variables are named by their Python name, the ≠ mark being in the value (the contract)', () => {
      assert.ok(divergedNames.length > 0, 'no variables were read at the divergence');
      const marked = divergedNames.filter((name) => name !== pythonName(name));
      assert.deepEqual(marked, [], `variable names carry the ≠ mark (a client's setVariable then sends "total ≠"): ${JSON.stringify(divergedNames)}`);
    })
    .step('the neuralDebugger/worlds event says where both worlds stand', async () => {
      const worlds = driver.worldsAfter(lastStopMark);
      assert.ok(worlds, `no ${WORLDS_EVENT} event with the last stop`);
      assert.equal(worlds.step, 5);
      assert.equal(worlds.predicted?.line, 3);
      assert.equal(worlds.actual?.line, 3);
      assert.equal(path.resolve(fsPathOf(worlds.predicted?.path)), path.resolve(program()));
      assert.ok(Array.isArray(worlds.values), 'values is an array');
      for (const value of worlds.values) assert.equal(typeof value.name, 'string');
      assert.ok(driver.customEvents.some((event) => event.event === WORLDS_EVENT), 'extensions receive it too (onDidReceiveDebugSessionCustomEvent)');
    })
    .step('screenshot: the editor mid-session at the divergence', async () => {
      const editor = vscode.window.activeTextEditor;
      assert.ok(editor, 'no active editor');
      assert.equal(path.resolve(editor.document.uri.fsPath), path.resolve(program()), 'the editor shows the program');
      // The Run and Debug view: both worlds' locals, the call stack; then let it and the decorations render.
      await vscode.commands.executeCommand('workbench.view.debug');
      await vscode.window.showTextDocument(editor.document, { preserveFocus: false, preview: false });
      await sleep(1500);
      await screenshot('debug-session');
    }, { timeoutMs: 40_000 })
    .step('stepBack returns to the step before', async () => {
      const before = step;
      const stop = await go('stepBack', 2);
      assert.ok(step < before, `the step went from ${before} to ${step} (${stop.description})`);
      assert.equal(step, 4);
      const { values } = await driver.topScopes();
      assert.equal(reprOf(values.get(ACTUAL)?.get('total')), undefined, `total is not assigned yet at step 4: ${show(values.get(ACTUAL))}`);
    }, { critical: true })
    .step('next after stepBack comes back to the divergence', async () => {
      await go('next', 3);
      assert.equal(step, 5);
      const { values } = await driver.topScopes();
      assert.match(values.get(PREDICTED)?.get('total') ?? '', /^1\b.*≠/);
    }, { critical: true })
    .step('setVariable on the predicted scope re-predicts from the edited state', async () => {
      const { scopes } = await driver.topScopes();
      const scope = scopes.find((s) => s.name === PREDICTED);
      assert.ok(scope, 'no predicted scope');
      const answer = await driver.request<{ value: string }>('setVariable', { variablesReference: scope.variablesReference, name: 'total', value: '10' });
      assert.match(answer.value, /^10\b/, `setVariable answered ${JSON.stringify(answer)}`);
      const now = await driver.topScopes();
      assert.match(now.values.get(PREDICTED)?.get('total') ?? '', /^10\b/, `after the edit: ${show(now.values.get(PREDICTED))}`);
      assert.equal(reprOf(now.values.get(ACTUAL)?.get('total')), '0', 'the real world is not edited');
      await go('next', 4);
      assert.equal(step, 6);
      const after = await driver.topScopes();
      const predicted = after.values.get(PREDICTED);
      assert.match(predicted?.get('total') ?? '', /^10\b.*≠/, `the edited total carries on into the next predicted step: ${show(predicted)}`);
      assert.equal(reprOf(after.values.get(ACTUAL)?.get('total')), '0', `actual: ${show(after.values.get(ACTUAL))}`);
      assert.match(reprOf(after.values.get(ACTUAL)?.get('x')) ?? '', /^1$/);
    }, { timeoutMs: 40_000 })
    .step('stopping the session ends it', async () => {
      if (!driver.session) {
        log('  no session was started: nothing to stop');
        return;
      }
      await driver.stop();
      assert.equal(driver.terminated, true);
      assert.equal(vscode.debug.activeDebugSession, undefined, 'no debug session is left');
    }, { always: true })
    .step('dispose the driver', () => driver.dispose(), { always: true });
}

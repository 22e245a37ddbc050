// What both end-to-end runners (run.mjs: code-server; electron.mjs: @vscode/test-electron) prepare
// for one run of a suite: a temporary folder with the workspace, the user settings and the results
// file; the stand-in CWM server; and the environment that tells the suite (in the extension host)
// where everything is. The environment contract, read by test/e2e/suite/*.ts:
//   NEURAL_DEBUG_E2E_SUITE               smoke | main | untrusted
//   NEURAL_DEBUG_E2E_RESULTS             results file (JSON; the text report beside it, + ".txt")
//   NEURAL_DEBUG_E2E_SCREENSHOT_REQUEST  \  the screenshot handshake (optional: without them the suite
//   NEURAL_DEBUG_E2E_SCREENSHOT_DONE     /  skips its screenshots)
//   NEURAL_DEBUG_E2E_ENDPOINT            the stand-in server's URL (also in the settings)
//   NEURAL_DEBUG_E2E_MARKER              a file only an executed untrusted program would create
//   NEURAL_DEBUG_E2E_ONNX_MODEL          the tiny ONNX fixture model folder
//   NEURAL_DEBUG_E2E_EXTENSION_PATH      where the extension under test must have been loaded from
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TESTS_ENTRY = path.join(ROOT, 'out', 'test', 'e2e', 'suite', 'index.js');
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'e2e');
export const LAUNCH_NAME = 'Neural debug: sum_list (compare)';
const SUM_LIST = path.join(ROOT, 'examples', 'sum_list.py');

/** A program that creates `marker` when it runs (the untrusted suite's bait). */
const SIDE_EFFECT = (marker) => `MARKER = ${JSON.stringify(marker)}


def leak(n):  # << START_OF_TRACE
    total = n * 2
    with open(MARKER, "w") as out:
        out.write("this program was executed")
    return total


if __name__ == "__main__":
    leak(3)
`;

/** The repair suite's program: it sums the odd numbers where its asserts expect the even ones. */
const BUGGY = `def total_of_evens(xs):
    total = 0
    for x in xs:
        if x % 2 == 1:
            total += x
    return total


if __name__ == "__main__":
    assert total_of_evens([2, 4]) == 6
    assert total_of_evens([1, 3]) == 0
    assert total_of_evens([]) == 0
`;

/** The halting lenses' program: one call that returns, one that goes round 5 -> 10 -> 5 for ever. */
const HALTING = `def countdown(n):
    while n > 0:
        n = n - 1
    return n


def spin(x):
    while x != 1:
        if x % 2 == 0:
            x = x // 2
        else:
            x = x + 5
    return x


if __name__ == "__main__":
    print(countdown(3))
    print(spin(5))
`;

/** Exits with a message when what the runners use has not been built. */
export function requireBuilt() {
  for (const [file, hint] of [
    ['dist/extension.js', 'build first (npm run build, or npm test)'],
    [path.relative(ROOT, TESTS_ENTRY), 'build first (npm run build, or npm test): tsc compiles the suites into out/'],
    ['out/src/model/serve/index.js', 'build first (npm run build, or npm test)'],
  ]) {
    if (!fs.existsSync(path.join(ROOT, file))) {
      process.stderr.write(`[e2e] ${file} is missing: ${hint}\n`);
      process.exit(1);
    }
  }
}

function defaultPython() {
  return require(path.join(ROOT, 'out', 'test', 'helpers', 'env.js')).defaultPython();
}

async function record(program, target) {
  const { recordProgram } = require(path.join(ROOT, 'out', 'test', 'helpers', 'replay-model.js'));
  return (await recordProgram(program, target)).trace.frames;
}

/**
 * Starts `neural-debug serve`'s HTTP server on 127.0.0.1 whose model replays `frames` (a real trace,
 * recorded with our tracer) with ONE deliberate mistake: at the first frame that shows `total`, it
 * predicts total one larger, so the predicted world diverges from the real one there.
 */
async function startStandIn(frames, log) {
  const { startServer } = require(path.join(ROOT, 'out', 'src', 'model', 'serve', 'index.js'));
  const { replayBackend } = require(path.join(ROOT, 'out', 'test', 'helpers', 'replay-model.js'));
  const { loadFixtureTokenizer } = require(path.join(ROOT, 'out', 'test', 'helpers', 'deterministic-backend.js'));
  const wrongAt = frames.findIndex((frame) => frame.event === 'line' && frame.locals.some(([name]) => name === 'total'));
  if (wrongAt < 0) throw new Error('the recorded trace never shows `total`: nothing to get wrong');
  const mistake = (index, frame) => {
    if (index !== wrongAt) return undefined;
    return { ...frame, locals: frame.locals.map(([name, value]) => [name, name === 'total' ? String(Number(value) + 1) : value]) };
  };
  const real = frames[wrongAt].locals.find(([name]) => name === 'total')[1];
  const backend = replayBackend(loadFixtureTokenizer(), frames, { mistake });
  const server = await startServer({ backend });
  log(`stand-in CWM on ${server.url}: replays ${frames.length} real frames; at step ${wrongAt + 1} (line ${frames[wrongAt].origin.line}) it predicts total ${Number(real) + 1}, really ${real}`);
  return {
    url: server.url,
    close: async () => {
      await server.close();
      await backend.close?.();
    },
  };
}

const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Prepares one run. `suite`: smoke | main | untrusted; `trust`: whether workspace trust is on (then
 * the folder is left untrusted). `onCleanup(what, fn)` receives what must be undone (the server).
 * Returns the folders, the files and `env` (the contract above, to add to the editor's environment).
 */
export async function prepareRun({ suite, trust, log, onCleanup }) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `neural-debug-e2e-${suite}-`));
  const workspace = path.join(tmp, 'workspace');
  const userData = path.join(tmp, 'user-data');
  const results = path.join(tmp, 'results.json');
  const marker = path.join(tmp, 'marker-this-must-not-exist');
  const python = defaultPython();
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.mkdirSync(path.join(userData, 'Machine'), { recursive: true });
  fs.mkdirSync(path.join(tmp, 'extensions'), { recursive: true });
  fs.copyFileSync(SUM_LIST, path.join(workspace, 'sum_list.py'));

  let frames;
  if (suite === 'untrusted') {
    // Recorded on a decoy copy whose marker lies elsewhere: proves the program does write its marker
    // when it runs, and gives the stand-in model the program's real trace.
    const decoy = path.join(tmp, 'decoy');
    fs.mkdirSync(decoy);
    const decoyMarker = path.join(decoy, 'marker');
    fs.writeFileSync(path.join(decoy, 'side_effect.py'), SIDE_EFFECT(decoyMarker));
    frames = await record(path.join(decoy, 'side_effect.py'), { args: '3' });
    if (!fs.existsSync(decoyMarker)) throw new Error('the side-effect program did not write its marker when really run: the untrusted suite would prove nothing');
    fs.writeFileSync(path.join(workspace, 'side_effect.py'), SIDE_EFFECT(marker));
    // The workspace's own settings try to choose the Python and the model server: both restricted,
    // so VS Code must ignore them while the folder is untrusted. This "Python" would leave the marker.
    const evil = path.join(workspace, 'evil-python.sh');
    fs.writeFileSync(evil, `#!/bin/sh\necho "run as python: $*" > ${JSON.stringify(marker)}\nexit 1\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), json({
      'neuralDebugger.pythonPath': evil,
      'neuralDebugger.endpoint': 'http://127.0.0.1:9/chosen-by-the-workspace',
      'neuralDebugger.maxSteps': 1234, // not restricted: it applies, which shows the file was read
    }));
  } else {
    fs.writeFileSync(path.join(workspace, 'halting.py'), HALTING);
    fs.writeFileSync(path.join(workspace, 'buggy.py'), BUGGY);
    frames = await record(SUM_LIST, { entry: 'main' });
  }
  const server = await startStandIn(frames, log);
  onCleanup('stand-in server', server.close);

  fs.writeFileSync(path.join(workspace, '.vscode', 'launch.json'), json({
    version: '0.2.0',
    configurations: [
      { type: 'cwm', request: 'launch', name: LAUNCH_NAME, program: '${workspaceFolder}/sum_list.py', mode: 'compare', stopOnEntry: true },
      ...(suite === 'untrusted'
        ? [{ type: 'cwm', request: 'launch', name: 'Neural debug: side_effect', program: '${workspaceFolder}/side_effect.py', args: '3', mode: 'compare' }]
        : []),
    ],
  }));
  // In a remote window (code-server) settings scoped `machine`/`machine-overridable` (the endpoint,
  // the Python) are read from the remote machine's settings, not the user's; a desktop VS Code reads
  // them from the user's. Both are written.
  const machineSettings = { 'neuralDebugger.endpoint': server.url, 'neuralDebugger.pythonPath': python };
  fs.writeFileSync(path.join(userData, 'Machine', 'settings.json'), json(machineSettings));
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), json({
    ...machineSettings,
    'neuralDebugger.device': 'cpu',
    'security.workspace.trust.enabled': trust,
    'security.workspace.trust.startupPrompt': 'never',
    'security.workspace.trust.banner': 'never',
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.welcomePage.walkthroughs.openOnInstall': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'git.enabled': false,
    'debug.openDebug': 'openOnSessionStart',
    'debug.inlineValues': 'on',
    'editor.fontSize': 14,
    'window.commandCenter': false,
  }));

  const shotRequest = path.join(tmp, 'screenshot-request.json');
  const shotDone = path.join(tmp, 'screenshot-done.json');
  const env = {
    NEURAL_DEBUG_E2E_SUITE: suite,
    NEURAL_DEBUG_E2E_RESULTS: results,
    NEURAL_DEBUG_E2E_ENDPOINT: server.url,
    NEURAL_DEBUG_E2E_MARKER: marker,
    NEURAL_DEBUG_E2E_ONNX_MODEL: path.join(ROOT, 'test', 'fixtures', 'models', 'tiny-cwm'),
    NEURAL_DEBUG_PYTHON: python,
  };
  return { tmp, workspace, userData, extensions: path.join(tmp, 'extensions'), results, marker, shotRequest, shotDone, env, server };
}

/** The suite's report: { report (parsed JSON, or undefined), text }. */
export function readResults(results) {
  let report;
  let text;
  try {
    report = JSON.parse(fs.readFileSync(results, 'utf8'));
  } catch {
    report = undefined;
  }
  try {
    text = fs.readFileSync(`${results}.txt`, 'utf8');
  } catch {
    text = '(the suite wrote no results)\n';
  }
  return { report, text, passed: report?.finished !== undefined && report.failed === 0 && report.passed > 0 };
}

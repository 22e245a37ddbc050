/**
 * The in-process model, inside VS Code's extension host. First ONNX Runtime itself — the one native
 * module the extension loads, from its own node_modules (against an installed VSIX: the package's
 * trimmed copy for its platform) — runs one decoding step of the tiny fixture model. Then the debugger
 * path: a predict-mode session whose launch names that model folder (`model` overrides the settings,
 * which point at the stand-in server) loads it in the inference worker and stops on entry. The model
 * has random weights and writes noise by design; only loading and the entry stop (whose call frame is
 * forced) are checked.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DebugDriver } from './dap';
import { log, Suite, waitUntil } from './harness';
import { EXTENSION_ID } from './smoke';

interface ModelConfig {
  readonly name: string;
  readonly model: string;
  readonly vocabSize: number;
  readonly numKvHeads: number;
  readonly headDim: number;
}

/** The slice of onnxruntime-node's API used here. */
interface Ort {
  readonly InferenceSession: { create(file: string, options?: object): Promise<OrtSession> };
  readonly Tensor: new (type: string, data: ArrayLike<number | bigint>, dims: readonly number[]) => unknown;
}
interface OrtSession {
  readonly inputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, { readonly dims: readonly number[] }>>;
  release?(): Promise<void>;
}

export function onnxModelSuite(): Suite {
  const driver = new DebugDriver(false);
  const model = process.env.NEURAL_DEBUG_E2E_ONNX_MODEL ?? '';
  const config = (): ModelConfig => JSON.parse(fs.readFileSync(path.join(model, 'neural-debug-model.json'), 'utf8')) as ModelConfig;
  return new Suite('in-process ONNX model')
    .step('the extension\'s onnxruntime-node loads in the extension host and runs the fixture model', async () => {
      assert.ok(model && fs.existsSync(path.join(model, 'neural-debug-model.json')), `no fixture model at NEURAL_DEBUG_E2E_ONNX_MODEL=${model}`);
      const extension = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(extension, 'the extension is not loaded');
      const modulePath = path.join(extension.extensionPath, 'node_modules', 'onnxruntime-node');
      const ort = require(modulePath) as Ort;
      const { model: file, vocabSize, numKvHeads, headDim } = config();
      const session = await ort.InferenceSession.create(path.join(model, file), { executionProviders: ['cpu'] });
      const feeds: Record<string, unknown> = {};
      for (const name of session.inputNames) {
        if (name === 'input_ids') feeds[name] = new ort.Tensor('int64', [1n], [1, 1]);
        else if (name === 'attention_mask') feeds[name] = new ort.Tensor('int64', [1n], [1, 1]);
        else if (name === 'position_ids') feeds[name] = new ort.Tensor('int64', [0n], [1, 1]);
        else if (name.startsWith('past_key_values.')) feeds[name] = new ort.Tensor('float32', [], [1, numKvHeads, 0, headDim]);
        else assert.fail(`unexpected model input ${name}`);
      }
      const outputs = await session.run(feeds);
      assert.deepEqual(outputs.logits?.dims, [1, 1, vocabSize], 'one step gives one row of logits');
      await session.release?.();
      log(`  ${modulePath}: ${process.platform}-${process.arch}, Node ${process.versions.node}, one step of ${path.basename(model)} ran`);
    }, { timeoutMs: 30_000 })
    .step('a predict session whose launch names the fixture ONNX model loads it and stops on entry', async () => {
      const folder = vscode.workspace.workspaceFolders?.[0];
      assert.ok(folder, 'no workspace folder');
      await driver.start(folder, {
        type: 'cwm',
        request: 'launch',
        name: 'predict on the fixture ONNX model',
        program: path.join(folder.uri.fsPath, 'sum_list.py'),
        mode: 'predict',
        model,
        stopOnEntry: true,
        maxSteps: 3,
      });
      const stop = await driver.waitForStop(0, 60_000);
      log(`  stopped (${stop.reason}): ${stop.description ?? ''}`);
      assert.equal(stop.reason, 'entry');
      const name = config().name.split(' ')[0];
      const output = await waitUntil(() => (driver.outputText().includes(name) ? driver.outputText() : undefined), 5_000, `the session to say it loaded ${name}`)
        .catch((error: Error) => assert.fail(`${error.message}; the launch's "model" should override the endpoint setting, but the output says: ${JSON.stringify(driver.outputText().trim())}`));
      log(`  ${output.trim().split('\n')[0]}`);
      const [top] = await driver.stackTrace();
      assert.ok(top, 'no stack frame at the entry stop');
    }, { timeoutMs: 90_000 })
    .step('stopping the session ends it', async () => {
      if (driver.session) await driver.stop();
      driver.dispose();
    }, { always: true });
}

// Builds everything: esbuild bundles for the extension, the CLI, the inference worker and the
// benchmarks (dist/), and a plain tsc compile of sources and tests (out/) that the test runner
// executes. The Python scripts are copied beside each, since both find them next to their own code.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
// Python resources that run in the user's interpreter; each is found beside the code that starts it.
const pythonScripts = readdirSync('src/runtime').filter((name) => name.endsWith('.py')).map((name) => `src/runtime/${name}`);

rmSync('dist', { recursive: true, force: true });
rmSync('out', { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  define: { NEURAL_DEBUG_VERSION: JSON.stringify(version) },
};
// One bundle per entry point; each finds cwm_tracer.py and the inference worker beside itself.
// onnxruntime-node stays outside the bundles: it loads a native library from its own folder.
const worker = 'src/model/onnx/worker.ts';
const entries = [
  { entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode', 'onnxruntime-node'] },
  { entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' }, external: ['onnxruntime-node'] },
  { entryPoints: [worker], outfile: 'dist/model-worker.js', external: ['onnxruntime-node'] },
  // The standalone debug adapter, for DebugClient tests and editors other than VS Code.
  { entryPoints: ['src/adapter/main.ts'], outfile: 'dist/adapter.js', banner: { js: '#!/usr/bin/env node' }, external: ['onnxruntime-node'] },
  { entryPoints: ['bench/tracer-bench.ts'], outfile: 'dist/bench/tracer-bench.js' },
  { entryPoints: ['bench/model-bench.ts'], outfile: 'dist/bench/model-bench.js', external: ['onnxruntime-node'] },
  { entryPoints: ['bench/halting-bench.ts'], outfile: 'dist/bench/halting-bench.js', external: ['onnxruntime-node'] },
  { entryPoints: ['bench/repair-bench.ts'], outfile: 'dist/bench/repair-bench.js' },
  { entryPoints: [worker], outfile: 'dist/bench/model-worker.js', external: ['onnxruntime-node'] },
];
await Promise.all(entries.map((entry) => build({ ...common, ...entry })));
chmodSync('dist/cli.js', 0o755);
for (const script of pythonScripts) {
  copyFileSync(script, `dist/${path.basename(script)}`);
  copyFileSync(script, `dist/bench/${path.basename(script)}`);
}

execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', '.'], { stdio: 'inherit' });
mkdirSync('out/src/runtime', { recursive: true });
for (const script of pythonScripts) copyFileSync(script, `out/${script}`);

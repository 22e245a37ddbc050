/**
 * Entry point of the end-to-end suites (the extensionTestsPath): VS Code's extension host loads this
 * file and awaits run(). Which suites run is chosen by $NEURAL_DEBUG_E2E_SUITE:
 *   smoke      the extension loads, activates and registers its commands (no debug session);
 *   main       smoke, then a whole compare-mode debug session on sum_list.py (the default), then a
 *              predict session on the in-process ONNX fixture model, then halting lenses on the bundled model,
 *              then verified fixes for a failing function;
 *   untrusted  in a workspace that is NOT trusted: a launch asking for compare mode runs nothing.
 * Results go to $NEURAL_DEBUG_E2E_RESULTS (see harness.ts); run() rejects when a step failed, which
 * makes the extension host exit with a non-zero code.
 */
import { debugSessionSuite } from './debug-session';
import { haltingSuite } from './halting';
import { finish, log, Suite } from './harness';
import { onnxModelSuite } from './onnx-model';
import { repairSuite } from './repair';
import { smokeSuite } from './smoke';
import { untrustedSuite } from './untrusted';

export async function run(): Promise<void> {
  const which = process.env.NEURAL_DEBUG_E2E_SUITE ?? 'main';
  const suites: Suite[] =
    which === 'smoke' ? [smokeSuite({ screenshot: true })]
      : which === 'untrusted' ? [untrustedSuite()]
        : which === 'main' ? [smokeSuite({ screenshot: false }), debugSessionSuite(), onnxModelSuite(), haltingSuite(), repairSuite()]
          : [];
  if (suites.length === 0) throw new Error(`unknown NEURAL_DEBUG_E2E_SUITE "${which}" (smoke, main or untrusted)`);
  log(`running ${which}: ${suites.map((suite) => suite.name).join(', ')}`);
  for (const suite of suites) await suite.run();
  const report = finish();
  log(`${report.passed} passed, ${report.failed} failed, ${report.skipped} skipped`);
  if (report.failed > 0 || report.passed === 0) {
    const failed = report.steps.filter((step) => step.status === 'failed').map((step) => `${step.suite} › ${step.name}`);
    throw new Error(`${report.failed} end-to-end step(s) failed: ${failed.join('; ')}`);
  }
}

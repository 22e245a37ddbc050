/**
 * The `cwm` debug adapter as a program speaking DAP on stdin/stdout, for DebugClient tests and for
 * editors other than VS Code. Trust is the caller's to give: NEURAL_DEBUG_UNTRUSTED=1 makes the
 * adapter run nothing of the user's code (predict mode only), as in an untrusted VS Code workspace.
 * The remote API key comes from $NEURAL_DEBUG_API_KEY.
 */
import * as path from 'node:path';
import { DebugSession } from '@vscode/debugadapter';
import { modelOpener } from './model-opener';
import { NeuralDebugSession } from './session';

class StandaloneSession extends NeuralDebugSession {
  constructor() {
    super({
      trusted: () => process.env.NEURAL_DEBUG_UNTRUSTED !== '1',
      openModel: modelOpener({
        bundledRoots: [path.resolve(__dirname, '..')],
        apiKey: async () => process.env.NEURAL_DEBUG_API_KEY || undefined,
      }),
    });
  }
}

// run() only ever calls the constructor with no arguments, which is all this one takes.
DebugSession.run(StandaloneSession as unknown as typeof DebugSession);

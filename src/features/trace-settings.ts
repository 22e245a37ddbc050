/** The real run's limits from the `neuralDebugger.*` settings, shared by the trace command and the debugger. */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { defaultTracerScript, DEFAULT_LIMITS, TraceLimits } from '../runtime/tracer';

/** The tracer script the extension ships in its dist/ folder (the extension runs bundled, elsewhere). */
export function bundledTracerScript(context: vscode.ExtensionContext): string {
  return path.join(context.extensionPath, 'dist', path.basename(defaultTracerScript()));
}

export function traceLimitSettings(config: vscode.WorkspaceConfiguration = vscode.workspace.getConfiguration('neuralDebugger')): TraceLimits {
  return {
    maxSteps: config.get<number>('maxSteps', DEFAULT_LIMITS.maxSteps),
    timeoutSeconds: config.get<number>('timeoutSeconds', DEFAULT_LIMITS.timeoutSeconds),
    maxReprLength: config.get<number>('maxReprLength', DEFAULT_LIMITS.maxReprLength),
    maxOutputBytes: config.get<number>('maxOutputBytes', DEFAULT_LIMITS.maxOutputBytes),
    maxDepth: config.get<number>('maxDepth', DEFAULT_LIMITS.maxDepth),
  };
}

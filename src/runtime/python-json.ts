/**
 * One request to a helper script shipped beside this module (bind_args.py, same_values.py): start it in
 * isolated mode (`python -I`: no user site, no PYTHON* variables), write one JSON document to its
 * stdin, and read one JSON document from its stdout. Every failure becomes the caller's own error
 * class with a message saying what could not be done.
 */
import { spawn } from 'node:child_process';

export interface PythonJsonRequest {
  readonly python: string;
  readonly script: string;
  readonly input: unknown;
  readonly timeoutMs: number;
  /** Completes "cannot start PYTHON to …", e.g. "bind the arguments". */
  readonly startPurpose: string;
  /** Completes "PYTHON could not …" when the answer is not JSON, e.g. "bind the arguments". */
  readonly failPurpose: string;
  /** The whole message when the script runs out of time. */
  readonly timeoutMessage: string;
  readonly error: (message: string) => Error;
}

/** The script's answer, parsed; its shape is for the caller to check. */
export function runPythonJson(request: PythonJsonRequest): Promise<unknown> {
  const { python, error } = request;
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-I', request.script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(error(request.timeoutMessage));
    }, request.timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A child that dies before reading its input must not take this process down with EPIPE.
    child.stdin.on('error', () => undefined);
    child.on('error', (cause) => {
      clearTimeout(timer);
      reject(error(`cannot start ${python} to ${request.startPurpose}: ${cause.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(stdout));
      } catch {
        reject(error(`${python} could not ${request.failPurpose} (exit code ${code}): ${stderr.trim().split('\n').at(-1) ?? ''}`));
      }
    });
    child.stdin.end(JSON.stringify(request.input));
  });
}

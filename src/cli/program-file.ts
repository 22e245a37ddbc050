/** Reading the user's program (or a file of rows) and building what both worlds trace, with the CLI's messages. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DatasetError, EvalRow, readRows } from '../eval/rows';
import { buildPromptProgram, PromptError, PromptProgram } from '../trace/prompt';
import type { Io } from './trace-command';

/** The text of the user's program, or undefined after telling the user why it cannot be read. */
export function readSource(file: string, io: Io): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    io.err(`neural-debug: cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}\n`);
    return undefined;
  }
}

/** The program to trace or predict, or undefined after telling the user why not. */
export function readProgram(file: string, entry: string | undefined, args: string | undefined, io: Io): PromptProgram | undefined {
  const text = readSource(file, io);
  if (text === undefined) return undefined;
  try {
    return buildPromptProgram(text, { entry, args });
  } catch (error) {
    if (error instanceof PromptError) {
      io.err(`neural-debug: ${file}: ${error.message}\n`);
      return undefined;
    }
    throw error;
  }
}

/** The CruxEval-style rows of `file`, or undefined after telling the user why not. */
export function readRowsOrReport(file: string, io: Io): EvalRow[] | undefined {
  try {
    return readRows(file);
  } catch (error) {
    if (!(error instanceof DatasetError)) throw error;
    io.err(`neural-debug: ${error.message}\n`);
    return undefined;
  }
}

/** The test files beside `file` (test_*.py, *_test.py, there and in a tests/ folder there), read; at most 50. */
export function testFilesBeside(file: string): Array<{ readonly path: string; readonly text: string }> {
  const dir = path.dirname(path.resolve(file));
  const found: Array<{ path: string; text: string }> = [];
  const names: string[] = [];
  for (const folder of [dir, path.join(dir, 'tests')]) {
    try {
      for (const name of fs.readdirSync(folder)) if (/^test_.*\.py$|_test\.py$/.test(name)) names.push(path.join(folder, name));
    } catch {
      // no such folder
    }
  }
  for (const name of names.sort().slice(0, 50)) {
    try {
      found.push({ path: name, text: fs.readFileSync(name, 'utf8') });
    } catch {
      // unreadable: nothing from it
    }
  }
  return found;
}

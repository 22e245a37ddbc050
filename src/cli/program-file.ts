/** Reading the user's program (or a file of rows) and building what both worlds trace, with the CLI's messages. */
import * as fs from 'node:fs';
import { DatasetError, EvalRow, readRows } from '../eval/rows';
import { buildPromptProgram, PromptError, PromptProgram } from '../trace/prompt';
import type { Io } from './trace-command';

/** The program to trace or predict, or undefined after telling the user why not. */
export function readProgram(file: string, entry: string | undefined, args: string | undefined, io: Io): PromptProgram | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    io.err(`neural-debug: cannot read ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}\n`);
    return undefined;
  }
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

/** Finding the Python interpreter that runs traced programs. */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The interpreter to use: the one asked for, else `python3`, then `python`, from PATH. */
export function resolvePython(requested?: string): string {
  if (requested && requested.trim() !== '') return requested.trim();
  for (const name of process.platform === 'win32' ? ['python.exe', 'py.exe'] : ['python3', 'python']) {
    const found = findOnPath(name);
    if (found) return found;
  }
  return process.platform === 'win32' ? 'python.exe' : 'python3';
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Exit status the bootstrap uses for an interpreter older than 3.8. */
export const PYTHON_TOO_OLD_EXIT = 86;

/**
 * Runs first in the interpreter, in syntax every Python parses, so that an old or wrong interpreter
 * gets a clear message instead of a SyntaxError from the tracer.
 */
export const BOOTSTRAP = [
  'import sys',
  'if sys.version_info < (3, 8):',
  `    sys.stderr.write("the tracer needs Python 3.8 or newer; %s is Python %s\\n" % (sys.executable, sys.version.split()[0])); sys.exit(${PYTHON_TOO_OLD_EXIT})`,
  'import runpy',
  'sys.argv = sys.argv[1:]',
  'runpy.run_path(sys.argv[0], run_name="__main__")',
].join('\n');

/** `neural-debug`: the debugger's jobs from a terminal. */
import { traceCommand, TRACE_USAGE, Io } from './trace-command';
import { predictCommand, PREDICT_USAGE } from './predict-command';
import { serveCommand, SERVE_USAGE } from './serve-command';
import { datasetCommand, DATASET_USAGE } from './dataset-command';
import { compareCommand, COMPARE_USAGE } from './compare-command';
import { evalCommand, EVAL_USAGE } from './eval-command';
import { haltCommand, HALT_USAGE } from './halt-command';
import { fixCommand, FIX_USAGE } from './fix-command';
import { UsageError } from './args';

declare const NEURAL_DEBUG_VERSION: string;

const USAGE = `usage: neural-debug COMMAND [options]

commands:
  trace FILE     run FILE under the real tracer and print its trace in CWM's format
  predict FILE   print the trace the model predicts for FILE (nothing of FILE is executed)
  serve          serve a model over a vLLM-compatible HTTP API
  compare FILE   print the model's predicted trace of FILE beside the real one, divergences marked
  halt FILE      does a function of FILE terminate? the model's verdict, its witness, a bounded real run
  fix FILE       patches for FILE's failing asserts, doctests or tests, each verified by real runs
  dataset        trace CruxEval-style rows into CWM-format training text
  eval           measure a model on CruxEval-style rows with CWM's metrics, beside two baselines

neural-debug COMMAND --help shows a command's options.`;

type Command = (argv: readonly string[], io: Io, onStop: (stop: () => void) => void) => Promise<number>;

const COMMANDS: ReadonlyMap<string, { readonly command: Command; readonly usage: string }> = new Map([
  ['trace', { command: traceCommand, usage: TRACE_USAGE }],
  ['predict', { command: predictCommand, usage: PREDICT_USAGE }],
  ['serve', { command: serveCommand, usage: SERVE_USAGE }],
  ['compare', { command: compareCommand, usage: COMPARE_USAGE }],
  ['halt', { command: haltCommand, usage: HALT_USAGE }],
  ['fix', { command: fixCommand, usage: FIX_USAGE }],
  ['dataset', { command: datasetCommand, usage: DATASET_USAGE }],
  ['eval', { command: evalCommand, usage: EVAL_USAGE }],
]);

export async function main(argv: readonly string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  let stop: (() => void) | undefined;
  const onSignal = (): void => stop?.();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
      io.out(USAGE + '\n');
      return command === undefined ? 2 : 0;
    }
    if (command === '--version') {
      io.out(`${typeof NEURAL_DEBUG_VERSION === 'string' ? NEURAL_DEBUG_VERSION : 'dev'}\n`);
      return 0;
    }
    const run = COMMANDS.get(command);
    if (run) {
      if (rest.includes('--help') || rest.includes('-h')) {
        io.out(run.usage + '\n');
        return 0;
      }
      return await run.command(rest, io, (fn) => (stop = fn));
    }
    throw new UsageError(`unknown command "${command}"`);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`neural-debug: ${error.message}\n${COMMANDS.get(command ?? '')?.usage ?? USAGE}\n`);
      return 2;
    }
    io.err(`neural-debug: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** Writes to a stream; a reader that goes away (`neural-debug trace x.py | head`) ends the command quietly. */
function writer(stream: NodeJS.WriteStream): (text: string) => void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
  });
  return (text) => {
    stream.write(text);
  };
}

if (require.main === module) {
  const io: Io = { out: writer(process.stdout), err: writer(process.stderr) };
  main(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`neural-debug: ${String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

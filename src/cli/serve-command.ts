/** `neural-debug serve`: a model folder behind a vLLM-compatible HTTP API, until interrupted. */
import { startServer } from '../model/serve';
import { intOption, OptionSpec, parseArgs, UsageError } from './args';
import { MODEL_OPTIONS, openModelOrReport } from './model-options';
import type { Io } from './trace-command';

/** The bearer token clients must send, read from the environment (never from the command line). */
export const SERVE_KEY_VARIABLE = 'NEURAL_DEBUG_SERVE_API_KEY';

export const SERVE_USAGE = `usage: neural-debug serve [options]

Serves a model over the subset of vLLM's OpenAI-compatible API the debugger uses (/v1/completions with
token-id prompts, streaming, logprobs and prompt_logprobs; /v1/models; /tokenize; /detokenize;
/health), so a team can share one GPU box and use it with --endpoint. Runs until interrupted.

  --model DIR        model folder (default: the bundled model)
  --device DEVICE    auto (default) | cpu | cuda
  --threads N        CPU threads per operator (default: ONNX Runtime's choice)
  --host HOST        address to listen on (default 127.0.0.1: this machine only)
  --port N           port (default 8000; 0 picks a free one)
  --quiet            do not log requests

Clients must send "Authorization: Bearer KEY" when $${SERVE_KEY_VARIABLE} is set. Serving on another
address than 127.0.0.1 without it is refused unless --insecure is given.`;

const OPTIONS: OptionSpec[] = [
  ...MODEL_OPTIONS.filter((spec) => spec.name !== 'endpoint' && spec.name !== 'tokenizer'),
  { name: 'host', value: true },
  { name: 'port', value: true },
  { name: 'quiet', value: false },
  { name: 'insecure', value: false },
];

const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '::1']);

export async function serveCommand(argv: readonly string[], io: Io, onStop: (stop: () => void) => void, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const args = parseArgs(argv, OPTIONS);
  if (args.positional.length > 0) throw new UsageError(`serve takes no FILE (got ${args.positional.join(' ')})`);
  const host = args.options.get('host') ?? '127.0.0.1';
  const port = intOption(args, 'port', 0) ?? 8000;
  if (port > 65535) throw new UsageError(`--port must be at most 65535, not ${port}`);
  const apiKey = env[SERVE_KEY_VARIABLE] || undefined;
  if (!LOCAL_HOSTS.has(host) && !apiKey && !args.flags.has('insecure')) {
    throw new UsageError(`serving on ${host} lets anyone who reaches it use the model: set $${SERVE_KEY_VARIABLE} to require a key, or pass --insecure`);
  }

  let stopped!: () => void;
  const stop = new Promise<void>((resolve) => (stopped = resolve));
  onStop(() => stopped());
  const model = await openModelOrReport(args, io, env);
  if (!model) return 1;
  try {
    if (model.info.deviceNote) io.err(`neural-debug: ${model.info.deviceNote}\n`);
    const quiet = args.flags.has('quiet');
    let server;
    try {
      server = await startServer({ backend: model, host, port, ...(apiKey ? { apiKey } : {}), ...(quiet ? {} : { log: (line: string) => io.err(line + '\n') }) });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why = code === 'EADDRINUSE' ? `port ${port} is in use (try --port 0 for a free one)` : code === 'EACCES' ? `no permission to listen on port ${port}` : (error as Error).message;
      io.err(`neural-debug: cannot listen on ${host}:${port}: ${why}\n`);
      return 1;
    }
    io.err(`neural-debug: serving ${model.info.name} (${model.info.device}) at ${server.url}${apiKey ? ' (API key required)' : ''}; Ctrl-C stops\n`);
    // Tests and scripts read the URL from stdout's first line.
    io.out(`${server.url}\n`);
    await stop;
    await server.close();
    return 0;
  } finally {
    await model.close();
  }
}

/** `neural-debug serve`: any ModelBackend behind an OpenAI/vLLM-compatible HTTP API. */
export { startServer } from './server';
export type { RunningServer, ServeOptions } from './server';

/** The remote backend: CWM behind a vLLM-compatible HTTP server (vLLM itself, or `neural-debug serve`). */
export { openRemoteBackend, RemoteBackend, DEFAULT_REMOTE_TIMEOUTS } from './remote-backend';
export type { RemoteBackendOptions, RemoteTimeouts } from './remote-backend';
export { MODEL_DESCRIPTION_PATH, NEURAL_DEBUG_OWNER, SCORE_FROM_FIELD } from './neural-debug-api';
export type { ModelDescription } from './neural-debug-api';
export { parseEndpoint } from './endpoint';
export type { Endpoint } from './endpoint';

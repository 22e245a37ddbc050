// Tokenizes training traces with the very tokenizer library the runtime uses (@huggingface/tokenizers),
// so the model is trained on exactly the ids it will see; a second implementation could drift.
//
//   node kernels/tokenize_traces.mjs TOKENIZER.json TRACES.jsonl OUT_PREFIX
//
// writes OUT_PREFIX.bin (uint16 ids, all traces back to back) and OUT_PREFIX.json
// ({"traces": [[start, length, promptLength], ...]}), where promptLength counts the ids up to and
// including the prompt's <|frame_sep|>: the loss is taken only after it. Every trace must decode back to
// its text, or the script stops.
import { Tokenizer } from '@huggingface/tokenizers';
import { readFileSync, writeFileSync } from 'node:fs';

const [tokenizerPath, tracesPath, outPrefix] = process.argv.slice(2);
if (!outPrefix) {
  console.error('usage: node kernels/tokenize_traces.mjs TOKENIZER.json TRACES.jsonl OUT_PREFIX');
  process.exit(2);
}
const json = JSON.parse(readFileSync(tokenizerPath, 'utf8'));
const tokenizer = new Tokenizer(json, {});
const frameSep = tokenizer.token_to_id('<|frame_sep|>');
const lines = readFileSync(tracesPath, 'utf8').split('\n').filter((line) => line.trim() !== '');
const chunks = [];
const traces = [];
let total = 0;
for (const line of lines) {
  const { text } = JSON.parse(line);
  const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
  const back = tokenizer.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  if (back !== text) throw new Error(`a trace does not decode back to its text: ${JSON.stringify(text.slice(0, 80))}`);
  if (ids.some((id) => id > 0xffff)) throw new Error('an id does not fit in 16 bits');
  const promptLength = ids.indexOf(frameSep) + 1;
  if (promptLength === 0) throw new Error('a trace has no <|frame_sep|> after its prompt');
  traces.push([total, ids.length, promptLength]);
  chunks.push(Uint16Array.from(ids));
  total += ids.length;
}
const all = new Uint16Array(total);
let at = 0;
for (const chunk of chunks) {
  all.set(chunk, at);
  at += chunk.length;
}
writeFileSync(`${outPrefix}.bin`, Buffer.from(all.buffer));
writeFileSync(`${outPrefix}.json`, JSON.stringify({ tokenizer: tokenizerPath, traces }));
console.error(`${traces.length} traces, ${total} tokens (${(total / traces.length).toFixed(0)} a trace) -> ${outPrefix}.bin`);

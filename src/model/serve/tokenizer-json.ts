/**
 * The tokenizer.json object behind a CwmTokenizer, which the server sends to clients and reads the
 * `special` flags from (skip_special_tokens skips exactly the tokens flagged special, as Hugging Face
 * does).
 */
import { ModelError } from '../backend';
import type { CwmTokenizer } from '../tokenizer';
import { isObject, JsonObject } from '../remote/json-reading';

export function tokenizerJsonOf(tokenizer: CwmTokenizer): JsonObject {
  const json: unknown = tokenizer.toJSON();
  if (!isObject(json) || !isObject(json.model)) {
    throw new ModelError('tokenizer', 'the tokenizer does not expose its tokenizer.json, so the server cannot send it to clients');
  }
  return json;
}

/** Ids of the added tokens flagged `special` (an added token without the flag counts as special). */
export function specialTokenIdsOf(json: JsonObject): Set<number> {
  const ids = new Set<number>();
  const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
  for (const token of added) {
    if (isObject(token) && typeof token.id === 'number' && token.special !== false) ids.add(token.id);
  }
  return ids;
}

import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { ModelError } from '../../src/model/backend';
import { readModelFolder } from '../../src/model/model-folder';
import { copyModelFolder, TINY } from '../helpers/models';

/** A copy of the fixture folder with its configuration changed by `edit`. */
function folderWith(edit: (config: Record<string, unknown>) => unknown, remove: string[] = []): string {
  return copyModelFolder(TINY, edit, remove);
}

function rejects(dir: string, pattern: RegExp, code: ModelError['code'] = 'model-folder'): void {
  assert.throws(() => readModelFolder(dir), (error: unknown) => {
    assert.ok(error instanceof ModelError, String(error));
    assert.equal(error.code, code);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('model folders', () => {
  it('reads the fixture folder', () => {
    const folder = readModelFolder(TINY);
    assert.equal(folder.config.numLayers, 2);
    assert.deepEqual(folder.config.attentionWindows, [16, null]);
    assert.equal(folder.config.modelFile, path.join(TINY, 'model.onnx'));
    assert.ok(folder.tokenizer.size <= folder.config.vocabSize);
  });

  it('says what is wrong with a missing or incomplete folder', () => {
    rejects(path.join(TINY, 'nope'), /model folder .*nope does not exist/);
    rejects(path.join(TINY, 'model.onnx'), /is a file; a model is a folder/);
    rejects(folderWith(() => undefined, ['neural-debug-model.json']), /is not a model folder: it has no neural-debug-model\.json/);
    rejects(folderWith(() => undefined, ['model.onnx']), /names the ONNX model model\.onnx, but .*model\.onnx does not exist/);
    rejects(folderWith(() => undefined, ['tokenizer.json']), /names the tokenizer tokenizer\.json, but .*tokenizer\.json does not exist/);
  });

  it('checks every field of the configuration', () => {
    rejects(folderWith(() => '{"format": '), /neural-debug-model\.json is not valid JSON/);
    rejects(folderWith((c) => ({ ...c, format: 'other' })), /"format" must be "neural-debug-model"/);
    rejects(folderWith((c) => ({ ...c, version: 2 })), /"version" 2 is not supported/);
    rejects(folderWith((c) => ({ ...c, numLayers: 0 })), /"numLayers" must be a whole number of at least 1, not 0/);
    rejects(folderWith((c) => ({ ...c, contextLength: 10 ** 12 })), /"contextLength" 1000000000000 is beyond any model this runtime can hold \(at most 1,048,576 tokens\)/);
    rejects(folderWith((c) => ({ ...c, attentionWindows: [16] })), /"attentionWindows" must list one entry per layer \(2\)/);
    rejects(folderWith((c) => ({ ...c, dtype: 'int8' })), /"dtype" must be "float32" or "float16", not "int8"/);
    rejects(folderWith((c) => ({ ...c, model: '../elsewhere.onnx' })), /"model" must be a file name inside the folder/);
    rejects(folderWith((c) => ({ ...c, eosTokenIds: [466] })), /"eosTokenIds" must include the id of <\|end_of_text\|>/);
    rejects(folderWith((c) => ({ ...c, specialTokens: { ...(c.specialTokens as object), '<|arg_sep|>': undefined } })), /"specialTokens" entry <\|arg_sep\|> must be a token id below vocabSize 512, not undefined/);
  });

  it('catches a tokenizer that does not belong to the model', () => {
    rejects(folderWith((c) => ({ ...c, vocabSize: 300 })), /"specialTokens" entry .* must be a token id below vocabSize 300/);
    const specials = (c: Record<string, unknown>): Record<string, number> => c.specialTokens as Record<string, number>;
    rejects(
      folderWith((c) => ({ ...c, specialTokens: { ...specials(c), '<|call_sep|>': specials(c)['<|line_sep|>'] } })),
      /gives <\|call_sep\|> the id \d+, but the model's configuration says \d+/,
      'tokenizer',
    );
    rejects(folderWith((c) => ({ ...c, vocabSize: 466, eosTokenIds: [457] })), /knows 467 token ids but .* says the model's logits have only 466/);
  });
});

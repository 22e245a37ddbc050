/**
 * The encoder against the real thing: a corpus of generated strings goes to a Python process, which
 * writes each with json.dumps; our output must be byte-identical, and our reader must read Python's
 * text back to the very same string.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseString, parseStringObject, pyJsonString, pyJsonStringObject } from '../../src/trace/pyjson';
import { defaultPython } from '../helpers/env';
import { Random, seedFromEnv } from '../helpers/random';

const SEED = seedFromEnv(20261121);
const CORPUS_SIZE = 12_000;

/** Code points from every region that matters: printable ASCII, C0/C1 controls, DEL, BMP, surrogates, astral. */
function randomString(random: Random): string {
  const length = random.int(0, 24);
  const units: number[] = [];
  const kind = random.int(0, 4); // some strings stay in one region, most mix
  for (let i = 0; i < length; i++) {
    const region = kind < 4 ? kind : random.int(0, 3);
    switch (region) {
      case 0: // ASCII, with the characters json treats specially over-represented
        units.push(random.next() < 0.3 ? random.pick([0x22, 0x5c, 0x2f, 0x27, 0x7f, 0x20, 0x7e]) : random.int(0, 0x7f));
        break;
      case 1: // control characters, C0 and C1, and line/paragraph separators
        units.push(random.pick([random.int(0, 0x1f), random.int(0x7f, 0x9f), 0x2028, 0x2029, 0xfeff]));
        break;
      case 2: // the BMP, lone surrogates included (Python strings can hold them; so can JS strings)
        units.push(random.int(0xa0, 0xffff));
        break;
      default: {
        // astral: a proper surrogate pair
        const cp = random.int(0x10000, 0x10ffff) - 0x10000;
        units.push(0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
      }
    }
  }
  return String.fromCharCode(...units);
}

/** UTF-16LE hex: the one transport that carries lone surrogates to Python unchanged. */
function toHex(text: string): string {
  return Buffer.from(text, 'utf16le').toString('hex');
}

const PYTHON_DUMPS = `
import json, sys
def decode(h):
    return bytes.fromhex(h).decode('utf-16-le', 'surrogatepass')
job = json.load(sys.stdin)
strings = [json.dumps(decode(h)) for h in job['strings']]
objects = [json.dumps({decode(k): decode(v) for k, v in pairs}) for pairs in job['objects']]
json.dump({'strings': strings, 'objects': objects}, sys.stdout)
`;

describe(`json.dumps-exact encoder (seed ${SEED}; TEST_SEED=${SEED} replays)`, () => {
  const random = new Random(SEED);
  const corpus = Array.from({ length: CORPUS_SIZE }, () => randomString(random));
  const objects = Array.from({ length: 1000 }, () => {
    const keys = new Set<string>();
    const pairs: Array<[string, string]> = [];
    for (let i = random.int(0, 6); i > 0; i--) {
      const key = randomString(random);
      if (keys.has(key)) continue;
      keys.add(key);
      pairs.push([key, randomString(random)]);
    }
    return pairs;
  });
  const python = JSON.parse(
    execFileSync(defaultPython(), ['-c', PYTHON_DUMPS], {
      input: JSON.stringify({ strings: corpus.map(toHex), objects: objects.map((pairs) => pairs.map(([k, v]) => [toHex(k), toHex(v)])) }),
      maxBuffer: 256 * 1024 * 1024,
    }).toString('utf8'),
  ) as { strings: string[]; objects: string[] };

  it(`writes ${CORPUS_SIZE} strings exactly as Python's json.dumps does`, () => {
    assert.equal(python.strings.length, corpus.length);
    const regions = { astral: 0, control: 0, nonAscii: 0, loneSurrogate: 0 };
    for (let i = 0; i < corpus.length; i++) {
      const text = corpus[i];
      if (/[\ud800-\udbff][\udc00-\udfff]/.test(text)) regions.astral++;
      if (/[\x00-\x1f\x7f]/.test(text)) regions.control++;
      if (/[^\x00-\x7f]/.test(text)) regions.nonAscii++;
      if (/(?:[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff])/.test(text)) regions.loneSurrogate++;
      assert.equal(pyJsonString(text), python.strings[i], `string #${i} ${JSON.stringify(text)}`);
    }
    // The corpus really covers every region it claims to.
    for (const [region, count] of Object.entries(regions)) assert.ok(count > 500, `${region}: only ${count} strings`);
  });

  it('writes objects of strings with ", " and ": " separators, keys in order', () => {
    for (let i = 0; i < objects.length; i++) assert.equal(pyJsonStringObject(objects[i]), python.objects[i], `object #${i}`);
  });

  it("reads Python's text back to the same strings and pairs", () => {
    for (let i = 0; i < corpus.length; i++) {
      const read = parseString(python.strings[i]);
      assert.ok(read.ok, `string #${i}`);
      assert.equal(read.value, corpus[i]);
    }
    for (let i = 0; i < objects.length; i++) {
      const read = parseStringObject(python.objects[i]);
      assert.ok(read.ok, `object #${i}`);
      assert.deepEqual(read.value, objects[i]);
    }
  });

  it('differs from JSON.stringify where CWM needs it to', () => {
    assert.equal(pyJsonString('é'), '"\\u00e9"');
    assert.equal(pyJsonString('😀'), '"\\ud83d\\ude00"');
    assert.equal(pyJsonString('\x7f'), '"\\u007f"');
    assert.equal(pyJsonStringObject([['a', '1'], ['b', "'x'"]]), '{"a": "1", "b": "\'x\'"}');
  });
});

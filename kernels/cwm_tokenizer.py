"""CWM's special tokens and a byte-level BPE tokenizer built like Llama-3's, written as a Hugging Face
tokenizer.json: no normalizer; pre-tokenizer = Llama-3's split regex (`Isolated`) then `ByteLevel` without
its own regex; BPE with `ignore_merges`, no byte fallback. Ids 0-255 are the byte symbols in byte order,
then the merges' tokens, then the added tokens (CWM's specials and <|eot_id|>).

Shared by the test fixtures (build_test_models.py) and the bundled model (train_tokenizer.py).
"""
import heapq
import re

CWM_TOKENS = [
    '<|begin_of_text|>',
    '<|end_of_text|>',
    '<|frame_sep|>',
    '<|action_sep|>',
    '<|return_sep|>',
    '<|call_sep|>',
    '<|line_sep|>',
    '<|exception_sep|>',
    '<|arg_sep|>',
    '<|trace_context_start|>',
]
ADDED_TOKENS = CWM_TOKENS + ['<|eot_id|>']

# Llama-3's pre-tokenizer pattern (Oniguruma syntax, as it appears in its tokenizer.json).
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
# The same pattern for Python's `re`, which has no \p{..}: a letter is [^\W\d_], a number \d, and
# "neither letter nor number" is any non-word character or the underscore. Exact on ASCII text, which
# is all the trainer ever sees; the tokenizer itself ships the pattern above.
_NOT_LN = r'(?:[^\w\r\n]|_)'
_NOT_LN_SPACE = r'(?:[^\w\s]|_)'
TRAINING_SPLIT = re.compile(
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)"
    + r'|' + _NOT_LN + r'?[^\W\d_]+'
    + r'|\d{1,3}'
    + r'| ?' + _NOT_LN_SPACE + r'+[\r\n]*'
    + r'|\s*[\r\n]+|\s+(?!\S)|\s+'
)



def byte_symbols():
    """GPT-2's reversible byte -> printable character table, indexed by byte value."""
    kept = (list(range(ord('!'), ord('~') + 1)) + list(range(ord('\u00a1'), ord('\u00ac') + 1))
            + list(range(ord('\u00ae'), ord('\u00ff') + 1)))
    table = {}
    shifted = 0
    for byte in range(256):
        if byte in kept:
            table[byte] = chr(byte)
        else:
            table[byte] = chr(256 + shifted)
            shifted += 1
    return [table[byte] for byte in range(256)]


BYTE_SYMBOLS = byte_symbols()


def to_symbols(piece):
    return tuple(BYTE_SYMBOLS[b] for b in piece.encode('utf-8'))


def train_bpe(text, num_merges):
    """Plain BPE over the pre-tokenized words of `text` (a string or a list of strings, never joined); ties go to the lexicographically smallest pair.

    Pair counts are kept up to date as words are rewritten, and the best pair comes from a heap whose
    stale entries are skipped, so a merge costs only the words that hold the merged pair.
    """
    word_counts = {}
    for part in [text] if isinstance(text, str) else text:
        for piece in TRAINING_SPLIT.findall(part):
            word = to_symbols(piece)
            word_counts[word] = word_counts.get(word, 0) + 1
    words = [list(word) for word, _ in sorted(word_counts.items())]
    counts = [count for _, count in sorted(word_counts.items())]
    pair_counts = {}
    holders = {}
    for at, word in enumerate(words):
        for pair in zip(word, word[1:]):
            pair_counts[pair] = pair_counts.get(pair, 0) + counts[at]
            holders.setdefault(pair, set()).add(at)
    heap = [(-count, pair) for pair, count in pair_counts.items()]
    heapq.heapify(heap)
    merges = []
    while len(merges) < num_merges and heap:
        negative, pair = heapq.heappop(heap)
        if pair_counts.get(pair, 0) != -negative:
            continue  # stale: the count changed after this entry was pushed
        if -negative < 2:
            break
        first, second = pair
        merges.append(pair)
        joined = first + second
        changed = set()
        for at in sorted(holders.pop(pair, ())):
            word = words[at]
            count = counts[at]
            for old in zip(word, word[1:]):
                pair_counts[old] -= count
                changed.add(old)
            out = []
            i = 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == first and word[i + 1] == second:
                    out.append(joined)
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            words[at] = out
            for new in zip(out, out[1:]):
                pair_counts[new] = pair_counts.get(new, 0) + count
                holders.setdefault(new, set()).add(at)
                changed.add(new)
        for touched in changed:
            count = pair_counts.get(touched, 0)
            if count <= 0:
                pair_counts.pop(touched, None)
                holders.pop(touched, None)
            else:
                heapq.heappush(heap, (-count, touched))
    return merges


def build_vocab(merges):
    vocab = {symbol: byte for byte, symbol in enumerate(BYTE_SYMBOLS)}
    for first, second in merges:
        if first + second not in vocab:
            vocab[first + second] = len(vocab)
    return vocab


def bpe_encode(text, vocab, merges):
    """Encodes text the way a HF BPE model with ignore_merges does (for the script's own statistics)."""
    rank = {pair: i for i, pair in enumerate(merges)}
    ids = []
    for piece in TRAINING_SPLIT.findall(text):
        word = list(to_symbols(piece))
        if ''.join(word) in vocab:
            ids.append(vocab[''.join(word)])
            continue
        while len(word) > 1:
            ranked = [(rank.get((a, b), len(rank)), i) for i, (a, b) in enumerate(zip(word, word[1:]))]
            best_rank, at = min(ranked)
            if best_rank == len(rank):
                break
            word[at:at + 2] = [word[at] + word[at + 1]]
        ids.extend(vocab[symbol] for symbol in word)
    return ids


def tokenizer_json(vocab, merges):
    added = []
    for offset, content in enumerate(ADDED_TOKENS):
        added.append({
            'id': len(vocab) + offset,
            'content': content,
            'single_word': False,
            'lstrip': False,
            'rstrip': False,
            'normalized': False,
            'special': True,
        })
    return {
        'version': '1.0',
        'truncation': None,
        'padding': None,
        'added_tokens': added,
        'normalizer': None,
        'pre_tokenizer': {
            'type': 'Sequence',
            'pretokenizers': [
                {'type': 'Split', 'pattern': {'Regex': LLAMA3_PATTERN}, 'behavior': 'Isolated', 'invert': False},
                {'type': 'ByteLevel', 'add_prefix_space': False, 'trim_offsets': True, 'use_regex': False},
            ],
        },
        'post_processor': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': False, 'use_regex': True},
        'decoder': {'type': 'ByteLevel', 'add_prefix_space': True, 'trim_offsets': True, 'use_regex': True},
        'model': {
            'type': 'BPE',
            'dropout': None,
            'unk_token': None,
            'continuing_subword_prefix': None,
            'end_of_word_suffix': None,
            'fuse_unk': False,
            'byte_fallback': False,
            'ignore_merges': True,
            'vocab': vocab,
            'merges': [[first, second] for first, second in merges],
        },
    }

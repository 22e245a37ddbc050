# bug: wrong-variable: the old count is looked up under raw instead of the stripped word (line 8)
# kind: wrong-variable
def word_frequency(text):
    counts = {}
    for raw in text.lower().split():
        word = raw.strip(".,!?")
        if word:
            counts[word] = counts.get(raw, 0) + 1
    return counts


if __name__ == "__main__":
    assert word_frequency("a b a") == {"a": 2, "b": 1}
    assert word_frequency("Hi there. Hi!") == {"hi": 2, "there": 1}
    assert word_frequency("") == {}
    assert word_frequency("Yes, yes, no.") == {"yes": 2, "no": 1}

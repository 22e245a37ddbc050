# bug: index: the previous word's first letter [0] is used instead of its last letter [-1] (line 6)
# kind: index
def is_word_chain(words):
    for i in range(1, len(words)):
        prev = words[i - 1]
        if words[i][0] != prev[0]:
            return False
    return True


if __name__ == "__main__":
    assert is_word_chain([]) == True
    assert is_word_chain(["apple", "egg", "goat"]) == True
    assert is_word_chain(["cat", "dog"]) == False
    assert is_word_chain(["tent", "tart", "trust"]) == True

# bug: wrong-variable: the loop iterates over text instead of lowered, so capitals are missed (line 7)
# kind: wrong-variable
def count_vowels(text):
    vowels = "aeiou"
    lowered = text.lower()
    count = 0
    for ch in text:
        if ch in vowels:
            count += 1
    return count


if __name__ == "__main__":
    assert count_vowels("hello") == 2
    assert count_vowels("AEIOU") == 5
    assert count_vowels("Banana") == 3
    assert count_vowels("Education") == 5

# call: count_vowels("hi there")
# why: the space is neither a vowel nor a letter, so no branch advances i and the loop stalls at index 2.
def count_vowels(text):
    i = 0
    count = 0
    while i < len(text):
        ch = text[i]
        if ch in "aeiou":
            count += 1
            i += 1
        elif ch.isalpha():
            i += 1
    return count

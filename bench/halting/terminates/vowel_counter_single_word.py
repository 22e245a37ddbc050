# call: count_vowels("onomatopoeia")
# why: every character is a letter, so one of the branches advances i each iteration until it reaches len(text).
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

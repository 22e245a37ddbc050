# bug: boolean: the final return gives False instead of True when all pairs match (line 12)
# kind: boolean
def is_palindrome(s):
    chars = [c.lower() for c in s if c.isalnum()]
    i = 0
    j = len(chars) - 1
    while i < j:
        if chars[i] != chars[j]:
            return False
        i += 1
        j -= 1
    return False


if __name__ == "__main__":
    assert is_palindrome("abc") == False
    assert is_palindrome("racecar") == True
    assert is_palindrome("A man, a plan, a canal: Panama") == True
    assert is_palindrome("ab") == False

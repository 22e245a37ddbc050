# bug: swapped-arguments: contains is called with needle and haystack swapped (line 13)
# kind: swapped-arguments
def contains(haystack, needle):
    for i in range(len(haystack) - len(needle) + 1):
        if haystack[i:i + len(needle)] == needle:
            return True
    return False


def is_rotation(a, b):
    if len(a) != len(b):
        return False
    return contains(b, a + a)


if __name__ == "__main__":
    assert is_rotation("", "") == True
    assert is_rotation("abc", "abd") == False
    assert is_rotation("abcde", "cdeab") == True
    assert is_rotation("ab", "abc") == False
    assert is_rotation("waterbottle", "erbottlewat") == True

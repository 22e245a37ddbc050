# bug: boolean: the mismatch test joins its two conditions with and instead of or (line 10)
# kind: boolean
def balanced_parens(s):
    pairs = {")": "(", "]": "[", "}": "{"}
    stack = []
    for c in s:
        if c in "([{":
            stack.append(c)
        elif c in pairs:
            if not stack and stack[-1] != pairs[c]:
                return False
            stack.pop()
    return not stack


if __name__ == "__main__":
    assert balanced_parens("([]{})") == True
    assert balanced_parens("(]") == False
    assert balanced_parens("((") == False
    assert balanced_parens("([)]") == False

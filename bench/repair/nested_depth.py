# bug: base-case: an empty list returns depth 0 instead of 1 (line 7)
# kind: base-case
def nested_depth(x):
    if not isinstance(x, list):
        return 0
    if not x:
        return 0
    return 1 + max(nested_depth(item) for item in x)


if __name__ == "__main__":
    assert nested_depth([1, 2]) == 1
    assert nested_depth([]) == 1
    assert nested_depth([[], 1]) == 2
    assert nested_depth([1, [2, [3]]]) == 3
    assert nested_depth(5) == 0

# bug: operator: the shift is reduced with // instead of % (line 6)
# kind: operator
def rotate_list(xs, k):
    if not xs:
        return []
    k = k // len(xs)
    return xs[-k:] + xs[:-k]


if __name__ == "__main__":
    assert rotate_list([1, 2, 3, 4, 5], 2) == [4, 5, 1, 2, 3]
    assert rotate_list([1, 2, 3], 3) == [1, 2, 3]
    assert rotate_list([], 4) == []
    assert rotate_list([1, 2, 3], 4) == [3, 1, 2]

# bug: operator: the two middle values are subtracted instead of added for even lengths (line 9)
# kind: operator
def median(xs):
    s = sorted(xs)
    n = len(s)
    mid = n // 2
    if n % 2 == 1:
        return s[mid]
    return (s[mid - 1] - s[mid]) / 2


if __name__ == "__main__":
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 3, 2]) == 2.5
    assert median([5]) == 5
    assert median([1, 10]) == 5.5

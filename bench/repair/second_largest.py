# bug: comparison: the second-place update tests x < second instead of x > second (line 10)
# kind: comparison
def second_largest(xs):
    first = None
    second = None
    for x in xs:
        if first is None or x > first:
            second = first
            first = x
        elif x != first and (second is None or x < second):
            second = x
    return second


if __name__ == "__main__":
    assert second_largest([1, 2, 3]) == 2
    assert second_largest([5, 1, 3]) == 3
    assert second_largest([4, 4]) == None
    assert second_largest([10, 8, 9]) == 9

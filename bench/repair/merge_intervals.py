# bug: index: the overlap test compares against result[0] instead of the last merged interval result[-1] (line 6)
# kind: index
def merge_intervals(intervals):
    result = []
    for start, end in sorted(intervals):
        if result and start <= result[0][1]:
            result[-1] = (result[-1][0], max(result[-1][1], end))
        else:
            result.append((start, end))
    return result


if __name__ == "__main__":
    assert merge_intervals([(1, 3), (2, 6), (8, 10)]) == [(1, 6), (8, 10)]
    assert merge_intervals([(1, 2), (4, 6), (5, 7)]) == [(1, 2), (4, 7)]
    assert merge_intervals([]) == []

# bug: off-by-one: the loop bound skips the last element (line 6)
# kind: off-by-one
def running_max(xs):
    result = []
    best = None
    for i in range(len(xs) - 1):
        if best is None or xs[i] > best:
            best = xs[i]
        result.append(best)
    return result


if __name__ == "__main__":
    assert running_max([]) == []
    assert running_max([3, 1, 4, 1, 5]) == [3, 3, 4, 4, 5]
    assert running_max([2]) == [2]
    assert running_max([5, 4, 3]) == [5, 5, 5]

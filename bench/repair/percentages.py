# bug: swapped-arguments: percent is called as percent(total, c) instead of percent(c, total) (line 13)
# kind: swapped-arguments
def percent(part, whole):
    if whole == 0:
        return 0.0
    return round(100 * part / whole, 1)


def percentages(counts):
    total = sum(counts)
    result = []
    for c in counts:
        result.append(percent(total, c))
    return result


if __name__ == "__main__":
    assert percentages([0, 0]) == [0.0, 0.0]
    assert percentages([1, 3]) == [25.0, 75.0]
    assert percentages([5]) == [100.0]
    assert percentages([1, 1]) == [50.0, 50.0]

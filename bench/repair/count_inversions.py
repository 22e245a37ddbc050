# bug: comparison: equal elements are counted as an inversion because of >= (line 7)
# kind: comparison
def count_inversions(xs):
    count = 0
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            if xs[i] >= xs[j]:
                count += 1
    return count


if __name__ == "__main__":
    assert count_inversions([1, 2, 3]) == 0
    assert count_inversions([3, 2, 1]) == 3
    assert count_inversions([2, 2, 1]) == 2
    assert count_inversions([1, 1]) == 0

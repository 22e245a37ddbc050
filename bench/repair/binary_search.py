# bug: comparison: the loop condition uses < instead of <=, so a one-element range is never checked (line 6)
# kind: comparison
def binary_search(xs, target):
    lo = 0
    hi = len(xs) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if xs[mid] == target:
            return mid
        if xs[mid] < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return -1


if __name__ == "__main__":
    assert binary_search([1, 3, 5, 7, 9], 5) == 2
    assert binary_search([1, 3, 5, 7, 9], 9) == 4
    assert binary_search([1, 3, 5], 4) == -1
    assert binary_search([7], 7) == 0

# call: bsearch((2, 4, 6, 8), 5, 0, 3)
# why: the recursion has no base for this input: a missing key leads to the call bsearch(items, 5, 2, 1) repeating itself forever.
def bsearch(items, target, lo, hi):
    mid = (lo + hi) // 2
    if items[mid] == target:
        return mid
    if items[mid] < target:
        return bsearch(items, target, mid + 1, hi)
    return bsearch(items, target, lo, mid - 1)

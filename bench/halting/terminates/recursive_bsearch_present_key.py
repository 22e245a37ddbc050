# call: bsearch((2, 4, 6, 8, 10, 12, 14, 16), 14, 0, 7)
# why: the key is present, and the interval shrinks each call until items[mid] == 14.
def bsearch(items, target, lo, hi):
    mid = (lo + hi) // 2
    if items[mid] == target:
        return mid
    if items[mid] < target:
        return bsearch(items, target, mid + 1, hi)
    return bsearch(items, target, lo, mid - 1)

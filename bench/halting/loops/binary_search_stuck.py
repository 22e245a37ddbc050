# call: find_insert_point((1, 3, 5, 7, 9), 8)
# why: once lo=3 and hi=4 the midpoint is 3 and lo = mid leaves lo unchanged, so lo < hi holds forever.
def find_insert_point(items, target):
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if items[mid] < target:
            lo = mid
        else:
            hi = mid
    return lo

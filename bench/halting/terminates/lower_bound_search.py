# call: find_insert_point((1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23), 8)
# why: lo = mid + 1 or hi = mid shrinks the interval [lo, hi) every iteration, so lo < hi fails after about log2(n) steps.
def find_insert_point(items, target):
    lo, hi = 0, len(items)
    while lo < hi:
        mid = (lo + hi) // 2
        if items[mid] < target:
            lo = mid + 1
        else:
            hi = mid
    return lo

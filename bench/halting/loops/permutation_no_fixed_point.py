# call: follow_until_fixed((2, 0, 1, 3), 0)
# why: starting at 0 the walk cycles 0 -> 2 -> 1 -> 0 and never lands on a fixed point.
def follow_until_fixed(perm, i):
    while perm[i] != i:
        i = perm[i]
    return i

# call: follow_until_fixed((1, 2, 5, 4, 0, 5), 0)
# why: the walk 0 -> 1 -> 2 -> 5 reaches index 5, which points to itself.
def follow_until_fixed(perm, i):
    while perm[i] != i:
        i = perm[i]
    return i

# call: sum_every_other(7)
# why: the recursion has no base for this input: n steps 7, 5, 3, 1, -1, ... and skips past the base case n == 0.
def sum_every_other(n):
    if n == 0:
        return 0
    return n + sum_every_other(n - 2)

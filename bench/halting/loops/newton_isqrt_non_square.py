# call: int_sqrt(20)
# why: the iteration settles at x = 4 for a non-square n, and 4 * 4 != 20, so the exit test never passes.
def int_sqrt(n):
    x = n
    while x * x != n:
        x = (x + n // x) // 2
    return x

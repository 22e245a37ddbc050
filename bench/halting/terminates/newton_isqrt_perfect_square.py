# call: int_sqrt(1369)
# why: for a perfect square the Newton iteration settles on the exact root 37, so x * x == n ends the loop.
def int_sqrt(n):
    x = n
    while x * x != n:
        x = (x + n // x) // 2
    return x

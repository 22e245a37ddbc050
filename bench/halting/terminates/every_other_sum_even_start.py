# call: sum_every_other(40)
# why: n steps down by 2 from an even number, so it lands exactly on the base case n == 0.
def sum_every_other(n):
    if n == 0:
        return 0
    return n + sum_every_other(n - 2)

# call: is_happy(4)
# why: the seen tuple records each value, so the loop stops when the cycle 4 -> 16 -> ... -> 20 -> 4 comes back to 4.
def digit_square_sum(n):
    total = 0
    while n > 0:
        total += (n % 10) ** 2
        n //= 10
    return total


def is_happy(n):
    seen = ()
    while n != 1 and n not in seen:
        seen = seen + (n,)
        n = digit_square_sum(n)
    return n == 1

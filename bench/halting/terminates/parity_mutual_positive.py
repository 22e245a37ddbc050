# call: is_even(37)
# why: the argument decreases by 1 per call from 37, so one of the two base cases n == 0 is reached.
def is_even(n):
    if n == 0:
        return True
    return is_odd(n - 1)


def is_odd(n):
    if n == 0:
        return False
    return is_even(n - 1)

# call: is_even(-4)
# why: the recursion has no base for this input: the argument decreases from -4 away from 0, so neither base case fires.
def is_even(n):
    if n == 0:
        return True
    return is_odd(n - 1)


def is_odd(n):
    if n == 0:
        return False
    return is_even(n - 1)

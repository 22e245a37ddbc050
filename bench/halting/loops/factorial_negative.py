# call: factorial(-3)
# why: the recursion has no base for this input: n goes -3, -4, -5, ... and never reaches the base case n == 0.
def factorial(n):
    if n == 0:
        return 1
    return n * factorial(n - 1)

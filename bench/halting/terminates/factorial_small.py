# call: factorial(12)
# why: n decreases by 1 from 12 and reaches the base case n == 0.
def factorial(n):
    if n == 0:
        return 1
    return n * factorial(n - 1)

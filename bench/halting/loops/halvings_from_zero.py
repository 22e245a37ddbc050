# call: halvings(0)
# why: the recursion has no base for this input: 0 // 2 is 0, so n never reaches the base case n == 1.
def halvings(n):
    if n == 1:
        return 0
    return 1 + halvings(n // 2)

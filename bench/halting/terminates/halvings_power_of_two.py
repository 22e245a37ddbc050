# call: halvings(1048576)
# why: halving a positive number reaches 1 after 20 calls, which is the base case.
def halvings(n):
    if n == 1:
        return 0
    return 1 + halvings(n // 2)

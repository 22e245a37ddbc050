# call: power(2, -5)
# why: the recursion has no base for this input: exp goes -5, -3, -2, -1, -1, ... since -1 // 2 == -1, never 0.
def power(base, exp):
    if exp == 0:
        return 1
    half = power(base, exp // 2)
    if exp % 2 == 0:
        return half * half
    return half * half * base

# call: power(3, 45)
# why: a positive exponent is halved by each call and reaches the base case exp == 0.
def power(base, exp):
    if exp == 0:
        return 1
    half = power(base, exp // 2)
    if exp % 2 == 0:
        return half * half
    return half * half * base

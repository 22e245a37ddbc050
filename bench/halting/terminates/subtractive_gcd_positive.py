# call: gcd_sub(1071, 462)
# why: both arguments are positive, so each step shrinks the larger one and they meet at the gcd 21.
def gcd_sub(a, b):
    while a != b:
        if a > b:
            a -= b
        else:
            b -= a
    return a

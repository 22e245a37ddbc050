# call: gcd_sub(12, 0)
# why: with b = 0 the step a -= b changes nothing, so a and b never become equal.
def gcd_sub(a, b):
    while a != b:
        if a > b:
            a -= b
        else:
            b -= a
    return a

# call: countdown(4.0)
# why: subtracting 0.5 is exact in binary, so t goes 4.0, 3.5, ..., 0.5 and hits the base case 0 exactly.
def countdown(t):
    if t == 0:
        return []
    return [t] + countdown(t - 0.5)

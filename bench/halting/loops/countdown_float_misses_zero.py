# call: countdown(1.0)
# why: the recursion has no base for this input: t goes 1.0, 0.7, 0.4, 0.10000000000000003, -0.2, ... and never equals 0.
def countdown(t):
    if t == 0:
        return []
    return [t] + countdown(t - 0.3)

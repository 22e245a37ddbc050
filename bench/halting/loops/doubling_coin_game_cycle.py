# call: play(1, 2)
# why: the piles alternate (1, 2) -> (2, 1) -> (1, 2), so neither player ever runs out.
def play(a, b):
    while a > 0 and b > 0:
        if a >= b:
            a, b = a - b, 2 * b
        else:
            a, b = 2 * a, b - a
    if a > 0:
        return "first"
    return "second"

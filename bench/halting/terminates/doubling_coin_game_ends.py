# call: play(3, 5)
# why: the piles go (3, 5) -> (6, 2) -> (4, 4) -> (0, 8), so the first pile empties.
def play(a, b):
    while a > 0 and b > 0:
        if a >= b:
            a, b = a - b, 2 * b
        else:
            a, b = 2 * a, b - a
    if a > 0:
        return "first"
    return "second"

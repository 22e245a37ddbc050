# call: collatz_steps(-5)
# why: from -5 the map cycles -5 -> -14 -> -7 -> -20 -> -10 -> -5, a cycle that does not contain 1.
def collatz_steps(n):
    steps = 0
    while n != 1:
        if n % 2 == 0:
            n = n // 2
        else:
            n = 3 * n + 1
        steps += 1
    return steps

# call: rotations_to(5, 7)
# why: rotating a byte keeps its number of set bits, so 5 (two bits) cycles through 8 values and never becomes 7 (three bits).
def rotate_left(x):
    return ((x << 1) | (x >> 7)) & 0xFF


def rotations_to(x, target):
    n = 0
    while x != target:
        x = rotate_left(x)
        n += 1
    return n

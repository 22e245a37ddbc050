# call: rotations_to(5, 80)
# why: 80 is 5 rotated left by four bits, so the rotation reaches it after 4 steps.
def rotate_left(x):
    return ((x << 1) | (x >> 7)) & 0xFF


def rotations_to(x, target):
    n = 0
    while x != target:
        x = rotate_left(x)
        n += 1
    return n

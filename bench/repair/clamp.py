# bug: comparison: the upper-bound test uses x < hi instead of x > hi (line 6)
# kind: comparison
def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x < hi:
        return hi
    return x


if __name__ == "__main__":
    assert clamp(-5, 0, 10) == 0
    assert clamp(15, 0, 10) == 10
    assert clamp(5, 0, 10) == 5
    assert clamp(10, 0, 10) == 10

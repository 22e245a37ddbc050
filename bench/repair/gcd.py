# bug: missing-return: the function returns b, which is always 0 after the loop, instead of a (line 8)
# kind: missing-return
def gcd(a, b):
    a = abs(a)
    b = abs(b)
    while b != 0:
        a, b = b, a % b
    return b


if __name__ == "__main__":
    assert gcd(12, 8) == 4
    assert gcd(0, 0) == 0
    assert gcd(7, 0) == 7
    assert gcd(-4, 6) == 2

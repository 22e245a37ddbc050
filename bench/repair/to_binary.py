# bug: wrong-constant: n is divided by 10 instead of 2 after each binary digit (line 9)
# kind: wrong-constant
def to_binary(n):
    if n == 0:
        return "0"
    digits = []
    while n > 0:
        digits.append(str(n % 2))
        n //= 10
    return "".join(reversed(digits))


if __name__ == "__main__":
    assert to_binary(0) == "0"
    assert to_binary(1) == "1"
    assert to_binary(6) == "110"
    assert to_binary(10) == "1010"

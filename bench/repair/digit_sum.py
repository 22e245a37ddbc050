# bug: operator: the digit is taken with // instead of % (line 7)
# kind: operator
def digit_sum(n):
    n = abs(n)
    total = 0
    while n > 0:
        total += n // 10
        n = n // 10
    return total


if __name__ == "__main__":
    assert digit_sum(0) == 0
    assert digit_sum(123) == 6
    assert digit_sum(-45) == 9
    assert digit_sum(7) == 7

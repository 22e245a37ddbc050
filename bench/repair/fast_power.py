# bug: operator: the result is updated with += instead of *= (line 7)
# kind: operator
def fast_power(base, exp):
    result = 1
    while exp > 0:
        if exp % 2 == 1:
            result += base
        base *= base
        exp //= 2
    return result


if __name__ == "__main__":
    assert fast_power(2, 0) == 1
    assert fast_power(2, 10) == 1024
    assert fast_power(3, 1) == 3
    assert fast_power(5, 0) == 1

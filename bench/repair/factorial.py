# bug: base-case: the base case returns n instead of 1, so factorial(0) is 0 (line 5)
# kind: base-case
def factorial(n):
    if n <= 1:
        return n
    result = n * factorial(n - 1)
    return result


if __name__ == "__main__":
    assert factorial(0) == 1
    assert factorial(1) == 1
    assert factorial(5) == 120

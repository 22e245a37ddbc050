# bug: off-by-one: the range stops before n, so the n-th triangle number is missing (line 6)
# kind: off-by-one
def triangle_numbers(n):
    result = []
    total = 0
    for k in range(1, n):
        total += k
        result.append(total)
    return result


if __name__ == "__main__":
    assert triangle_numbers(0) == []
    assert triangle_numbers(1) == [1]
    assert triangle_numbers(5) == [1, 3, 6, 10, 15]

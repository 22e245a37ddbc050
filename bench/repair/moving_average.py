# bug: off-by-one: the window loop misses the last full window (line 5)
# kind: off-by-one
def moving_average(xs, k):
    averages = []
    for i in range(len(xs) - k):
        window = xs[i:i + k]
        averages.append(sum(window) / k)
    return averages


if __name__ == "__main__":
    assert moving_average([1, 2, 3, 4], 2) == [1.5, 2.5, 3.5]
    assert moving_average([1, 2], 3) == []
    assert moving_average([2, 4, 6], 3) == [4.0]

# bug: wrong-constant: a new run restarts its length at 0 instead of 1 (line 11)
# kind: wrong-constant
def longest_run(xs):
    best = 0
    current = 0
    prev = None
    for x in xs:
        if x == prev:
            current += 1
        else:
            current = 0
        prev = x
        if current > best:
            best = current
    return best


if __name__ == "__main__":
    assert longest_run([]) == 0
    assert longest_run([1, 1, 2, 2, 2, 3]) == 3
    assert longest_run([7]) == 1

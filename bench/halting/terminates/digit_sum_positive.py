# call: digit_sum(987654321)
# why: n // 10 drops one digit per call, so a positive n reaches the base case 0 after 9 calls.
def digit_sum(n):
    if n == 0:
        return 0
    return n % 10 + digit_sum(n // 10)

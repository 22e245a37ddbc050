# call: digit_sum(-42)
# why: the recursion has no base for this input: floor division sends -42 to -5 then -1, and -1 // 10 stays -1, never 0.
def digit_sum(n):
    if n == 0:
        return 0
    return n % 10 + digit_sum(n // 10)

# call: is_happy(4)
# why: 4 is unhappy: digit-square sums cycle 4 -> 16 -> 37 -> 58 -> 89 -> 145 -> 42 -> 20 -> 4 and never reach 1.
def is_happy(n):
    while n != 1:
        total = 0
        while n > 0:
            total += (n % 10) ** 2
            n //= 10
        n = total
    return True

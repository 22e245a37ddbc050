# call: reaches_one(384)
# why: under the 5n+1 map 384 halves down to 3, then 3 -> 16 -> 8 -> 4 -> 2 -> 1.
def reaches_one(n):
    while n != 1:
        if n % 2 == 0:
            n //= 2
        else:
            n = 5 * n + 1
    return True

# call: reaches_one(13)
# why: under the 5n+1 map 13 enters the cycle 13 -> 66 -> 33 -> 166 -> 83 -> 416 -> 208 -> 104 -> 52 -> 26 -> 13, which never hits 1.
def reaches_one(n):
    while n != 1:
        if n % 2 == 0:
            n //= 2
        else:
            n = 5 * n + 1
    return True

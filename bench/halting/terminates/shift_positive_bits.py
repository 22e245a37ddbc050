# call: bit_length_slow(300000)
# why: right-shifting a positive number halves it each step, reaching 0 after 19 shifts.
def bit_length_slow(n):
    bits = 0
    while n != 0:
        n = n >> 1
        bits += 1
    return bits

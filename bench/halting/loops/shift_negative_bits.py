# call: bit_length_slow(-6)
# why: arithmetic right shift of a negative number reaches -1 and stays there, so n never becomes 0.
def bit_length_slow(n):
    bits = 0
    while n != 0:
        n = n >> 1
        bits += 1
    return bits

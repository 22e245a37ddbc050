# call: count_by_threes(0, 900)
# why: 900 is a multiple of 3, so i reaches exactly 900 after 300 steps and the != test fails.
def count_by_threes(start, stop):
    i = start
    total = 0
    while i != stop:
        total += i
        i += 3
    return total

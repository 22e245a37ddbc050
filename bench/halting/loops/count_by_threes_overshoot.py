# call: count_by_threes(0, 10)
# why: i takes the values 0, 3, 6, 9, 12, ... and never equals 10, so the != test never fails.
def count_by_threes(start, stop):
    i = start
    total = 0
    while i != stop:
        total += i
        i += 3
    return total

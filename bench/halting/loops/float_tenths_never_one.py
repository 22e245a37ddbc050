# call: steps_to_one(0.1)
# why: summing 0.1 gives 0.9999999999999999 then 1.0999999999999999, so x never exactly equals 1.0.
def steps_to_one(step):
    x = 0.0
    n = 0
    while x != 1.0:
        x += step
        n += 1
    return n

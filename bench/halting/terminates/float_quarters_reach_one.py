# call: steps_to_one(0.25)
# why: 0.25 is exact in binary, so four additions give exactly 1.0 and the loop exits.
def steps_to_one(step):
    x = 0.0
    n = 0
    while x != 1.0:
        x += step
        n += 1
    return n

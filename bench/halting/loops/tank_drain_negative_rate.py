# call: drain(10, -2)
# why: with a negative rate the level grows by 2 every tick, so it never drops to 0 or below.
def drain(level, rate):
    ticks = 0
    while level > 0:
        level = level - rate
        ticks += 1
    return ticks

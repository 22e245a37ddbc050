# call: drain(100, 3)
# why: a positive rate lowers the level by 3 each tick, so it drops to 0 or below after 34 ticks.
def drain(level, rate):
    ticks = 0
    while level > 0:
        level = level - rate
        ticks += 1
    return ticks

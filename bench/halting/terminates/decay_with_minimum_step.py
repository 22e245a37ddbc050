# call: settle(500, 4)
# why: at least 1 is subtracted every round, so amount strictly decreases and reaches 0.
def settle(amount, fraction):
    rounds = 0
    while amount > 0:
        amount -= max(1, amount // fraction)
        rounds += 1
    return rounds

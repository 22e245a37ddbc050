# call: settle(100, 4)
# why: once amount drops to 3, amount // 4 is 0 so nothing is subtracted and amount stays 3 forever.
def settle(amount, fraction):
    rounds = 0
    while amount > 0:
        amount -= amount // fraction
        rounds += 1
    return rounds

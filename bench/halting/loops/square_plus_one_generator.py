# call: wait_for_value(3, 4)
# why: the generator orbit from 3 is 3 -> 0 -> 1 -> 2 -> 5 -> 6 -> 7 -> 0, a cycle that never produces 4.
def next_seed(x):
    return (x * x + 1) % 10


def wait_for_value(seed, target):
    draws = 0
    while seed != target:
        seed = next_seed(seed)
        draws += 1
    return draws

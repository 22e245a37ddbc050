# call: wait_for_value(3, 7)
# why: the generator orbit from 3 is 3 -> 0 -> 1 -> 2 -> 5 -> 6 -> 7, so 7 is produced after six draws.
def next_seed(x):
    return (x * x + 1) % 10


def wait_for_value(seed, target):
    draws = 0
    while seed != target:
        seed = next_seed(seed)
        draws += 1
    return draws

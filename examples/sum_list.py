def sum_list(xs):
    total = 0
    for x in xs:
        total += x
    return total

def main():  # << START_OF_TRACE
    return sum_list([1, 2, 3])

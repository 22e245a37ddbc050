# call: rotations_to_sort((4, 5, 6, 0, 1, 2, 3))
# why: the tuple is a rotation of a sorted sequence, so after four rotations it is sorted.
def rotations_to_sort(seq):
    count = 0
    while list(seq) != sorted(seq):
        seq = seq[1:] + seq[:1]
        count += 1
    return count

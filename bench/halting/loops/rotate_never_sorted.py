# call: rotations_to_sort((3, 1, 2, 0))
# why: none of the four rotations of (3, 1, 2, 0) is sorted, so rotating just cycles through them forever.
def rotations_to_sort(seq):
    count = 0
    while list(seq) != sorted(seq):
        seq = seq[1:] + seq[:1]
        count += 1
    return count

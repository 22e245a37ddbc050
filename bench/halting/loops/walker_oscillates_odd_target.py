# call: walk_to(0, 7, 2)
# why: with stride 2 from 0 the position is always even, so it bounces between 6 and 8 and never hits 7.
def walk_to(pos, target, stride):
    moves = 0
    while pos != target:
        if pos < target:
            pos += stride
        else:
            pos -= stride
        moves += 1
    return moves

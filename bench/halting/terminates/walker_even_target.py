# call: walk_to(0, 40, 2)
# why: stepping by 2 from 0 reaches the even target 40 exactly after 20 moves.
def walk_to(pos, target, stride):
    moves = 0
    while pos != target:
        if pos < target:
            pos += stride
        else:
            pos -= stride
        moves += 1
    return moves

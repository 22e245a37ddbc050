# call: find_slot((4, 8, 15, 16), 23)
# why: 23 is not in the ring, and the index wraps around modulo 4, so the scan cycles forever.
def find_slot(ring, key):
    i = 0
    while ring[i] != key:
        i = (i + 1) % len(ring)
    return i

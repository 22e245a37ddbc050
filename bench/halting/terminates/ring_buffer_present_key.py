# call: find_slot((4, 8, 15, 16, 23, 42), 23)
# why: 23 is in the ring at index 4, so the scan finds it before wrapping around.
def find_slot(ring, key):
    i = 0
    while ring[i] != key:
        i = (i + 1) % len(ring)
    return i

# call: list_length({"a": "b", "b": "c", "c": "d", "d": "b"}, "a")
# why: the next-pointers form the cycle b -> c -> d -> b, so node never becomes None.
def list_length(nxt, head):
    length = 0
    node = head
    while node is not None:
        length += 1
        node = nxt.get(node)
    return length

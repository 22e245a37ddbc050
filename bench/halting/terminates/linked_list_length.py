# call: list_length({"a": "b", "b": "c", "c": "d", "d": "e", "e": None}, "a")
# why: the next-pointers end at "e" whose successor is None, so the walk stops after five nodes.
def list_length(nxt, head):
    length = 0
    node = head
    while node is not None:
        length += 1
        node = nxt.get(node)
    return length

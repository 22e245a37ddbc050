# call: has_cycle({"a": "b", "b": "c", "c": "d", "d": "b"}, "a")
# why: the fast pointer gains one node per step on the slow one, so they meet inside the cycle and the loop returns.
def has_cycle(nxt, head):
    slow = head
    fast = head
    while fast is not None and nxt.get(fast) is not None:
        slow = nxt[slow]
        fast = nxt[nxt[fast]]
        if slow == fast:
            return True
    return False

# call: depth({"a": ("b", "c"), "b": ("d",), "d": ("a",)}, "a")
# why: the recursion has no base for this input: the edge d -> a closes a cycle a -> b -> d -> a that never reaches a leaf.
def depth(tree, node):
    children = tree.get(node, ())
    if not children:
        return 1
    best = 0
    for child in children:
        best = max(best, depth(tree, child))
    return 1 + best

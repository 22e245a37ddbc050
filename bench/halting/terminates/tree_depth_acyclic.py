# call: depth({"a": ("b", "c"), "b": ("d", "e"), "c": ("f",), "d": ("g",), "f": ("h",), "h": ("i",)}, "a")
# why: the graph is a tree, so every path ends at a leaf and each recursive call goes one level deeper.
def depth(tree, node):
    children = tree.get(node, ())
    if not children:
        return 1
    best = 0
    for child in children:
        best = max(best, depth(tree, child))
    return 1 + best

# bug: boolean: the membership test is missing its not, so nothing is ever kept (line 7)
# kind: boolean
def dedupe_keep_order(xs):
    seen = set()
    result = []
    for x in xs:
        if x in seen:
            seen.add(x)
            result.append(x)
    return result


if __name__ == "__main__":
    assert dedupe_keep_order([]) == []
    assert dedupe_keep_order([1, 2, 1, 3, 2]) == [1, 2, 3]
    assert dedupe_keep_order(["a", "a"]) == ["a"]

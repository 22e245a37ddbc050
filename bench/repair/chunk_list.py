# bug: off-by-one: the slice end drops the last item of every chunk (line 6)
# kind: off-by-one
def chunk_list(xs, size):
    chunks = []
    for start in range(0, len(xs), size):
        chunks.append(xs[start:start + size - 1])
    return chunks


if __name__ == "__main__":
    assert chunk_list([], 2) == []
    assert chunk_list([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert chunk_list([1, 2, 3], 1) == [[1], [2], [3]]
    assert chunk_list(["a", "b", "c", "d"], 4) == [["a", "b", "c", "d"]]

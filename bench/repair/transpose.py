# bug: wrong-variable: the inner loop runs over cols instead of rows (line 11)
# kind: wrong-variable
def transpose(matrix):
    if not matrix:
        return []
    rows = len(matrix)
    cols = len(matrix[0])
    result = []
    for c in range(cols):
        new_row = []
        for r in range(cols):
            new_row.append(matrix[r][c])
        result.append(new_row)
    return result


if __name__ == "__main__":
    assert transpose([]) == []
    assert transpose([[1, 2], [3, 4]]) == [[1, 3], [2, 4]]
    assert transpose([[1], [2], [3]]) == [[1, 2, 3]]

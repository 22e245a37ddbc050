# bug: swapped-arguments: format_run is called with count and current swapped inside the loop (line 17)
# kind: swapped-arguments
def format_run(ch, count):
    return "{}{}".format(ch, count)


def run_length_encode(s):
    if not s:
        return ""
    parts = []
    current = s[0]
    count = 1
    for ch in s[1:]:
        if ch == current:
            count += 1
        else:
            parts.append(format_run(count, current))
            current = ch
            count = 1
    parts.append(format_run(current, count))
    return "".join(parts)


if __name__ == "__main__":
    assert run_length_encode("") == ""
    assert run_length_encode("aaa") == "a3"
    assert run_length_encode("aaabcc") == "a3b1c2"
    assert run_length_encode("abc") == "a1b1c1"

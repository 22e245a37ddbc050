# bug: missing-return: the joined title is computed but not returned (line 11)
# kind: missing-return
def title_case(text):
    small = {"a", "an", "the", "of", "and", "in"}
    words = text.lower().split()
    if not words:
        return ""
    out = [words[0].capitalize()]
    for w in words[1:]:
        out.append(w if w in small else w.capitalize())
    " ".join(out)


if __name__ == "__main__":
    assert title_case("") == ""
    assert title_case("the lord of the rings") == "The Lord of the Rings"
    assert title_case("HELLO world") == "Hello World"

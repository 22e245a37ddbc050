# call: strip_pairs("abc")
# why: the recursion has no base for this input: the ends never match, so the string just rotates abc -> bca -> cab -> abc.
def strip_pairs(s):
    if s == "":
        return 0
    if s[0] == s[-1]:
        return 1 + strip_pairs(s[1:-1])
    return strip_pairs(s[1:] + s[0])

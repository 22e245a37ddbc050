# call: strip_pairs("racecar")
# why: the ends of a palindrome always match, so each call removes two characters until a length-1 string reduces to "".
def strip_pairs(s):
    if s == "":
        return 0
    if s[0] == s[-1]:
        return 1 + strip_pairs(s[1:-1])
    return strip_pairs(s[1:] + s[0])

def f(text, n):
    words = text.split()
    out = []
    for w in words:
        if len(w) > n:
            out.append(w.upper())
    return ' '.join(out)

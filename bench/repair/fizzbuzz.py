# bug: boolean: the FizzBuzz test uses or instead of and (line 6)
# kind: boolean
def fizzbuzz(n):
    words = []
    for i in range(1, n + 1):
        if i % 3 == 0 or i % 5 == 0:
            words.append("FizzBuzz")
        elif i % 3 == 0:
            words.append("Fizz")
        elif i % 5 == 0:
            words.append("Buzz")
        else:
            words.append(str(i))
    return " ".join(words)


if __name__ == "__main__":
    assert fizzbuzz(2) == "1 2"
    assert fizzbuzz(5) == "1 2 Fizz 4 Buzz"
    assert fizzbuzz(15) == "1 2 Fizz 4 Buzz Fizz 7 8 Fizz Buzz 11 Fizz 13 14 FizzBuzz"
    assert fizzbuzz(1) == "1"

"""Binds argument text to a function's parameters WITHOUT running any of the program.

The predicting side needs the entry's call frame (its arguments as locals) when the entry function
itself carries the START_OF_TRACE mark; otherwise the model invents arguments. Only the source is
parsed: the arguments and any defaults they leave unused must be Python literals (ast.literal_eval),
so nothing of the user's code executes. Reads {"source", "function", "args"} as JSON on stdin;
writes {"locals": [[name, repr], ...]} or {"error": message} as JSON on stdout.
"""
import ast
import inspect
import json
import sys

P = inspect.Parameter


class BindError(Exception):
    pass


def literal(node, what, text):
    """The value of a literal expression; `text` is the source `node` was parsed from."""
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise BindError("%s is not a Python literal (%s): predicting binds arguments without running any code"
                        % (what, ast.get_source_segment(text, node) or "?"))


def find_function(tree, name):
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return node
    raise BindError("no top-level function named %s" % name)


def signature(fn, source):
    args = fn.args
    positional = list(getattr(args, "posonlyargs", [])) + list(args.args)
    kinds = [P.POSITIONAL_ONLY] * len(getattr(args, "posonlyargs", [])) + [P.POSITIONAL_OR_KEYWORD] * len(args.args)
    defaults = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    params = []
    for arg, kind, default in zip(positional, kinds, defaults):
        params.append(P(arg.arg, kind, default=P.empty if default is None else Deferred(default, arg.arg, source)))
    if args.vararg:
        params.append(P(args.vararg.arg, P.VAR_POSITIONAL))
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        params.append(P(arg.arg, P.KEYWORD_ONLY, default=P.empty if default is None else Deferred(default, arg.arg, source)))
    if args.kwarg:
        params.append(P(args.kwarg.arg, P.VAR_KEYWORD))
    return inspect.Signature(params)


class Deferred:
    """A default value, evaluated only if the call leaves the parameter unbound."""

    def __init__(self, node, name, source):
        self.node = node
        self.name = name
        self.source = source

    def value(self):
        return literal(self.node, "the default of %s" % self.name, self.source)


def bind(source, function, args_text):
    tree = ast.parse(source)
    fn = find_function(tree, function)
    call_text = "f(%s)" % args_text
    try:
        call = ast.parse(call_text, mode="eval").body
    except SyntaxError as error:
        raise BindError("the arguments are not valid Python: %s" % error.msg)
    positional = []
    for node in call.args:
        if isinstance(node, ast.Starred):
            positional.extend(literal(node.value, "a *argument", call_text))
        else:
            positional.append(literal(node, "argument %d" % (len(positional) + 1), call_text))
    keywords = {}
    for node in call.keywords:
        if node.arg is None:
            keywords.update(literal(node.value, "a **argument", call_text))
        else:
            keywords[node.arg] = literal(node.value, "argument %s" % node.arg, call_text)
    try:
        bound = signature(fn, source).bind(*positional, **keywords)
    except TypeError as error:
        raise BindError("%s(%s): %s" % (function, args_text, error))
    bound.apply_defaults()
    result = []
    for name, value in bound.arguments.items():
        if isinstance(value, Deferred):
            value = value.value()
        result.append([name, repr(value)])
    return result


def main():
    request = json.loads(sys.stdin.read())
    try:
        answer = {"locals": bind(request["source"], request["function"], request["args"])}
    except BindError as error:
        answer = {"error": str(error)}
    except SyntaxError as error:
        answer = {"error": "the program is not valid Python (line %s: %s)" % (error.lineno, error.msg)}
    sys.stdout.write(json.dumps(answer))


main()

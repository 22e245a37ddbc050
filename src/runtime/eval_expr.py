"""Evaluates debugger expressions (breakpoint conditions, log messages, watches) over a frame's locals
WITHOUT running any of the program: it also serves untrusted workspaces and model-predicted frames.

The locals arrive as repr text. Literal reprs become real values; anything else becomes an opaque
stand-in. An expression is checked against a whitelist of syntax before it is compiled, and it runs
with no builtins but a few pure ones, so it can only compute over those values: it cannot import,
open files, reach dunder attributes or call anything but whitelisted functions and methods.

Protocol: JSON lines. On start it writes {"ready": true}. Each request {"id", "expr", "locals":
[[name, repr], ...]} gets {"id", "ok": true, "value": repr, "truthy": bool} or {"id", "ok": false,
"error": message}. Time is limited by the parent, which kills this process; memory is limited here.
"""
import ast
import builtins
import json
import re
import sys

MAX_RESULT = 1000
MEMORY_LIMIT = 1 << 30
TRUNCATED = re.compile(r"\.\.\.<\+\d+ chars>$")

SAFE_BUILTINS = dict((name, getattr(builtins, name)) for name in (
    "len", "abs", "min", "max", "sum", "sorted", "reversed", "any", "all", "str", "int", "float", "bool",
    "repr", "round", "list", "tuple", "set", "dict", "range", "enumerate", "zip", "ord", "chr",
))

# Methods of str/list/tuple/dict/set that neither mutate nor reach beyond their object.
SAFE_METHODS = frozenset((
    "count", "index", "find", "rfind", "startswith", "endswith", "upper", "lower", "strip", "lstrip",
    "rstrip", "split", "rsplit", "join", "replace", "isdigit", "isalpha", "isalnum", "isspace", "islower",
    "isupper", "keys", "values", "items", "get", "copy", "union", "intersection", "difference",
    "issubset", "issuperset",
))

# Generators, frames, code and tracebacks expose the interpreter's internals under plain names
# (gen.gi_frame.f_back...); nothing a condition needs lives there.
INTROSPECTION_PREFIXES = ("gi_", "cr_", "ag_", "f_", "co_", "tb_")


def _node_types(*names):
    return tuple(getattr(ast, name) for name in names)


ALLOWED = _node_types(
    "Expression", "BoolOp", "And", "Or", "BinOp", "Add", "Sub", "Mult", "MatMult", "Div", "FloorDiv", "Mod",
    "Pow", "LShift", "RShift", "BitOr", "BitXor", "BitAnd", "UnaryOp", "Not", "Invert", "UAdd", "USub",
    "Compare", "Eq", "NotEq", "Lt", "LtE", "Gt", "GtE", "Is", "IsNot", "In", "NotIn", "IfExp", "Name",
    "Load", "Store", "Constant", "Tuple", "List", "Set", "Dict", "Subscript", "Slice", "JoinedStr",
    "FormattedValue", "ListComp", "SetComp", "DictComp", "GeneratorExp", "comprehension", "Attribute", "Call",
    "keyword",
)
if sys.version_info < (3, 9):  # later versions put the slice itself in Subscript.slice
    ALLOWED += _node_types("Index", "ExtSlice")

REFUSED_NAMES = {
    "Lambda": "lambda",
    "NamedExpr": "assignment expressions (:=)",
    "Starred": "* unpacking",
    "Await": "await",
    "Yield": "yield",
    "YieldFrom": "yield",
}


class Refused(Exception):
    pass


def refuse(what):
    raise Refused("not allowed in a debugger expression: " + what)


def check(tree):
    # ast.walk is iterative: a deeply nested expression cannot overflow the stack here.
    for node in ast.walk(tree):
        if not isinstance(node, ALLOWED):
            kind = type(node).__name__
            refuse(REFUSED_NAMES.get(kind, kind))
        if isinstance(node, ast.Name):
            if node.id.startswith("__"):
                refuse("the name " + node.id)
            # A comprehension variable named len could hold any callable that len(...) then calls.
            if isinstance(node.ctx, ast.Store) and node.id in SAFE_BUILTINS:
                refuse("a comprehension variable named " + node.id)
        elif isinstance(node, ast.Attribute):
            if node.attr.startswith("_") or node.attr.startswith(INTROSPECTION_PREFIXES):
                refuse("the attribute " + node.attr)
            if not isinstance(node.ctx, ast.Load):
                refuse("assigning to an attribute")
        elif isinstance(node, ast.Subscript):
            if not isinstance(node.ctx, ast.Load):
                refuse("assigning to an item")
        elif isinstance(node, ast.Call):
            check_call(node)
        elif isinstance(node, ast.keyword):
            if node.arg is None:
                refuse("** unpacking")
            if node.arg.startswith("__"):
                refuse("the keyword " + node.arg)
            if node.arg == "key" and not is_safe_callable(node.value):
                refuse("key functions other than the whitelisted builtins and methods")
        elif isinstance(node, ast.Dict):
            if any(key is None for key in node.keys):
                refuse("** unpacking")
        elif isinstance(node, ast.comprehension):
            if node.is_async:
                refuse("async comprehensions")


def is_safe_callable(node):
    # sorted/min/max call their key= on each item: the one way to call something without a Call node.
    if isinstance(node, ast.Name):
        return node.id in SAFE_BUILTINS
    if isinstance(node, ast.Attribute):
        return node.attr in SAFE_METHODS
    return isinstance(node, ast.Constant) and node.value is None


def check_call(node):
    func = node.func
    if isinstance(func, ast.Name):
        if func.id not in SAFE_BUILTINS:
            refuse("calls to " + func.id)
    elif isinstance(func, ast.Attribute):
        if func.attr not in SAFE_METHODS:
            refuse("calls to the method " + func.attr)
    else:
        refuse("calls to anything but a builtin function or method")


class Opaque(object):
    """A value whose repr is not a literal: it is its repr, and equals only the same repr."""

    __slots__ = ("_text",)

    def __init__(self, text):
        self._text = text

    def __repr__(self):
        return self._text

    __str__ = __repr__

    def __eq__(self, other):
        return type(other) is Opaque and other._text == self._text

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self._text)


def from_repr(text):
    if TRUNCATED.search(text):
        return Opaque(text)
    try:
        return literal(ast.parse(text.strip(), mode="eval").body)
    except (SyntaxError, ValueError, TypeError, MemoryError, RecursionError, OverflowError):
        return Opaque(text)


def literal(node):
    """ast.literal_eval, plus what repr() writes for values that have no literal: inf, nan, set()."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Tuple):
        return tuple(literal(item) for item in node.elts)
    if isinstance(node, ast.List):
        return [literal(item) for item in node.elts]
    if isinstance(node, ast.Set):
        return set(literal(item) for item in node.elts)
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise ValueError("** in a dict")
        return dict((literal(key), literal(value)) for key, value in zip(node.keys, node.values))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = literal(node.operand)
        if type(operand) not in (int, float, complex):
            raise ValueError("sign of a non-number")
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
        # Complex numbers print as (1+2j): a real part and an imaginary one, nothing else.
        left, right = literal(node.left), literal(node.right)
        if type(left) not in (int, float) or type(right) is not complex:
            raise ValueError("not a complex number")
        return left + right if isinstance(node.op, ast.Add) else left - right
    if isinstance(node, ast.Name) and node.id in ("inf", "nan"):
        return float(node.id)
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("set", "frozenset")
            and not node.keywords and len(node.args) <= 1):
        items = literal(node.args[0]) if node.args else ()
        return set(items) if node.func.id == "set" else frozenset(items)
    raise ValueError("not a literal")


def describe(error):
    if isinstance(error, SyntaxError):
        return "SyntaxError: %s" % error.msg
    text = str(error)
    return "%s: %s" % (type(error).__name__, text) if text else type(error).__name__


def evaluate(expression, local_pairs):
    expression = expression.strip()
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as error:
        return {"ok": False, "error": describe(error)}
    check(tree)
    code = compile(tree, "<expression>", "eval")
    namespace = {"__builtins__": {}}
    namespace.update(SAFE_BUILTINS)
    for name, text in local_pairs:
        # A dunder local could replace __builtins__; no accepted expression can name one anyway.
        if not name.startswith("__"):
            namespace[name] = from_repr(text)
    value = eval(code, namespace)
    text = repr(value)
    if len(text) > MAX_RESULT:
        text = "%s...<+%d chars>" % (text[:MAX_RESULT], len(text) - MAX_RESULT)
    return {"ok": True, "value": text, "truthy": bool(value)}


def answer(request):
    try:
        reply = evaluate(request["expr"], request["locals"])
    except Refused as refused:
        reply = {"ok": False, "error": str(refused)}
    except Exception as error:  # MemoryError and RecursionError included: the helper lives on
        reply = {"ok": False, "error": describe(error)}
    reply["id"] = request.get("id")
    return reply


def limit_memory():
    if not sys.platform.startswith("linux"):
        return
    try:
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, ValueError, OSError):
        pass


def send(message):
    # ASCII JSON: the pipe's encoding never matters.
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def main():
    limit_memory()
    send({"ready": True})
    stdin = sys.stdin.buffer
    while True:
        line = stdin.readline()
        if not line:
            return
        if not line.strip():
            continue
        try:
            request = json.loads(line.decode("utf-8"))
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except ValueError as error:
            send({"id": None, "ok": False, "error": "bad request: %s" % error})
            continue
        send(answer(request))


main()

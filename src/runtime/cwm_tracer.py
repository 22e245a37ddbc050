"""Records what a Python program really does, in the shape of CWM's execution traces.

Started by the TypeScript side (src/runtime/tracer.ts) as

    python -c BOOTSTRAP cwm_tracer.py JOB.json

JOB.json names the program file, the exact source to run (the CWM prompt source, which may wrap the
user's file), the function to call and with which argument text, and the limits.

Messages go to the process's ORIGINAL stdout, one JSON object per line. The program's own stdout and
stderr are redirected: Python-level writes become "o" messages tagged with the step they happened in;
writes straight to file descriptor 1 or 2 (C code, child processes) land on the process's stderr, which
the TypeScript side reads as raw output.

    {"t": "start", "python": "3.11.7", "impl": "cpython"}
    {"t": "f", "e": "call"|"line"|"return"|"exception", "ln": LINE, "src": TEXT, "fn": NAME,
     "d": DEPTH, "a": ACTIVATION, "loc": [[NAME, REPR or null], ...], "v": REPR, "x": EXC_TYPE,
     "unw": true, "file": PATH}
    {"t": "o", "n": STEP, "s": "out"|"err", "x": TEXT}
    {"t": "end", "r": REASON, "m": MESSAGE, "tb": TRACEBACK}

"loc" is present on call and line frames and lists the locals in frame.f_locals order; a null repr
means "unchanged since this activation's previous frame" (a protocol saving; the CWM text's own ".."
is decided on the TypeScript side). "v" is the repr of a returned value or of a raised exception.
"unw" marks a return event caused by an exception leaving the frame (CPython reports None as its value).
"file" appears only for frames outside the traced program (trace scopes "user" and "all").

End reasons: returned, raised, max-steps, timeout, max-output, max-depth, error.
"""

import json
import os
import sys
import threading
import time
import traceback
import types

PROTOCOL_FLUSH_SECONDS = 0.05
COMPREHENSION_NAMES = frozenset(("<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>"))


class Channel(object):
    """Buffered, thread-safe writer of protocol lines to the saved stdout descriptor."""

    def __init__(self, fd):
        self.fd = fd
        self.lock = threading.Lock()
        self.parts = []
        self.size = 0
        self.last_flush = time.monotonic()
        self.closed = False

    def send(self, message):
        line = json.dumps(message, ensure_ascii=True) + "\n"
        with self.lock:
            if self.closed:
                return
            self.parts.append(line)
            self.size += len(line)
            if self.size > 65536 or time.monotonic() - self.last_flush > PROTOCOL_FLUSH_SECONDS:
                self._flush_locked()

    def flush(self):
        with self.lock:
            self._flush_locked()

    def _flush_locked(self):
        self.last_flush = time.monotonic()
        if not self.parts or self.closed:
            return
        data = "".join(self.parts).encode("ascii")
        self.parts = []
        self.size = 0
        try:
            view = memoryview(data)
            while view:
                written = os.write(self.fd, view)
                view = view[written:]
        except OSError:
            # The reader is gone (the debugger stopped): nobody wants the rest of this run.
            self.closed = True
            os._exit(1)

    def finish(self, message, exit_code):
        """Sends the last message and ends the process at once, from any thread."""
        with self.lock:
            if not self.closed:
                self.parts.append(json.dumps(message, ensure_ascii=True) + "\n")
                self._flush_locked()
                self.closed = True
        os._exit(exit_code)


class Limits(object):
    def __init__(self, raw):
        self.max_steps = int(raw.get("maxSteps", 10000))
        self.timeout = float(raw.get("timeoutSeconds", 30.0))
        self.max_repr = int(raw.get("maxReprLength", 1000))
        self.max_output = int(raw.get("maxOutputBytes", 1 << 20))
        self.max_depth = int(raw.get("maxDepth", 500))


class OutputCapture(object):
    """Stands in for sys.stdout / sys.stderr: every write becomes a message tagged with its step."""

    def __init__(self, tracer, stream):
        self._tracer = tracer
        self._stream = stream
        self.encoding = "utf-8"
        self.errors = "backslashreplace"
        self.buffer = _BinaryCapture(self)

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        self._tracer.program_output(self._stream, text)
        return len(text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def readable(self):
        return False

    def writable(self):
        return True

    def seekable(self):
        return False

    def fileno(self):
        import io
        raise io.UnsupportedOperation("the traced program's output is captured and has no file descriptor")

    @property
    def closed(self):
        return False


class _BinaryCapture(object):
    def __init__(self, text):
        self._text = text

    def write(self, data):
        self._text.write(bytes(data).decode("utf-8", "backslashreplace"))
        return len(data)

    def flush(self):
        pass


class Activation(object):
    """One running call of a traced function: its identity and the locals it last reported."""

    __slots__ = ("tracer", "ident", "depth", "name", "reprs", "last_event")

    def __init__(self, tracer, ident, depth, name):
        self.tracer = tracer
        self.ident = ident
        self.depth = depth
        self.name = name
        self.reprs = {}
        self.last_event = "call"

    def trace(self, frame, event, arg):
        tracer = self.tracer
        if event == "line":
            tracer.emit(self, frame, "line", None)
        elif event == "return":
            unwinding = self.last_event == "exception"
            tracer.emit(self, frame, "return", arg, unwinding)
            tracer.depth -= 1
        elif event == "exception":
            tracer.emit(self, frame, "exception", arg)
        self.last_event = event
        return self.trace


class Tracer(object):
    def __init__(self, channel, job):
        self.channel = channel
        self.limits = Limits(job.get("limits", {}))
        self.program = os.path.abspath(job["program"])
        self.source_lines = job["source"].splitlines()
        self.scope = job.get("scope", "program")
        self.steps = 0
        self.depth = 0
        self.next_ident = 0
        self.output_bytes = 0
        self.started = time.monotonic()
        self.def_lines = {}
        self.skip_prefixes = _library_prefixes() if self.scope == "user" else ()

    # -- which code is traced ------------------------------------------------------------------

    def wants(self, code):
        if code.co_name in COMPREHENSION_NAMES:
            return False
        filename = code.co_filename
        if filename == self.program:
            return True
        if self.scope == "program" or filename.startswith("<"):
            return False
        if self.scope == "all":
            return filename != __file__
        return filename != __file__ and not filename.startswith(self.skip_prefixes)

    def global_trace(self, frame, event, arg):
        if event != "call" or not self.wants(frame.f_code):
            return None
        self.depth += 1
        if self.depth > self.limits.max_depth:
            self.stop("max-depth", "stopped at the recursion depth limit (%d nested calls)" % self.limits.max_depth)
        self.next_ident += 1
        activation = Activation(self, self.next_ident, self.depth, frame.f_code.co_name)
        self.emit(activation, frame, "call", None)
        return activation.trace

    # -- frames --------------------------------------------------------------------------------

    def emit(self, activation, frame, event, arg, unwinding=False):
        if self.steps >= self.limits.max_steps:
            self.stop("max-steps", "stopped at the step limit (%d steps)" % self.limits.max_steps)
        if (self.steps & 255) == 0 and time.monotonic() - self.started > self.limits.timeout:
            self.stop_for_time()
        code = frame.f_code
        if event == "call":
            line = self.def_line(code)
        else:
            line = frame.f_lineno
        message = {"t": "f", "e": event, "ln": line, "src": self.line_text(code.co_filename, line),
                   "fn": code.co_name, "d": activation.depth, "a": activation.ident}
        if code.co_filename != self.program:
            message["file"] = code.co_filename
        if event == "call" or event == "line":
            message["loc"] = self.locals_of(activation, frame)
        elif event == "return":
            message["v"] = self.safe_repr(arg)
            if unwinding:
                message["unw"] = True
        else:
            message["v"] = self.safe_repr(arg[1])
            message["x"] = getattr(arg[0], "__name__", "BaseException")
        self.steps += 1
        self.channel.send(message)

    def locals_of(self, activation, frame):
        previous = activation.reprs
        current = {}
        pairs = []
        for name, value in frame.f_locals.items():
            if name[:1] == ".":
                continue
            text = self.safe_repr(value)
            current[name] = text
            pairs.append([name, None if previous.get(name) == text else text])
        activation.reprs = current
        return pairs

    def safe_repr(self, value):
        try:
            text = repr(value)
            if not isinstance(text, str):
                text = "<repr returned %s>" % type(text).__name__
        except BaseException as error:  # a user __repr__ may raise anything
            text = "<repr failed: %s>" % type(error).__name__
        limit = self.limits.max_repr
        if len(text) > limit:
            text = "%s...<+%d chars>" % (text[:limit], len(text) - limit)
        return text

    def def_line(self, code):
        """The def line of a function: CWM's call frames show it, not the decorator line CPython reports."""
        found = self.def_lines.get(code)
        if found is None:
            found = code.co_firstlineno
            if code.co_name != "<lambda>":
                for offset in range(0, 200):
                    text = self.line_text(code.co_filename, code.co_firstlineno + offset).lstrip()
                    if text.startswith("def ") or text.startswith("async def ") or text.startswith("class "):
                        found = code.co_firstlineno + offset
                        break
                    if not text.startswith("@") and offset > 0 and text and not text.startswith("#"):
                        break
            self.def_lines[code] = found
        return found

    def line_text(self, filename, line):
        if filename == self.program:
            lines = self.source_lines
            return lines[line - 1] if 0 < line <= len(lines) else ""
        import linecache
        return linecache.getline(filename, line).rstrip("\r\n")

    # -- output and limits ---------------------------------------------------------------------

    def program_output(self, stream, text):
        if not text:
            return
        size = len(text.encode("utf-8", "surrogatepass"))
        room = self.limits.max_output - self.output_bytes
        if size > room:
            if room > 0:
                self.channel.send({"t": "o", "n": self.steps - 1, "s": stream, "x": text[:room]})
            self.stop("max-output", "stopped at the output limit (%d bytes)" % self.limits.max_output)
        self.output_bytes += size
        self.channel.send({"t": "o", "n": self.steps - 1, "s": stream, "x": text})

    def stop_for_time(self):
        self.stop("timeout", "stopped at the time limit (%g s)" % self.limits.timeout)

    def stop(self, reason, message):
        sys.settrace(None)
        self.channel.finish({"t": "end", "r": reason, "m": message, "steps": self.steps}, 0)


def _library_prefixes():
    import sysconfig
    prefixes = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        try:
            prefixes.add(os.path.abspath(sysconfig.get_paths()[key]))
        except KeyError:
            pass
    for path in (sys.prefix, sys.base_prefix, sys.exec_prefix):
        prefixes.add(os.path.abspath(os.path.join(path, "lib")))
    return tuple(prefixes)


def _watchdog(tracer):
    """Flushes streamed frames while the program runs, and enforces the wall-clock limit even when
    the program produces no trace events (a long call into C, a sleep)."""
    while True:
        time.sleep(PROTOCOL_FLUSH_SECONDS)
        tracer.channel.flush()
        if time.monotonic() - tracer.started > tracer.limits.timeout:
            tracer.stop_for_time()


def _split_call(args_text, namespace):
    """Evaluates the argument text the way a call would, without tracing anything."""
    collect = eval("lambda *a, **k: (a, k)", {})
    return eval(compile("__collect__(%s\n)" % args_text, "<arguments>", "eval"), dict(namespace, __collect__=collect))


def run(job_path):
    with open(job_path, "r", encoding="utf-8") as handle:
        job = json.load(handle)

    protocol_fd = os.dup(1)
    os.dup2(2, 1)  # raw writes to fd 1 must not corrupt the protocol
    channel = Channel(protocol_fd)
    channel.send({"t": "start", "python": "%d.%d.%d" % sys.version_info[:3],
                  "impl": sys.implementation.name})

    tracer = Tracer(channel, job)
    sys.stdout = OutputCapture(tracer, "out")
    sys.stderr = OutputCapture(tracer, "err")
    program = tracer.program
    sys.argv = [program]
    sys.path[0] = os.path.dirname(program)

    def fail(message, detail=None):
        end = {"t": "end", "r": "error", "m": message, "steps": tracer.steps}
        if detail:
            end["tb"] = detail
        channel.finish(end, 0)

    try:
        code = compile(job["source"], program, "exec")
    except SyntaxError as error:
        fail("the program does not compile: %s (line %s)" % (error.msg, error.lineno),
             "".join(traceback.format_exception_only(type(error), error)))

    module = types.ModuleType(job.get("moduleName", "__cwm_program__"))
    module.__file__ = program
    sys.modules[module.__name__] = module
    threading.Thread(target=_watchdog, args=(tracer,), daemon=True).start()

    try:
        exec(code, module.__dict__)
    except BaseException as error:
        fail("the program failed while it was being loaded, before the entry function ran: %s"
             % _describe(error), traceback.format_exc())

    call = job["call"]
    function = module.__dict__.get(call["function"])
    if not isinstance(function, types.FunctionType):
        fail("no function named %r is defined at the top level of the program" % call["function"])
    try:
        positional, keywords = _split_call(call.get("args") or "", module.__dict__)
    except BaseException as error:
        fail("the arguments %r cannot be evaluated: %s" % (call.get("args"), _describe(error)),
             traceback.format_exc())

    sys.settrace(tracer.global_trace)
    try:
        function(*positional, **keywords)
        reason, message, detail = "returned", "the entry function returned", None
    except BaseException as error:
        reason = "raised"
        message = "the entry function raised %s" % _describe(error)
        detail = traceback.format_exc()
    finally:
        sys.settrace(None)
    sys.stdout.flush()
    end = {"t": "end", "r": reason, "m": message, "steps": tracer.steps}
    if detail:
        end["tb"] = detail
    channel.send(end)
    channel.flush()
    # Leave through the normal exit path so that the program's open files get flushed; the reader
    # already has everything it needs.


def _describe(error):
    text = "%s: %s" % (type(error).__name__, error) if str(error) else type(error).__name__
    return text if len(text) <= 300 else text[:300] + "..."


if __name__ == "__main__":
    run(sys.argv[1])

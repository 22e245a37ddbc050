"""Records what a Python program really does, in the shape of CWM's execution traces.

Started by the TypeScript side (src/runtime/tracer.ts) as

    python -c BOOTSTRAP cwm_tracer.py JOB.json

JOB.json names the program file, the exact source to run (the CWM prompt source, which may wrap the
user's file), the function to call and with which argument text, and the limits.

Messages go to the process's ORIGINAL stdout, one JSON object per line. The program's own stdout and
stderr are redirected: Python-level writes become "o" messages tagged with the step they happened in;
writes straight to file descriptor 1 or 2 (C code, child processes) go through a pipe that a thread of
this process reads, and become "raw" messages tagged with the step running when they were read (they
can lag the write by the few steps that run before that thread gets the GIL).

    {"t": "start", "python": "3.11.7", "impl": "cpython"}
    {"t": "f", "e": "call"|"line"|"return"|"exception", "ln": LINE, "fn": NAME, "d": DEPTH,
     "a": ACTIVATION, "loc": [[NAME, REPR or null], ...], "v": REPR, "x": EXC_TYPE, "unw": true,
     "file": PATH, "src": TEXT}
    {"t": "o", "n": STEP, "s": "out"|"err"|"raw", "x": TEXT}
    {"t": "end", "r": REASON, "m": MESSAGE, "tb": TRACEBACK}

"loc" is present on call and line frames and lists the locals in frame.f_locals order; a null repr
means "unchanged since this activation's previous frame" (a protocol saving; the CWM text's own ".."
is decided on the TypeScript side). "v" is the repr of a returned value or of a raised exception.
"unw" marks a return event caused by an exception leaving the frame (CPython reports None as its value).
"file" and "src" (the line's text) appear only for frames outside the traced program (trace scopes
"user" and "all"); for the program itself the reader has the source and looks the line up.

End reasons: returned, raised, max-steps, timeout, max-output, max-depth, error.
"""

import collections
import json
import os
import sys
import threading
import time
import traceback
import types
from json.encoder import encode_basestring_ascii as _json_string

# The interpreter's own settrace: the program's sys.settrace is guarded while it runs (see main).
_SETTRACE = sys.settrace

PROTOCOL_FLUSH_SECONDS = 0.05
COMPREHENSION_NAMES = frozenset(("<listcomp>", "<dictcomp>", "<setcomp>", "<genexpr>"))
SCALAR_TYPES = frozenset((int, float, complex, bool, str, bytes, type(None)))
_MISSING = object()


class Channel(object):
    """Writes protocol lines to the saved stdout descriptor, for the program's thread, the watchdog
    and the raw-output pump. Queuing a frame takes no lock (deque.append is atomic in CPython): it is
    the hot path. Writing, and the coalescing of program output, take the lock."""

    def __init__(self, fd):
        self.fd = fd
        self.lock = threading.Lock()
        self.queue = collections.deque()
        self.closed = False
        self.output = None  # [step, stream, [texts]]: writes of one step and stream become one message

    def send(self, message):
        self.send_line(json.dumps(message, ensure_ascii=True) + "\n")

    def send_line(self, line):
        # Activation.trace inlines this for line events.
        if self.output is not None:
            self.end_output()
        self.queue.append(line)
        if len(self.queue) > 2048:
            self.flush()

    def end_output(self):
        with self.lock:
            self._end_output_locked()

    def send_output(self, step, stream, text):
        with self.lock:
            pending = self.output
            if pending is not None and pending[0] == step and pending[1] == stream:
                pending[2].append(text)
                return
            self._end_output_locked()
            self.output = [step, stream, [text]]

    def _end_output_locked(self):
        pending = self.output
        if pending is not None:
            self.output = None
            message = {"t": "o", "n": pending[0], "s": pending[1], "x": "".join(pending[2])}
            self.queue.append(json.dumps(message, ensure_ascii=True) + "\n")

    def flush(self):
        with self.lock:
            self._flush_locked()

    def _flush_locked(self):
        self._end_output_locked()
        queue = self.queue
        lines = []
        while queue:
            lines.append(queue.popleft())
        if not lines or self.closed:
            return
        view = memoryview("".join(lines).encode("ascii"))
        try:
            while view:
                view = view[os.write(self.fd, view):]
        except OSError:
            # The reader is gone (the debugger stopped): nobody wants the rest of this run.
            self.closed = True
            os._exit(1)

    def finish(self, message, exit_code):
        """Sends the last message and ends the process at once, from any thread."""
        with self.lock:
            if not self.closed:
                self._end_output_locked()
                self.queue.append(json.dumps(message, ensure_ascii=True) + "\n")
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
        self._closed = False

    def write(self, text):
        if self._closed:
            raise ValueError("I/O operation on closed file.")
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

    def close(self):
        # As a real stream: later writes fail, the program's own handling decides what follows.
        self._closed = True

    @property
    def closed(self):
        return self._closed


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

    __slots__ = ("tracer", "ident", "depth", "reprs", "scalars", "last_event")

    def __init__(self, tracer, ident, depth):
        self.tracer = tracer
        self.ident = ident
        self.depth = depth
        self.reprs = {}  # name -> the repr last reported, for values that are not scalars
        self.scalars = {}  # name -> the value last reported, for immutable scalars
        self.last_event = "call"

    def trace(self, frame, event, arg):
        try:
            tracer = self.tracer
            if event == "line":
                # The hot path, one call per line event: built by hand from cached pieces, with only the
                # reprs going through the (C) JSON string encoder.
                if tracer.steps >= tracer.max_steps or not tracer.steps & 255:
                    tracer.check_limits()
                code = frame.f_code
                head = tracer.heads.get(code) or tracer.code_head(code)
                line = frame.f_lineno
                tracer.steps += 1
                channel = tracer.channel
                if channel.output is not None:
                    channel.end_output()
                channel.queue.append('{"t":"f","e":"line","ln":%d,%s,"d":%d,"a":%d,"loc":[%s]%s}\n' % (
                    line, head[0], self.depth, self.ident, tracer.locals_json(self, frame),
                    ',"src":' + _json_string(tracer.line_text(code.co_filename, line)) if head[1] else ""))
                if len(channel.queue) > 2048:
                    channel.flush()
                self.last_event = event
                return self.trace
            if event == "return":
                unwinding = self.last_event == "exception"
                tracer.emit(self, frame, "return", arg, unwinding)
                tracer.depth -= 1
            elif event == "exception":
                tracer.emit(self, frame, "exception", arg)
            self.last_event = event
            return self.trace
        except Exception:  # a bug here must not silently switch tracing off inside the user's program
            self.tracer.internal_error()


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
        self.heads = {}
        self.name_prefixes = {}
        self.max_steps = self.limits.max_steps
        self.max_repr = self.limits.max_repr
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
        activation = Activation(self, self.next_ident, self.depth)
        try:
            self.emit(activation, frame, "call", None)
        except Exception:
            self.internal_error()
        return activation.trace

    # -- frames --------------------------------------------------------------------------------

    def emit(self, activation, frame, event, arg, unwinding=False):
        """Call, return and exception events."""
        if self.steps >= self.max_steps or not self.steps & 255:
            self.check_limits()
        code = frame.f_code
        head = self.heads.get(code) or self.code_head(code)
        if event == "call":
            line = self.def_line(code)
            body = ',"loc":[' + self.locals_json(activation, frame) + "]"
        elif event == "return":
            line = frame.f_lineno
            body = ',"v":' + _json_string(self.safe_repr(arg)) + (',"unw":true' if unwinding else "")
        else:
            line = frame.f_lineno
            body = ',"v":' + _json_string(self.safe_repr(arg[1])) + ',"x":' + _json_string(getattr(arg[0], "__name__", "BaseException"))
        if head[1]:
            body += ',"src":' + _json_string(self.line_text(code.co_filename, line))
        self.steps += 1
        self.channel.send_line('{"t":"f","e":"%s","ln":%d,%s,"d":%d,"a":%d%s}\n' % (event, line, head[0], activation.depth, activation.ident, body))

    def check_limits(self):
        if self.steps >= self.max_steps:
            self.stop("max-steps", "stopped at the step limit (%d steps)" % self.max_steps)
        if time.monotonic() - self.started > self.limits.timeout:
            self.stop_for_time()

    def code_head(self, code):
        """The message fields fixed for a code object, and whether it lies outside the program."""
        outside = code.co_filename != self.program
        fields = '"fn":' + _json_string(code.co_name)
        if outside:
            fields += ',"file":' + _json_string(code.co_filename)
        head = self.heads[code] = (fields, outside)
        return head

    def locals_json(self, activation, frame):
        """The "loc" list of a call or line frame. A null repr tells the reader "as in this activation's
        previous frame" (transport compression only: the CWM text's ".." is decided by the reader)."""
        previous = activation.reprs
        previous_scalars = activation.scalars
        reprs = {}
        scalars = {}
        parts = []
        prefixes = self.name_prefixes
        limit = self.max_repr
        for name, value in frame.f_locals.items():
            prefix = prefixes.get(name)
            if prefix is None:
                if name[:1] == ".":  # a comprehension's hidden iterator
                    continue
                prefix = prefixes[name] = "[" + _json_string(name) + ","
            scalar = type(value) in SCALAR_TYPES
            if scalar:
                # The same immutable object has the same repr. Only such objects are remembered, so
                # the tracer keeps no user object alive.
                scalars[name] = value
                if previous_scalars.get(name, _MISSING) is value:
                    parts.append(prefix + "null]")
                    continue
            try:  # safe_repr, inlined: this runs for every local at every step
                text = repr(value)
            except BaseException as error:
                text = _failed_repr(error)
            if type(text) is not str or len(text) > limit:
                text = self.fit_repr(text)
            if not scalar:
                reprs[name] = text
                if previous.get(name) == text:
                    parts.append(prefix + "null]")
                    continue
            parts.append(prefix + _json_string(text) + "]")
        activation.reprs = reprs
        activation.scalars = scalars
        return ",".join(parts)

    def safe_repr(self, value):
        try:
            text = repr(value)
        except BaseException as error:  # a user __repr__ may raise anything
            text = _failed_repr(error)
        return self.fit_repr(text)

    def fit_repr(self, text):
        """A repr that is a str and no longer than the limit, cut visibly (the cut never touches JSON syntax:
        the whole text is still encoded as one JSON string)."""
        if type(text) is not str:
            return "<repr returned %s>" % type(text).__name__
        limit = self.max_repr
        if len(text) > limit:
            return "%s...<+%d chars>" % (text[:limit], len(text) - limit)
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
                self.channel.send_output(self.steps - 1, stream, _cut_utf8(text, room))
            self.stop("max-output", "stopped at the output limit (%d bytes)" % self.limits.max_output)
        self.output_bytes += size
        self.channel.send_output(self.steps - 1, stream, text)

    def internal_error(self):
        _SETTRACE(None)
        self.channel.finish({"t": "end", "r": "error", "m": "the tracer itself failed (please report it): %s"
                             % _describe(sys.exc_info()[1]), "tb": traceback.format_exc(), "steps": self.steps}, 0)

    def stop_for_time(self):
        self.stop("timeout", "stopped at the time limit (%g s)" % self.limits.timeout)

    def stop(self, reason, message):
        _SETTRACE(None)
        self.channel.finish({"t": "end", "r": reason, "m": message, "steps": self.steps}, 0)


def _failed_repr(error):
    return "<repr failed: %s>" % type(error).__name__


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


def _redirect_descriptors():
    """Points fd 1 and 2 at a pipe read by this process, so that writes which bypass sys.stdout (C code,
    child processes) still reach the reader in order with the frames. Returns the protocol's fd."""
    protocol_fd = os.dup(1)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 1)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    return protocol_fd, read_fd


def _pump_raw(tracer, read_fd):
    import codecs
    decoder = codecs.getincrementaldecoder("utf-8")("backslashreplace")
    while True:
        try:
            data = os.read(read_fd, 65536)
        except OSError:
            return
        text = decoder.decode(data, final=not data)
        if text:
            tracer.program_output("raw", text)
        if not data:
            return


def _release_descriptors(pump):
    """Lets the pump read to the end: once no process holds the pipe's write end, it sees EOF."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)
    pump.join(0.5)


def _split_call(args_text, namespace):
    """Evaluates the argument text the way a call would, without tracing anything."""
    collect = eval("lambda *a, **k: (a, k)", {})
    return eval(compile("__collect__(%s\n)" % args_text, "<arguments>", "eval"), dict(namespace, __collect__=collect))


def run(job_path):
    with open(job_path, "r", encoding="utf-8") as handle:
        job = json.load(handle)

    protocol_fd, raw_fd = _redirect_descriptors()
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
    pump = threading.Thread(target=_pump_raw, args=(tracer, raw_fd), daemon=True)
    pump.start()

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
    # A call that cannot even bind its arguments never starts: that is a usage error, not the program
    # raising (it would end the trace with no frame at all).
    import inspect
    try:
        inspect.signature(function).bind(*positional, **keywords)
    except TypeError as error:
        fail("%s cannot be called with %s: %s" % (call["function"], "the arguments %r" % call["args"] if call.get("args") else "no arguments", error))
    except ValueError:
        pass  # no signature to check against: the call itself will tell

    # A program that switches tracing off (or installs its own) would leave a trace that stops
    # early yet looks complete: the tracer keeps tracing, and the program's stderr says so.
    def guarded_settrace(trace_function):
        if trace_function is not tracer.global_trace:
            tracer.program_output("err", "neural-debug: the program called sys.settrace(%s); the tracer kept tracing\n"
                                  % ("None" if trace_function is None else getattr(trace_function, "__name__", "...")))

    sys.settrace = guarded_settrace
    _SETTRACE(tracer.global_trace)
    try:
        function(*positional, **keywords)
        reason, message, detail = "returned", "the entry function returned", None
    except BaseException as error:
        reason = "raised"
        message = "the entry function raised %s" % _describe(error)
        detail = traceback.format_exc()
    finally:
        _SETTRACE(None)
        sys.settrace = _SETTRACE
    _release_descriptors(pump)
    end = {"t": "end", "r": reason, "m": message, "steps": tracer.steps}
    if detail:
        end["tb"] = detail
    channel.send(end)
    channel.flush()
    # Leave through the normal exit path so that the program's open files get flushed; the reader
    # already has everything it needs.


def _cut_utf8(text, size):
    """The longest prefix of text whose UTF-8 encoding fits in size bytes."""
    return text.encode("utf-8", "surrogatepass")[:size].decode("utf-8", "ignore")


def _describe(error):
    text = "%s: %s" % (type(error).__name__, error) if str(error) else type(error).__name__
    return text if len(text) <= 300 else text[:300] + "..."


if __name__ == "__main__":
    run(sys.argv[1])

# Runs once per interpreter (and is baked into the memory snapshot). Pure Python: the bridge to
# the host is imported only when a tool is called, so nothing here holds a JavaScript reference.
import builtins as _builtins
import gc as _gc
import json as _json
import sys as _sys
import time as _time
import traceback as _traceback
import types as _types

# What the model may use without importing (the reference executor's habits).
import re, json, math, datetime, collections, itertools, functools, random, string  # noqa: F401
import statistics, textwrap, heapq, bisect, decimal, fractions, operator, copy  # noqa: F401
import unicodedata, html, typing, dataclasses, urllib.parse, io, base64, hashlib  # noqa: F401

_PRELOADED = (
    're json math datetime collections itertools functools random string statistics textwrap '
    'heapq bisect decimal fractions operator copy unicodedata html typing dataclasses urllib '
    'time io base64 hashlib sys'
).split()

# Private references to everything the harness calls: model code may rebind json.dumps,
# traceback.format_list or builtins.len in the shared modules, and must not kill its own
# interpreter by doing so.
_dumps = _json.JSONEncoder().encode
_extract_tb = _traceback.extract_tb
_format_exception_only = _traceback.format_exception_only
_format_list = _traceback.format_list
_collect = _gc.collect
_compile, _exec, _len, _isinstance, _str, _type = compile, exec, len, isinstance, str, type
_hasattr, _setattr, _getattr, _min, _max, _int, _any = hasattr, setattr, getattr, min, max, int, any

OUTPUT_LIMIT = 256 * 1024  # characters kept per block; the rest is counted, not stored
TRACEBACK_FRAMES = 8


class _BoundedText:
    """stdout and stderr of one block, interleaved, keeping the first OUTPUT_LIMIT characters."""

    def __init__(self, limit):
        self._parts = []
        self._room = limit
        self.dropped = 0

    def write(self, s):
        if not _isinstance(s, _str):
            raise TypeError(f'write() argument must be str, not {_type(s).__name__}')
        n = _len(s)
        if self._room > 0:
            kept = s if n <= self._room else s[: self._room]
            self._parts.append(kept)
            self._room -= _len(kept)
            self.dropped += n - _len(kept)
        else:
            self.dropped += n
        return n

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        pass

    def isatty(self):
        return False

    def writable(self):
        return True

    def readable(self):
        return False

    @property
    def encoding(self):
        return 'utf-8'

    def text(self):
        out = ''.join(self._parts)
        if self.dropped:
            out += f'\n[... {self.dropped} more characters of output not shown]\n'
        return out


class ToolError(RuntimeError):
    """A web tool failed on the host; the message says why."""


ToolError.__module__ = 'builtins'  # tracebacks say "ToolError: ...", not "_cir.ToolError"


def _host_call(kind, a, b=0):
    import _cir_host  # registered by the worker after start-up (never part of the snapshot)

    status, value = _cir_host.call(kind, a, b)
    if status < 0:
        raise KeyboardInterrupt  # the block is being stopped (time limit or cancel)
    if status == 0:
        raise ToolError(str(value))
    return str(value)


def web_search(query, num_result=None, max_result=None, num_results=None, max_results=None):
    """Searches the web; returns result blocks (Index, URL, Title, Preview) as text."""
    n = next((v for v in (num_result, max_result, num_results, max_results) if v is not None), 10)
    try:
        n = int(n)
    except (TypeError, ValueError):
        raise TypeError('num_result must be an integer') from None
    return _host_call('search', str(query), max(1, min(n, 50)))


def web_visit(url):
    """Fetches a web page (or PDF) and returns its main text."""
    return _host_call('visit', str(url))


visit_webpage = web_visit


def _sleep(seconds):
    # The interpreter's own sleep cannot be interrupted; this one wakes on the interrupt signal.
    seconds = float(seconds)
    if seconds < 0:
        raise ValueError('sleep length must be non-negative')
    import _cir_host

    if _cir_host.sleep(seconds):
        raise KeyboardInterrupt


_time.sleep = _sleep


def _no_processes(*args, **kwargs):
    raise OSError(38, 'running programs is not available in this sandbox')


import os as _os  # noqa: E402
import posix as _posix  # noqa: E402

# The runtime's own system() would try to start a host shell (the process is not allowed to;
# it would die trying). Say no politely instead.
_os.system = _posix.system = _os.popen = _no_processes


def _exit(status=0):
    raise SystemExit(status)  # the runtime's _exit would take the whole interpreter down


def _input(prompt=''):
    raise EOFError('input() is not available: the code runs unattended')


_os._exit = _exit
_builtins.input = _input
# Past ~50k Python frames the JavaScript stack overflows and the whole interpreter dies; keep
# deep recursion a RecursionError the code can catch.
RECURSION_LIMIT_MAX = 20000
_real_setrecursionlimit = _sys.setrecursionlimit


def _setrecursionlimit(limit):
    _real_setrecursionlimit(min(int(limit), RECURSION_LIMIT_MAX))


_sys.setrecursionlimit = _setrecursionlimit

for _name in ('_', 'PYTHONINSPECT', 'LD_LIBRARY_PATH'):
    _os.environ.pop(_name, None)
del _name


# The reference harness star-imports the standard library into every block, so the model writes
# bare Counter, sqrt, findall, loads. Their public names are given the same way; where names clash,
# builtins win (math's float pow never replaces pow, re.compile never replaces compile) and then
# module names win (datetime stays the module, random the module), then the first module listed.
_STAR = (
    'collections math re json itertools functools datetime statistics string random heapq bisect '
    'operator fractions decimal textwrap copy'
).split()


def _star_names():
    names = {}
    for module_name in _STAR:
        module = _sys.modules[module_name]
        public = getattr(module, '__all__', None) or [n for n in dir(module) if not n.startswith('_')]
        for name in public:
            if name in names or hasattr(_builtins, name) or name in _PRELOADED:
                continue
            value = getattr(module, name, None)
            if value is not None and not isinstance(value, _types.ModuleType):
                names[name] = value
    return names


_STAR_NAMES = _star_names()


def _new_namespace():
    ns = {'__name__': '__main__', '__builtins__': _builtins, '__doc__': None}
    ns.update(_STAR_NAMES)
    for name in _PRELOADED:
        ns[name] = _sys.modules[name]
    ns.update(web_search=web_search, web_visit=web_visit, visit_webpage=visit_webpage, ToolError=ToolError)
    return ns


_namespace = _new_namespace()
_defaults = dict(_namespace)  # what a saved state leaves out (state.py)


def _user_frames(tb):
    """Frames of the user's code and of the standard library; never the harness or pyodide."""
    frames = []
    for fs in _extract_tb(tb):
        name = fs.filename or ''
        if name == '<code>':
            frames.append(fs)
        elif name.startswith('/lib/python') and not _any(p in name for p in ('/site-packages/', 'pyodide/')):
            frames.append(fs)
    if _len(frames) > TRACEBACK_FRAMES:
        frames = frames[:2] + frames[-(TRACEBACK_FRAMES - 2) :]
    return frames


ERROR_LIMIT = 4000  # characters of the exception's own text (a 10 MB message stays short)


def _format_error(exc):
    try:
        lines = ''.join(_format_exception_only(_type(exc), exc))
    except BaseException:  # noqa: B036 - the traceback module's insides were rebound by the code
        lines = f'{_type(exc).__name__}\n'
    if _len(lines) > ERROR_LIMIT:
        lines = lines[:ERROR_LIMIT] + f'... [{_len(lines) - ERROR_LIMIT} more characters]\n'
    try:
        frames = _user_frames(exc.__traceback__)
        if not frames:
            return lines
        return 'Traceback (most recent call last):\n' + ''.join(_format_list(frames)) + lines
    except BaseException:  # noqa: B036
        return lines


def _forget_error():
    for name in ('last_exc', 'last_type', 'last_value', 'last_traceback'):
        if _hasattr(_sys, name):
            try:
                _setattr(_sys, name, None)
            except Exception:
                pass


def run_block(code):
    """Runs one block in the session's namespace. Returns JSON [output, error, kind]."""
    out = _BoundedText(OUTPUT_LIMIT)
    saved = _sys.stdout, _sys.stderr
    _sys.stdout = _sys.stderr = out
    error = None
    kind = None
    try:
        try:
            compiled = _compile(code, '<code>', 'exec')
            _exec(compiled, _namespace)
        except KeyboardInterrupt as exc:
            kind = 'interrupt'  # the host knows whether it asked for it (timeout, cancel)
            error = _format_error(exc)
        except MemoryError as exc:
            kind = 'memory'
            try:
                error = _format_error(exc)
            except MemoryError:
                error = 'MemoryError\n'
        except SystemExit as exc:
            # `sys.exit()` ends the block like it ends a script: quietly unless given a message.
            if exc.code not in (None, 0):
                error = f'SystemExit: {exc.code}'
        except BaseException as exc:  # noqa: B036 - everything the model wrote ends here
            error = _format_error(exc)
    except KeyboardInterrupt:
        kind = 'interrupt'
    finally:
        _sys.stdout, _sys.stderr = saved
    text = out.text()
    out = None
    _forget_error()
    if kind == 'memory':
        _collect()
    return _dumps([text, error, kind])

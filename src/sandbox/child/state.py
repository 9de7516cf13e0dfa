# Saves and restores one session's Python state, so that a session waiting for the model holds no
# interpreter: the host keeps the saved text and hands it to a fresh interpreter before the next
# block. Runs inside the sandbox (the state is the session's own, as hostile as its code).
#
# What is kept: every name the session's code bound in its namespace - values through pickle,
# modules by name, functions it defined through their code objects (marshal), classes it defined
# rebuilt from their attributes - and the files it wrote under /tmp and the home directory.
# What is not: changes the code made to shared modules (json.dumps = ...), open files, generators,
# threads of execution. Anything that does not save raises, and the host keeps the interpreter.
import base64 as _base64
import importlib as _importlib
import io as _io
import marshal as _marshal
import os as _os
import pickle as _pickle
import sys as _sys
import types as _types
import zlib as _zlib

import _cir

FORMAT = 1
FILE_ROOTS = ('/tmp', '/home/pyodide')
MAX_FILE_BYTES = 8 * 1024 * 1024  # all saved files together
_SKIP_CLASS_ATTRS = ('__dict__', '__weakref__')


class Unsaveable(Exception):
    """The state holds something that cannot be carried to another interpreter."""


def _make_function(code, name, qualname, defaults, kwdefaults, cells, attrs):
    closure = tuple(_types.CellType(v) for v in cells) if cells is not None else None
    fn = _types.FunctionType(_marshal.loads(code), _cir._namespace, name, defaults, closure)
    fn.__qualname__ = qualname
    fn.__kwdefaults__ = kwdefaults
    fn.__dict__.update(attrs)
    return fn


def _make_class(meta, name, bases, attrs):
    return meta(name, bases, attrs)


class _Pickler(_pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, _types.ModuleType):
            if _sys.modules.get(obj.__name__) is not obj:
                raise Unsaveable(f'module {obj.__name__!r} is not importable by name')
            return _importlib.import_module, (obj.__name__,)
        if isinstance(obj, _types.FunctionType) and obj.__globals__ is _cir._namespace:
            cells = None
            if obj.__closure__ is not None:
                try:
                    cells = [c.cell_contents for c in obj.__closure__]
                except ValueError:
                    raise Unsaveable(f'function {obj.__name__!r} has an empty closure cell') from None
            return _make_function, (
                _marshal.dumps(obj.__code__), obj.__name__, obj.__qualname__, obj.__defaults__,
                obj.__kwdefaults__, cells, dict(obj.__dict__),
            )
        if isinstance(obj, type) and obj.__module__ == '__main__':
            meta = type(obj)
            if meta is not type:
                raise Unsaveable(f'class {obj.__name__!r} has a metaclass')
            attrs = {k: v for k, v in obj.__dict__.items() if k not in _SKIP_CLASS_ATTRS}
            return _make_class, (meta, obj.__name__, obj.__bases__, attrs)
        return NotImplemented


def _user_names():
    defaults = _cir._defaults
    ns = _cir._namespace
    return {k: v for k, v in ns.items() if not (k in defaults and defaults[k] is v)}


def _files():
    files = {}
    total = 0
    for root in FILE_ROOTS:
        for d, _dirs, names in _os.walk(root):
            for n in names:
                p = _os.path.join(d, n)
                if _os.path.islink(p) or not _os.path.isfile(p):
                    continue
                with open(p, 'rb') as f:
                    data = f.read(MAX_FILE_BYTES - total + 1)
                total += len(data)
                if total > MAX_FILE_BYTES:
                    raise Unsaveable(f'files over {MAX_FILE_BYTES} bytes')
                files[p] = data
    return files


def save(force=False):
    """The session's state as text; raises Unsaveable (or whatever pickling raised). `force`
    leaves out the names that do not save instead, and the next load says which were lost."""
    names = _user_names()
    skipped = []
    if force:
        for k in list(names):
            try:
                _Pickler(_io.BytesIO(), protocol=_pickle.HIGHEST_PROTOCOL).dump(names[k])
            except BaseException:  # noqa: B036
                skipped.append(k)
                del names[k]
    removed = [k for k in _cir._defaults if k not in _cir._namespace]
    buf = _io.BytesIO()
    _Pickler(buf, protocol=_pickle.HIGHEST_PROTOCOL).dump((FORMAT, names, removed, _files(), skipped))
    return _base64.b64encode(_zlib.compress(buf.getvalue(), 1)).decode('ascii')


def load(text):
    fmt, names, removed, files, skipped = _pickle.loads(_zlib.decompress(_base64.b64decode(text)))
    if fmt != FORMAT:
        raise ValueError(f'saved state format {fmt} is not {FORMAT}')
    for p, data in files.items():
        _os.makedirs(_os.path.dirname(p), exist_ok=True)
        with open(p, 'wb') as f:
            f.write(data)
    ns = _cir._namespace
    for k in removed:
        ns.pop(k, None)
    # Functions were rebuilt against this very dict; they look their neighbours up at call time.
    ns.update(names)
    if skipped:
        return (f'[sandbox note: {", ".join(sorted(skipped)[:20])} could not be kept while this session '
                'waited for its next block (open files, generators and the like do not save); define them again]\n')
    return ''


def _op(work):
    """Runs save or load for the host; JSON [state, error, kind] like a block's result."""
    try:
        return _cir._dumps([work() or '', None, None])
    except KeyboardInterrupt:
        return _cir._dumps(['', 'interrupted', 'interrupt'])
    except MemoryError:
        return _cir._dumps(['', 'MemoryError', 'memory'])
    except BaseException as exc:  # noqa: B036 - the session's own objects may raise anything
        try:
            why = f'{type(exc).__name__}: {exc}'[:300]
        except BaseException:  # noqa: B036
            why = 'unsaveable'
        return _cir._dumps(['', why, None])


def save_op(force=False):
    return _op(lambda: save(force))


def load_op(text):
    return _op(lambda: load(text))

"""A warm interpreter that runs "Reproduce in Python" scripts as `python -I script.py ARGS` would,
without paying the library imports (pandas, duckdb, lifelines, scipy, altair: ~4 s) per script.

Started by tests/reproduce_helpers.py as `python -I script_runner.py` in an empty folder: isolated
mode ignores PYTHON* variables and user site-packages and puts neither this folder nor the working
folder on sys.path, so nothing of the app (analytics, ui, pages) can be imported, as for a reader.

It imports the libraries the scripts use once, then serves one request per line on stdin (JSON:
script, args, cwd, stdout, stderr, the last two file paths) and answers one JSON line on stdout
({"returncode": n}). Each script runs in a child forked from the warmed interpreter (copy-on-write:
the imports are shared, and every other state, such as pandas options, warnings filters, Altair
themes, NumPy print options, the working folder and sys.argv, starts as the warmed interpreter
left it and dies with the child). The child runs the script with runpy as `__main__` with
sys.argv = [script, *args] in the script's folder, writes its stdout and stderr to the given
files, exits with the status a fresh interpreter would (SystemExit handled the same way; an
uncaught exception prints its traceback and exits 1) and fails (status 70) if the script imported
any module of the app.

What a fork cannot give, the suite still checks in truly fresh interpreters (tests/
test_reproduce_fresh.py runs one script per page both ways and compares; the notebook and browser
tests start their own): import-time side effects of a library the script does not import itself,
and a new hash seed per script (each runner has its own random seed).
"""
import importlib
import json
import os
import pickle
import re
import socket
import struct
import sys
import traceback
import warnings

# Every library the scripts import (analytics/reproduce): imported once, before any fork.
PRELOAD = ["decimal", "hashlib", "math", "numpy", "pandas", "duckdb", "altair", "scipy.special", "scipy.stats",
           "scipy.stats.contingency", "lifelines", "lifelines.exceptions", "lifelines.statistics", "lifelines.utils",
           "statsmodels.stats.meta_analysis", "vl_convert"]
APP_PACKAGES = {"analytics", "ui", "pages", "streamlit_app", "tests"}
APP_IMPORTED = 70  # exit status of a script that imported the app
# vl_convert's stateless conversions (Vega-Lite/Vega/SVG to PNG, SVG, PDF...). Its first call
# starts a JavaScript engine on a thread of its own (~0.6 s) that a forked child would not have:
# the runner warms it once and the children's calls are answered by the runner's (same library,
# same arguments, same bytes; tests/test_reproduce_fresh.py compares the files with a fresh run).
CONVERSIONS = re.compile(r"^(vegalite|vega|svg)_to_[a-z]+$")


def _app_modules() -> list[str]:
    return sorted(name for name in sys.modules if name.split(".")[0] in APP_PACKAGES)


def _exit_status(error: SystemExit) -> int:
    """The status a fresh interpreter exits with on `error` (printing a non-integer code)."""
    code = error.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _send(channel: socket.socket, message) -> None:
    data = pickle.dumps(message)
    channel.sendall(struct.pack("!Q", len(data)) + data)


def _receive(channel: socket.socket):
    """The next message on `channel`, or None at its end (the child has exited)."""
    def exactly(n: int) -> bytes | None:
        chunks = b""
        while len(chunks) < n:
            chunk = channel.recv(min(n - len(chunks), 1 << 20))
            if not chunk:
                return None
            chunks += chunk
        return chunks
    head = exactly(8)
    if head is None:
        return None
    return pickle.loads(exactly(struct.unpack("!Q", head)[0]))


def _convert_in_runner(channel: socket.socket) -> None:
    """In the child: vl_convert's conversions ask the runner's warmed engine (see CONVERSIONS)."""
    import vl_convert

    def proxy(name: str, original):
        def convert(*args, **kwargs):
            _send(channel, (name, args, kwargs))
            ok, value = _receive(channel)
            if not ok:
                raise value
            return value
        convert.__name__, convert.__doc__ = name, original.__doc__
        return convert

    for name in dir(vl_convert):
        if CONVERSIONS.match(name):
            setattr(vl_convert, name, proxy(name, getattr(vl_convert, name)))


def _serve_conversions(channel: socket.socket) -> None:
    """In the runner, while a child runs: answer its conversions until it exits."""
    import vl_convert
    while (request := _receive(channel)) is not None:
        name, args, kwargs = request
        try:
            answer = (True, getattr(vl_convert, name)(*args, **kwargs))
        except Exception as error:  # noqa: BLE001 - raised in the child, as the library would
            answer = (False, error)
        _send(channel, answer)


def _child(request: dict, channel: socket.socket) -> None:
    """Run one script in this forked child and leave with its exit status (never returns)."""
    status = 1
    try:
        import runpy

        import numpy
        _convert_in_runner(channel)
        os.chdir(request["cwd"])
        stdin = os.open(os.devnull, os.O_RDONLY)
        out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        for source, target in ((stdin, 0), (out, 1), (err, 2)):
            os.dup2(source, target)
            os.close(source)
        numpy.random.seed()  # a fresh interpreter seeds NumPy's global generator from the OS (random reseeds at fork)
        sys.argv = [request["script"], *request["args"]]
        try:
            runpy.run_path(request["script"], run_name="__main__")
            status = 0
        except SystemExit as error:
            status = _exit_status(error)
        except BaseException:  # noqa: BLE001 - as the interpreter: print the traceback, exit 1
            traceback.print_exc()
            status = 1
        leaked = _app_modules()
        if leaked:
            print(f"script_runner: the script imported the app: {', '.join(leaked)}", file=sys.stderr)
            status = APP_IMPORTED
        import atexit
        atexit._run_exitfuncs()
    except BaseException:  # noqa: BLE001 - the runner's own failure, reported as the script's
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - a closed stream: nothing more to say
                pass
        os._exit(status)


def main() -> None:
    with warnings.catch_warnings():  # import-time warnings leave no trace in the children's warning state
        warnings.simplefilter("ignore")
        for name in PRELOAD:
            importlib.import_module(name)
        import vl_convert  # start its engine: one tiny chart as PNG and SVG
        tiny = {"data": {"values": [{"x": 1}]}, "mark": "point", "encoding": {"x": {"field": "x"}}}
        vl_convert.vegalite_to_png(tiny)
        vl_convert.vegalite_to_svg(tiny)
    assert not _app_modules(), _app_modules()
    answers = sys.stdout
    answers.write(json.dumps({"ready": True, "pid": os.getpid()}) + "\n")
    answers.flush()
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        ours, theirs = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            ours.close()
            _child(request, theirs)
        theirs.close()
        try:
            _serve_conversions(ours)
        finally:
            ours.close()
        _, wait_status = os.waitpid(pid, 0)
        answers.write(json.dumps({"returncode": os.waitstatus_to_exitcode(wait_status)}) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()

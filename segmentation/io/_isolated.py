"""Parse a workbook in a child process with an address-space cap and a time limit.

Private helper of :mod:`segmentation.io`. The workbook reader (fastexcel, Rust)
allocates what the file asks for, and a failed allocation aborts the whole
process ("memory allocation of N bytes failed"): in the app that is a job, in
the command line the run. :func:`read_workbook_isolated` forks a child that
sets ``RLIMIT_AS`` to its own address space plus ``limits.max_parse_memory``,
runs :func:`segmentation.io._excel.read_workbook`, and sends the result back
through a pipe (pickle protocol 5: the frames' arrow-backed columns travel as
buffers). The parent relays the child's progress steps, and stops it after
``limits.max_parse_seconds``. A child stopped by the cap (an abort, a
``MemoryError``, an error that says an allocation failed, or no answer at
all) or by the timer is reported as a :class:`LimitExceededError` naming the
limit; an error the reader raises in words (a corrupt sheet, a
missing column) is raised again as it was.

The child is forked, not spawned: it starts with the parent's imports (no
second start-up of pandas and fastexcel). Moving Online Retail I's frames back
is 62 MB of pickle: 0.2-0.6 s to write, 0.1 s to read, on a busy 2-core
machine. Where ``os.fork`` is
missing (Windows) the workbook is read in-process, without the cap.
"""

from __future__ import annotations

import faulthandler
import os
import pickle
import re
import select
import signal
import struct
import tempfile
import time

from segmentation.errors import InputFileError, LimitExceededError
from segmentation.io._excel import RawWorkbook, read_workbook

_HEADER = struct.Struct("<Q")
_READ = 2**20
_ABORT = re.compile(rb"memory allocation of (\d+) bytes failed")
#: Exit code of a child that caught a MemoryError or a failed allocation.
_EXIT_MEMORY = 3
#: What the reader's and arrow's errors say when an allocation failed.
_ALLOCATION = re.compile(
    r"malloc of size|memory allocation|out of memory|cannot allocate memory|"
    r"MemoryError|failed to allocate",
    re.IGNORECASE,
)


def _out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is a failed allocation."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, MemoryError) or _ALLOCATION.search(str(exc)):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _address_space() -> int:
    """Return the mapped address space in bytes (``VmSize``), 0 if unknown."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _send(fd: int, message) -> None:
    payload = pickle.dumps(message, protocol=5)
    view = memoryview(_HEADER.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view) :]


def _child(fd: int, stderr_fd: int, memory: int, args) -> None:
    """Run in the forked child: cap, read, send; never returns."""
    code = 1
    try:
        os.dup2(stderr_fd, 2)  # the reader's abort message, kept for the parent
        faulthandler.disable()  # a capped abort is expected, not a crash to dump
        import resource

        cap = _address_space() + memory
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

        def relay(step: str, fraction: float) -> None:
            _send(fd, ("progress", step, fraction))

        book = read_workbook(*args, progress=relay)
        _send(fd, ("result", book))
        code = 0
    except BaseException as exc:  # sent to the parent, which raises it
        if _out_of_memory(exc):
            os._exit(_EXIT_MEMORY)
        try:
            _send(fd, ("error", exc))
        except Exception:
            try:
                _send(fd, ("error", InputFileError(f"{args[1]} cannot be read: {exc}")))
            except BaseException:
                code = 2
    finally:
        os._exit(code)


def _memory_error(name: str, limits, detail: str) -> LimitExceededError:
    return LimitExceededError(
        f"{name}: reading the workbook needed more memory than the limit "
        f"max_parse_memory={limits.max_parse_memory:,} bytes{detail}",
        limit="max_parse_memory",
        value=limits.max_parse_memory,
    )


def read_workbook_isolated(
    data: bytes, name: str, limits, overrides, columns=None, progress=None
) -> RawWorkbook:
    """:func:`~segmentation.io._excel.read_workbook` in a capped, timed child.

    Parameters and return value are those of ``read_workbook``; ``limits``
    also gives ``max_parse_memory`` (bytes of address space the child may add
    to what it had when forked) and ``max_parse_seconds``.

    Raises
    ------
    LimitExceededError
        The child ran out of its memory cap (``limit="max_parse_memory"``) or
        time (``limit="max_parse_seconds"``).
    InputFileError, ColumnMappingError, LimitExceededError
        Whatever ``read_workbook`` raised in the child.
    """
    args = (data, name, limits, overrides, columns)
    if not hasattr(os, "fork"):
        return read_workbook(*args, progress=progress)
    stderr = tempfile.TemporaryFile()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child (coverage does not follow it)
        os.close(read_fd)
        _child(write_fd, stderr.fileno(), limits.max_parse_memory, args)
    os.close(write_fd)
    child = _Child(pid)
    try:
        return _collect(child, read_fd, stderr, name, limits, progress)
    finally:
        os.close(read_fd)
        stderr.close()
        child.stop()


class _Child:
    """The forked reader; killed only while it has not been waited for.

    Once waited for, its pid may belong to another process: never signal it
    again.
    """

    def __init__(self, pid: int) -> None:
        self.pid, self.status = pid, None

    def wait(self) -> int:
        if self.status is None:
            _, status = os.waitpid(self.pid, 0)
            self.status = os.waitstatus_to_exitcode(status)
        return self.status

    def stop(self) -> None:
        """Kill and wait for the child if it is still there (an error, Ctrl-C)."""
        if self.status is not None:
            return
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.wait()


def _collect(child: _Child, read_fd, stderr, name, limits, progress) -> RawWorkbook:
    deadline = time.monotonic() + limits.max_parse_seconds
    buffer = bytearray()
    outcome = None
    while True:
        left = deadline - time.monotonic()
        ready, _, _ = select.select([read_fd], [], [], max(left, 0))
        if not ready:
            child.stop()
            raise LimitExceededError(
                f"{name}: reading the workbook took longer than the limit "
                f"max_parse_seconds={limits.max_parse_seconds:g}",
                limit="max_parse_seconds",
                value=limits.max_parse_seconds,
            )
        block = os.read(read_fd, _READ)
        if not block:
            break
        buffer += block
        while len(buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer)
            if len(buffer) < _HEADER.size + size:
                break
            with memoryview(buffer) as view:  # no copy of a large result
                message = pickle.loads(view[_HEADER.size : _HEADER.size + size])
            del buffer[: _HEADER.size + size]
            if message[0] == "progress":
                if progress is not None:
                    progress(message[1], message[2])
            else:
                outcome = message
    code = child.wait()
    if outcome is not None and outcome[0] == "result" and code == 0:
        return outcome[1]
    if outcome is not None and outcome[0] == "error":
        raise outcome[1]
    stderr.seek(0)
    tail = stderr.read()[-65536:]
    abort = _ABORT.search(tail)
    if abort is not None:
        raise _memory_error(
            name, limits, f" (it asked for {int(abort.group(1)):,} bytes at once)"
        )
    crashed = (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS)
    if code == _EXIT_MEMORY or code in crashed:
        raise _memory_error(name, limits, "")
    if code == -signal.SIGKILL:
        raise _memory_error(name, limits, " (the system stopped the reader)")
    # The reader raises its errors in words: a child gone without one was
    # almost always stopped by the cap (a thread or a library that could not
    # start under it).
    raise _memory_error(
        name, limits, f" (the reader stopped without an answer, exit status {code})"
    )

"""The file, process and network policy of a graded kernel (runs inside the kernel, stdlib only).

``reglab grade`` copies this file as ``sitecustomize.py`` into a folder it puts first on the
kernel's ``PYTHONPATH``, and describes the policy in the environment variable ``POLICY_VARIABLE``
(JSON: ``scratch``, ``deny``, ``allow``, ``memory``, ``network``).  Python imports
``sitecustomize`` at start-up, before ipykernel and before any student code, and so does every
child Python started with the inherited environment (lesson 03's ``subprocess.run([sys.executable,
...])``).  ``install`` then:

* lowers ``RLIMIT_AS`` to ``memory`` bytes (children inherit it);
* adds a ``sys.addaudithook`` hook (it cannot be removed from Python) that raises
  ``PermissionError("reglab grade refused ...")`` for:

  - opening for writing, creating, removing, renaming, linking, chmod/chown or truncating a path
    outside ``scratch`` (``/dev/null`` excepted);
  - opening for reading a path under a ``deny`` root (the instructor's workbook, its ``key/``,
    the submissions and the other scratch folders) unless a longer ``allow`` root holds it (the
    workbook's ``reglab/`` and ``data/``, the Python installation, this scratch folder); paths
    are resolved first, so a symbolic link does not get around it;
  - starting a process other than ``sys.executable`` with the inherited environment or one
    that keeps this policy's variables (``PYTHONPATH`` first entry and ``POLICY_VARIABLE``), and
    without ``-S``, ``-I`` or ``-E`` (``subprocess``, ``os.posix_spawn``); ``os.system``,
    ``os.exec*``, ``os.fork``,
    ``os.spawn*``, ``pty.spawn``; signals to processes outside the kernel's process group;
  - a network connection or name lookup other than loopback and Unix sockets (with
    ``network == "namespace"`` the kernel also has no network interface but loopback);
  - ``gc.get_objects``/``get_referrers``/``get_referents`` (the way to reach the hook's state).

What it does not stop: code that leaves Python, through ``ctypes`` or a C extension, calls the
operating system directly and is not audited; a child process with its own environment is
refused, but one made with ``ctypes`` is not.  The answer key is safe anyway: it never enters
the kernel, the grader judges the logged answers in its own process (see
``reglab.classroom.grade``); a submission that gets around this policy can at worst change its
own results of ``check_that`` exercises, which are trusted as nbgrader trusts its tests.
"""

from __future__ import annotations

import json
import os
import sys

#: The environment variable holding the policy (JSON).
POLICY_VARIABLE = "REGLAB_GRADE_POLICY"
#: The prefix of every refusal's message (the grader reads it to say why a cell failed).
REFUSED = "reglab grade refused"

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_PATH_EVENTS = {  # event -> indices of its path arguments, all of which must be in scratch
    "os.remove": (0,), "os.rmdir": (0,), "os.rename": (0, 1), "os.link": (0, 1),
    "os.symlink": (1,), "os.mkdir": (0,), "os.chmod": (0,), "os.chown": (0,),
    "os.truncate": (0,), "os.utime": (0,), "os.chflags": (0,), "os.lchflags": (0,),
    "os.lchmod": (0,), "os.setxattr": (0,), "os.removexattr": (0,), "shutil.rmtree": (0,),
    "shutil.move": (0, 1), "os.mkfifo": (0,), "os.mknod": (0,),
}
_NEVER = {"os.system", "os.exec", "os.fork", "os.forkpty", "os.spawn", "pty.spawn",
          "os.startfile", "gc.get_objects", "gc.get_referrers", "gc.get_referents"}
_LOOPBACK = ("127.", "::1", "localhost", "0.0.0.0", "")


def _install(config: dict) -> None:
    import resource
    import socket
    import threading

    if config.get("memory"):
        limit = int(config["memory"])
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # everything the hook uses is bound here: nothing it reads is reachable from the module
    realpath, join, getcwd, fspath = os.path.realpath, os.path.join, os.getcwd, os.fspath
    getpid, getpgid, sep = os.getpid, os.getpgid, os.sep
    write_flags, path_events, never, loopback = _WRITE_FLAGS, dict(_PATH_EVENTS), frozenset(_NEVER), _LOOPBACK
    refused_prefix, policy_variable = REFUSED, POLICY_VARIABLE
    policy_text = os.environ.get(POLICY_VARIABLE, "")
    site_dir = os.environ.get("PYTHONPATH", "").split(os.pathsep)[0] or "\0"
    scratch = realpath(config["scratch"]) + os.sep
    roots = sorted([(realpath(p) + os.sep, False) for p in config.get("deny", [])]
                   + [(realpath(p) + os.sep, True) for p in config.get("allow", [])] + [(scratch, True)],
                   key=lambda r: -len(r[0]))
    writable = (scratch, "/dev/null" + os.sep)
    python = realpath(sys.executable)
    group = os.getpgid(0)
    inside = threading.local()

    def resolve(path: object) -> str | None:
        if isinstance(path, int) or path is None:
            return None
        try:
            path = fspath(path)
        except TypeError:
            return None
        if isinstance(path, bytes):
            path = path.decode(errors="surrogateescape")
        return realpath(join(getcwd(), path)) + sep

    def refuse(what: str, detail: object) -> None:
        raise PermissionError(f"{refused_prefix} {what}: {detail!r}")

    def check_write(path: object) -> None:
        full = resolve(path)
        if full is not None and not full.startswith(writable):
            refuse("(file policy) writing outside the submission's folder", path)

    def check_read(path: object) -> None:
        full = resolve(path)
        if full is None:
            return
        for root, allowed in roots:
            if full.startswith(root):
                if not allowed:
                    refuse("(file policy) reading the instructor's files", path)
                return

    def check_process(executable: object, argv: object, env: object) -> None:
        target = resolve(executable)
        if target is None or target[:-1] != python:
            refuse("(process policy) starting a program other than this Python", executable)
        if env is not None and not (hasattr(env, "get") and env.get(policy_variable) == policy_text
                                    and str(env.get("PYTHONPATH", "")).startswith(site_dir)):
            refuse("(process policy) a Python child without the grading policy in its environment", "env")
        skip = False
        for arg in list(argv)[1:] if isinstance(argv, (list, tuple)) else []:
            arg = str(arg)
            if skip:
                skip = False
                continue
            if arg in ("-c", "-m") or not arg.startswith("-") or arg == "-":
                break
            if not arg.startswith("--") and set(arg[1:]) & set("SIE"):
                refuse("(process policy) a Python child that skips the grading policy", arg)
            skip = arg in ("-W", "-X")

    def check_network(address: object) -> None:
        host = address[0] if isinstance(address, tuple) and address else address
        if isinstance(host, bytes):
            host = host.decode(errors="replace")
        if isinstance(host, str) and (host.startswith(loopback[:2]) or host in loopback[2:]):
            return
        refuse("(network policy) the network is off while grading", address)

    def hook(event: str, args: tuple) -> None:
        if getattr(inside, "busy", False):
            return
        inside.busy = True
        try:
            if event == "open":
                path, mode, flags = (tuple(args) + (None, None, 0))[:3]
                writing = any(c in mode for c in "wax+") if isinstance(mode, str) else \
                    bool((flags or 0) & write_flags)
                (check_write if writing else check_read)(path)
            elif event in path_events:
                for index in path_events[event]:
                    if index < len(args):
                        check_write(args[index])
            elif event == "subprocess.Popen":
                executable, argv = args[0], args[1]
                if executable is None and isinstance(argv, (list, tuple)) and argv:
                    executable = argv[0]
                check_process(executable, argv, args[3] if len(args) > 3 else None)
            elif event == "os.posix_spawn":
                check_process(args[0], args[1], args[2] if len(args) > 2 else None)
            elif event.split(".")[0] in ("os", "pty", "gc") and (
                    event in never or event.startswith(("os.exec", "os.spawn"))):
                refuse("(process policy) " + event, args[0] if args else "")
            elif event in ("os.kill", "os.killpg"):
                pid = args[0]
                try:
                    same = pid in (0, getpid()) or getpgid(pid) == group
                except OSError:
                    same = True  # no such process: let the call say so
                if event == "os.killpg" and pid != group:
                    same = False
                if not same:
                    refuse("(process policy) signalling a process outside the kernel", pid)
            elif event in ("socket.connect", "socket.sendto") and len(args) > 1:
                if getattr(args[0], "family", None) in (socket.AF_INET, socket.AF_INET6):
                    check_network(args[1])
            elif event == "socket.getaddrinfo":
                check_network((args[0],))
            elif event == "socket.gethostbyname":
                check_network((args[0],))
        finally:
            inside.busy = False

    sys.addaudithook(hook)


def install() -> None:
    """Install the policy described by ``POLICY_VARIABLE`` (nothing when it is unset)."""
    text = os.environ.get(POLICY_VARIABLE)
    if text:
        _install(json.loads(text))


if __name__ == "sitecustomize":  # the kernel's copy: install, then leave an empty module
    install()
    for _name in [n for n in globals() if not n.startswith("__")]:
        del globals()[_name]

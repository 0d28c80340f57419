#!/usr/bin/env python3
"""Runs a command under a real pseudo-terminal of a given size and prints what it drew.

usage: pty-run.py COLUMNS TIMEOUT_SECONDS MAX_BYTES COMMAND [ARG...]

stdin, stdout and stderr of the command are the pty (as in a terminal). Its output goes to our
stdout, raw. The exit status is the command's (128+N after signal N); 124 when it did not end
within the timeout, 125 when it drew more than MAX_BYTES: in both cases its process group is
killed, so nothing outlives the test.
"""
import fcntl, os, pty, select, signal, struct, sys, termios, time

cols, timeout, max_bytes, cmd = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
pid, fd = pty.fork()
if pid == 0:
    # pty.fork made the child a session leader with the pty as its controlling terminal.
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', 24 if cols else 0, cols, 0, 0))
    os.execvp(cmd[0], cmd)

out = bytearray()
verdict = None
deadline = time.monotonic() + timeout
while True:
    left = deadline - time.monotonic()
    if left <= 0:
        verdict = 124
        break
    ready, _, _ = select.select([fd], [], [], left)
    if not ready:
        continue
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the command and every holder of the pty are gone
        break
    if not data:
        break
    out += data
    if len(out) > max_bytes:
        verdict = 125
        break

if verdict is not None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(bytes(out))
sys.stdout.flush()
if verdict is not None:
    sys.exit(verdict)
sys.exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))

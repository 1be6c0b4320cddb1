#!/usr/bin/env python3
"""Cold start and sign-in of the real binary on a big database (DESIGN 9: first frame under
100 ms, memory under 50 MB), in a pseudo-terminal of 80x24.

    python3 scripts/cold-start.py bench-data/store-1000000-keyed.db [--warm] [--runs N]

Times, from the outside: process start to the first frame (the sign-in screen), and Enter on
the passphrase to the home screen (which includes Argon2id, ~100-200 ms by design); then the
peak and current resident memory. Unless --warm, the OS page cache is dropped first (root).
On a database nobody is enrolled on, it first enrols `admin.bench` (passphrase `benchpass1`)
through the setup screen, with the key in ACCESSLINE_DB_KEY (the benchmarks' key).
"""
import fcntl, os, pty, re, select, signal, struct, sys, termios, time

BIN = os.environ.get("ACCESSLINE_BIN", "target/release/accessline")
USER, PASS = b"admin.bench", b"benchpass1"


def spawn(db, env):
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(BIN, [BIN, "--db", db], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    return pid, fd


def wait_for(fd, wants, start, limit=30.0):
    buf = b""
    while time.perf_counter() - start < limit:
        r, _, _ = select.select([fd], [], [], 0.002)
        if r:
            try:
                buf += os.read(fd, 65536)
            except OSError:
                break
            for w in wants:
                if w in buf:
                    return w, time.perf_counter() - start
    sys.exit(f"timed out waiting for {wants!r}")


def stop(pid, fd):
    os.write(fd, b"\x11")  # Ctrl-q
    time.sleep(0.5)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


def main():
    db = sys.argv[1]
    warm = "--warm" in sys.argv
    runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 1
    env = dict(os.environ, TERM="xterm-256color")
    signin_env = {k: v for k, v in env.items() if k != "ACCESSLINE_DB_KEY"}
    pid, fd = spawn(db, env)
    seen, _ = wait_for(fd, [b"First administrator", b"Crisis"], time.perf_counter())
    time.sleep(0.3)
    if seen == b"First administrator":
        for field in (USER, b"Bench Admin", PASS, PASS):
            os.write(fd, field + b"\r")
            time.sleep(0.2)
        wait_for(fd, [b"Unfinished calls"], time.perf_counter(), limit=600)
    stop(pid, fd)
    for _ in range(runs):
        if not warm:
            os.system("sync; echo 3 > /proc/sys/vm/drop_caches")
        start = time.perf_counter()
        pid, fd = spawn(db, signin_env)
        _, first = wait_for(fd, [b"Crisis"], start)
        time.sleep(0.3)
        os.write(fd, USER + b"\r")
        time.sleep(0.2)
        os.write(fd, PASS)
        time.sleep(0.2)
        enter = time.perf_counter()
        os.write(fd, b"\r")
        _, home = wait_for(fd, [b"Unfinished calls"], enter)
        time.sleep(0.5)
        status = open(f"/proc/{pid}/status").read()
        kib = lambda k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) / 1024
        print(
            f"{'warm' if warm else 'cold'}: first frame {first * 1000:.1f} ms; "
            f"Enter on the passphrase -> home {home * 1000:.1f} ms; "
            f"peak memory {kib('VmHWM'):.1f} MB, at home {kib('VmRSS'):.1f} MB"
        )
        stop(pid, fd)


main()

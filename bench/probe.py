#!/usr/bin/env python3
"""Small measurements for bench/run, read from /proc and loopback sockets.

  probe.py free-ports N                  N free loopback TCP ports
  probe.py cpu PID                       CPU seconds (user+system) of PID and its children
  probe.py mem PID                       {"rss_kib":..,"hwm_kib":..} of PID (VmRSS, VmHWM)
  probe.py wait-tls PORT SECONDS         wait until 127.0.0.1:PORT completes a TLS handshake
  probe.py renice VALUE PID...           set the nice value of every thread of PID and its children
  probe.py rusage OUT -- CMD...          run CMD, write its CPU seconds to OUT, exit with its code
  probe.py cold-start HEALTH_PORT TIMEOUT -- CMD...
      start CMD, poll http://127.0.0.1:HEALTH_PORT/readyz until 200, then print
      {"ready_ms":..,"cpu_s":..,"rss_kib":..,"hwm_kib":..} and stop CMD (by its pid)
"""

import json
import os
import resource
import signal
import socket
import ssl
import subprocess
import sys
import time

TICKS = os.sysconf("SC_CLK_TCK")


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        text = f.read()
    # The command name is in parentheses and may hold spaces.
    return text[text.rindex(")") + 2:].split()


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if int(stat_fields(entry)[1]) == pid:
                out.append(int(entry))
        except (OSError, ValueError, IndexError):
            pass
    return out


def cpu_seconds(pid):
    """utime+stime of the process (all threads) and of its live children
    (nginx's workers)."""
    total = 0
    for p in [pid] + children(pid):
        try:
            f = stat_fields(p)
        except OSError:
            continue
        total += int(f[11]) + int(f[12])  # fields 14 and 15 of proc(5)
    return total / TICKS


def memory_kib(pid):
    out = {"rss_kib": 0, "hwm_kib": 0}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                out["rss_kib"] = int(line.split()[1])
            elif line.startswith("VmHWM:"):
                out["hwm_kib"] = int(line.split()[1])
    return out


def renice(value, pids):
    """Every thread: Linux keeps a nice value per thread, and a process's
    later threads inherit it from the thread that creates them."""
    for pid in pids:
        for p in [pid] + children(pid):
            try:
                tids = [int(t) for t in os.listdir(f"/proc/{p}/task")]
            except OSError:
                continue
            for tid in tids:
                try:
                    os.setpriority(os.PRIO_PROCESS, tid, value)
                except OSError:
                    pass


def free_ports(n):
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_tls(port, seconds):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                with ctx.wrap_socket(s) as t:
                    return t.version() + " " + t.cipher()[0]
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing answers TLS on 127.0.0.1:{port} after {seconds} s")


def readyz(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)  # nothing to drain: no client is connected
    proc.wait(timeout=10)


def cold_start(port, timeout, cmd):
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = t0 + timeout
        while not readyz(port):
            if proc.poll() is not None:
                raise SystemExit(f"server exited with {proc.returncode} before ready")
            if time.monotonic() > deadline:
                raise SystemExit(f"not ready after {timeout} s")
            time.sleep(0.001)
        ready_ms = (time.monotonic() - t0) * 1000
        out = {"ready_ms": round(ready_ms, 1), "cpu_s": cpu_seconds(proc.pid)}
        out.update(memory_kib(proc.pid))
        print(json.dumps(out))
    finally:
        stop(proc)


def main(argv):
    if len(argv) == 3 and argv[1] == "free-ports":
        print("\n".join(str(p) for p in free_ports(int(argv[2]))))
    elif len(argv) == 3 and argv[1] == "cpu":
        print(f"{cpu_seconds(int(argv[2])):.2f}")
    elif len(argv) == 3 and argv[1] == "mem":
        print(json.dumps(memory_kib(int(argv[2]))))
    elif len(argv) >= 4 and argv[1] == "renice":
        renice(int(argv[2]), [int(p) for p in argv[3:]])
    elif len(argv) == 4 and argv[1] == "wait-tls":
        print(wait_tls(int(argv[2]), float(argv[3])))
    elif len(argv) > 4 and argv[1] == "rusage" and argv[3] == "--":
        rc = subprocess.call(argv[4:])
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(argv[2], "w") as f:
            f.write(f"{ru.ru_utime + ru.ru_stime:.3f}\n")
        return rc
    elif len(argv) > 5 and argv[1] == "cold-start" and argv[4] == "--":
        cold_start(int(argv[2]), float(argv[3]), argv[5:])
    else:
        sys.stderr.write(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""run.py - the fault-injection sweep: every counted call failed in turn.

    run.py --fetch FETCH --server TESTSERVER --gateway GATEWAY --inject SO
           [--every K | --sample N --seed S] [--jobs J] [--valgrind]
           [--scenario NAME]... [--timeout SECS]

For each scenario (a command line of examples/fetch or examples/gateway,
against fetch_testserver, a process of its own that gets no faults), it
runs the program once with inject.c preloaded to count its calls, then
once per call number of every function and mode (inject.c's header)
failing just that call, and checks each run:

  - no crash (a signal), no hang (--timeout, default 20 s);
  - fail mode: the fault-free output, or a clean documented error: a
    non-zero exit and the program's own one-line messages on stderr
    ("fetch: URL: ..." / "gateway: ..."), nothing else;
  - eintr, eagain, short: exactly the fault-free exit code and output;
  - no leak: no more live heap blocks at exit than the fault-free run
    (inject.c's count; with --valgrind, memcheck's definite leaks);
  - no fd left open at exit that the fault-free run did not leave.

Prints "SCENARIO: N runs, N failed" per scenario, each failure with its
call, mode and what happened, and exits 1 if any run failed.  --every K
runs every K-th call number only (the CI sample); --sample N a fixed
random sample of N cases per scenario.
"""
import argparse
import concurrent.futures
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time

MODES_RESULT_EXACT = ("eintr", "eagain", "short")


def parse_report(path):
    """inject.c's report: counts, live blocks, fds left open."""
    rep = {"counts": {}, "live": None, "fds": [], "injected": False}
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return None
    for line in lines:
        w = line.split()
        if w[0] == "count":
            rep["counts"][(w[1], w[2])] = int(w[3])
        elif w[0] == "live":
            rep["live"] = int(w[1])
        elif w[0] == "fd":
            rep["fds"].append(" ".join(w[2:]) or "?")
        elif w[0] == "injected":
            rep["injected"] = True
    return rep


class Env:
    """What every run needs: paths, the test server's base URL."""

    def __init__(self, args, base, work):
        self.args, self.base, self.work = args, base, work

    def preload_env(self, fn, mode, n, out):
        env = dict(os.environ)
        env.update({"LD_PRELOAD": self.args.inject, "BA_FAULT_OUT": out,
                    "BA_FAULT_FN": fn or "", "BA_FAULT_MODE": mode or "fail",
                    "BA_FAULT_N": str(n or 0)})
        return env

    def wrap(self, vg):
        if not (vg or self.args.valgrind):
            return []
        return ["valgrind", "-q", "--error-exitcode=99", "--leak-check=full",
                "--errors-for-leak-kinds=definite", "--show-leak-kinds=definite"]


# ---- scenarios: each returns (rc, stdout, stderr lines, report path) ----

def fetch_scenario(argv_tail):
    def run(env, fn, mode, n, tag, vg=False):
        out = os.path.join(env.work, tag + ".rep")
        named = env.base.replace("127.0.0.1", "localhost")
        # memcheck runs fetch some 20 times slower: a longer -m there.
        maxtime = "3" if vg or env.args.valgrind else "0.3"
        argv = env.wrap(vg) + [env.args.fetch] + [
            a.replace("BASE", env.base).replace("NAMED", named).replace("MAXTIME", maxtime)
            for a in argv_tail]
        try:
            p = subprocess.run(argv, env=env.preload_env(fn, mode, n, out),
                               capture_output=True, timeout=env.args.timeout)
        except subprocess.TimeoutExpired:
            return "hang", None, None, out
        return p.returncode, p.stdout, p.stderr.decode(errors="replace").splitlines(), out
    return run


def gateway_scenario(env, fn, mode, n, tag, vg=False):
    """The gateway (faulted) between three clients (fetch, not faulted) and
    the test server; stopped with SIGTERM once the clients are done."""
    out = os.path.join(env.work, tag + ".rep")
    argv = env.wrap(vg) + [env.args.gateway, "--upstream", env.base, "--listen", "127.0.0.1:0",
                         "--timeout", "5000"]
    g = subprocess.Popen(argv, env=env.preload_env(fn, mode, n, out),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    errs, port = [], None
    deadline = time.monotonic() + env.args.timeout
    while time.monotonic() < deadline:
        line = g.stderr.readline().decode(errors="replace")
        if not line:
            break
        errs.append(line.rstrip("\n"))
        m = re.search(r"\(port (\d+)\)", line)
        if m:
            port = m.group(1)
            break
    clients_out = b""
    if port:
        url = "http://127.0.0.1:%s" % port
        cmds = [[env.args.fetch, "-s", "-f", "-m", "10", url + p]
                for p in ("/ok", "/p/one", "/chunked")]
        procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for c in cmds]
        for c in procs:
            o, _ = c.communicate(timeout=env.args.timeout)
            # A client that fails gets a documented error (502, reset,
            # empty reply); one that times out means the gateway hung.
            clients_out += o if c.returncode == 0 else (b"<timeout>" if c.returncode == 28
                                                         else b"<error>")
        if g.poll() is None:
            g.send_signal(signal.SIGTERM)
    try:
        rest = g.communicate(timeout=env.args.timeout)[1]
    except subprocess.TimeoutExpired:
        g.kill()
        g.communicate()
        return "hang", None, None, out
    errs += rest.decode(errors="replace").splitlines()
    if b"<timeout>" in clients_out:
        return "hang", None, None, out
    # The clients' errors are not the gateway's: a fault may cost them an
    # answer; what counts is how the gateway ended.
    return g.returncode, b"" if b"<error>" in clients_out else clients_out, errs, out


SCENARIOS = {
    # three URLs over one kept-alive connection (one request at a time)
    "keepalive": fetch_scenario(["-s", "--parallel-max", "1", "BASE/ok", "BASE/p/two",
                                 "BASE/chunked"]),
    # the demo: server and client coroutines in one process
    "demo": fetch_scenario(["-s"]),
    # a redirect chain of three hops
    "redirect": fetch_scenario(["-s", "-L", "BASE/r/3"]),
    # two host names looked up on the offload pool's threads (/etc/hosts)
    "resolve": fetch_scenario(["-s", "NAMED/ok", "NAMED/p/x"]),
    # a request stopped by its deadline (-m) while another one succeeds
    "cancel": fetch_scenario(["-s", "-m", "MAXTIME", "BASE/hang", "BASE/ok"]),
    "gateway": gateway_scenario,
}
PROGRAM_PREFIX = {"gateway": ("gateway: ",)}
NOISY_STDERR = {"demo", "gateway"}  # --trace lines / startup lines are normal


def judge(name, clean, result, mode):
    """None if the run is acceptable, else what went wrong."""
    rc, out, err, rep_path = result
    if rc == "hang":
        return "hang (no exit within the timeout)"
    if rc < 0:
        return "crash (signal %d: %s)" % (-rc, signal.Signals(-rc).name)
    if rc == 99:
        return "valgrind: " + " | ".join(l for l in err if "==" in l)[:300]
    rep = parse_report(rep_path)
    if rep is None:
        return "no report at exit (exit %d without atexit: _exit or abort?)" % rc
    if clean["live"] is not None and rep["live"] > clean["live"]:
        return "leak: %d heap blocks live at exit, %d without the fault" % (rep["live"],
                                                                            clean["live"])
    extra = sorted(set(rep["fds"]) - set(clean["fds"]))
    if len(rep["fds"]) > len(clean["fds"]):
        return "fd left open: %s" % (", ".join(extra) or ", ".join(rep["fds"]))
    same = rc == clean["rc"] and out == clean["out"]
    if mode in MODES_RESULT_EXACT and not same:
        return "wrong result: exit %d (want %d), stdout %r; stderr %r" % (
            rc, clean["rc"], (out or b"")[:80], err[-2:])
    if same:
        return None
    if rc == 0 and name == "demo" and re.match(rb"5\d\d ", out or b""):
        return None  # the demo's server answered its own failure (500, 503)
    if rc == 0 and name == "gateway" and out == b"":
        return None  # stopped cleanly; a client got a 502 or a closed connection
    if rc == 0:
        return "exit 0 with the wrong output %r" % (out or b"")[:80]
    prefixes = PROGRAM_PREFIX.get(name, ("fetch: ",))
    own = [l for l in err if l.startswith(prefixes)]
    if not own:
        return "exit %d without an error line; stderr %r" % (rc, err[-2:])
    if name not in NOISY_STDERR and len(own) != len(err):
        return "exit %d, stray stderr lines %r" % (rc, [l for l in err if l not in own][:2])
    if any("bareawait:" in l for l in err):
        return "exit %d, runtime abort %r" % (rc, [l for l in err if "bareawait:" in l][:1])
    return None


def cases_for(counts, args, name):
    cases = [(fn, mode, n) for (fn, mode), c in sorted(counts.items())
             if fn != "clock_gettime" for n in range(1, c + 1)]
    if args.every > 1:
        cases = cases[::args.every]
    if args.sample:
        rnd = random.Random("%s-%d" % (name, args.seed))
        cases = sorted(rnd.sample(cases, min(args.sample, len(cases))))
    if args.short_all:
        cases += [(fn, "short", "all") for (fn, mode) in sorted(counts) if mode == "short"]
    return cases


def sweep(name, env):
    run = SCENARIOS[name]
    rc, out, err, rep_path = run(env, None, None, 0, name + "-clean")
    rep = parse_report(rep_path)
    if rc == "hang" or rep is None:
        print("%s: the fault-free run failed (exit %s): %r" % (name, rc, (err or [])[-3:]))
        return 1, 1, ["fault-free run: exit %s" % rc]
    clean = {"rc": rc, "out": out, "live": rep["live"], "fds": rep["fds"]}
    cases = cases_for(rep["counts"], env.args, name)
    failures = []

    def one(i_case):
        i, (fn, mode, n) = i_case
        res = run(env, fn, mode, n, "%s-%d" % (name, i))
        why = judge(name, clean, res, mode)
        if why and why.startswith("leak") and not env.args.valgrind:
            # The live count is a hint (a worker thread still exiting
            # holds blocks too): memcheck decides.
            vres = run(env, fn, mode, n, "%s-%d-vg" % (name, i), vg=True)
            why = None if vres[0] != 99 else "leak (memcheck): " + " | ".join(
                l for l in vres[2] if "lost" in l or " at " in l)[:300]
        for p in (res[3], res[3][:-4] + "-vg.rep"):
            if os.path.exists(p):
                os.unlink(p)
        return (fn, mode, n, why)

    with concurrent.futures.ThreadPoolExecutor(env.args.jobs) as ex:
        for fn, mode, n, why in ex.map(one, enumerate(cases)):
            if why:
                failures.append("  %s #%s %s: %s" % (fn, n, mode, why))
    return len(cases), len(failures), failures


def start_server(args, work):
    ports = os.path.join(work, "ports")
    f = open(ports, "w")
    srv = subprocess.Popen([args.server, "600"], stdout=f, stderr=subprocess.DEVNULL)
    for _ in range(200):
        with open(ports) as r:
            line = r.read().split()
        if len(line) >= 4:
            return srv, "http://127.0.0.1:%s" % line[0]
        time.sleep(0.05)
    srv.kill()
    sys.exit("run.py: fetch_testserver did not start")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for opt in ("--fetch", "--server", "--gateway", "--inject"):
        ap.add_argument(opt, required=True)
    ap.add_argument("--every", type=int, default=1)
    ap.add_argument("--sample", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--valgrind", action="store_true")
    ap.add_argument("--short-all", action="store_true",
                    help="also one run per function with every read/write short")
    ap.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    args = ap.parse_args()
    args.inject = os.path.abspath(args.inject)
    work = tempfile.mkdtemp(prefix="ba-fault-")
    srv, base = start_server(args, work)
    env = Env(args, base, work)
    total_runs = total_failed = 0
    t0 = time.monotonic()
    try:
        for name in args.scenario or list(SCENARIOS):
            runs, failed, failures = sweep(name, env)
            print("%s: %d runs, %d failed" % (name, runs, failed), flush=True)
            for f in failures:
                print(f, flush=True)
            total_runs += runs
            total_failed += failed
    finally:
        srv.kill()
        srv.wait()
        subprocess.run(["rm", "-rf", work])
    print("faults: %d runs, %d failed in %.0f s" % (total_runs, total_failed,
                                                    time.monotonic() - t0))
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())

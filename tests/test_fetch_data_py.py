"""test_fetch_data_py.py SCRIPT MODE: runs examples/python/fetch_data.py
with --stdlib or --httpx (against its own server in the same process) and
checks what a reader relies on when reading it beside fetch --trace: exit
0, the text on stdout, the seven steps in order on stderr, a task step
that lists the frames returned to the loop, and an epoll_wait that slept
for the server's 100 ms.  Exit 77 (skipped) when the mode's client is not
importable; the script says why.
"""
import re
import subprocess
import sys

script, mode = sys.argv[1], sys.argv[2]
run = subprocess.run([sys.executable, script, mode], capture_output=True, text=True, timeout=60)
if run.returncode == 77:
    print(run.stderr.strip())
    sys.exit(77)
failures = []


def check(ok, what, got):
    if not ok:
        failures.append(f"{what}\n    got: {got!r}")


check(run.returncode == 0, "exit status 0", run.returncode)
check(run.stdout == "Hello from the Python demo server, a coroutine in this process.\n",
      "the text on stdout", run.stdout)
steps = [int(m) for m in re.findall(r"^step (\d):", run.stderr, re.M)]
check(steps == [1, 2, 3, 4, 5, 6, 7], "steps 1-7, once each, in order", steps)
check(re.search(r"task fetch_data: suspended; \d+ frames returned to the loop: fetch_data > ",
                run.stderr), "a suspension of fetch_data with its await chain", run.stderr[-2000:])
slept = [float(x) for x in re.findall(r"epoll_wait returned after ([\d.]+) ms: no fd", run.stderr)]
# Generous: the server's 100 ms timer, on a loaded machine.
check(any(80 <= x <= 5000 for x in slept), "an epoll_wait that slept ~100 ms for the timer", slept)
check("the timer of an asyncio.sleep" in run.stderr, "the sleep's reason named", "")
for f in failures:
    print("FAIL:", f)
if failures:
    print("--- stderr ---\n" + run.stderr)
    sys.exit(1)
print(f"ok: {mode}, {len(run.stderr.splitlines())} trace lines")

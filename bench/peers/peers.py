"""bench/peers/peers.py - asyncio (and uvloop, with --uvloop) as a peer.

    python3 peers.py [--uvloop] [--quick] [--million]

prints one "name value" line per measure:
  yield_ns          two tasks each awaiting asyncio.sleep(0), per yield
  spawn_join_ns     await loop.create_task(coro that returns at once)
  fd_wake_ns        a task parked on a future that loop.add_reader's
                    callback completes when a pipe turns readable, woken by
                    another task's os.write: half a round trip
  million_create_s  1M tasks created and each run until it awaits a future
  million_bytes     RSS growth / 1M (from /proc/self/status)
Each is the median of three rounds (the million: one).  A comparison
program only.
"""
import asyncio
import os
import statistics
import sys
import time


def rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return -1


async def yield_ns(n):
    async def loop():
        for _ in range(n):
            await asyncio.sleep(0)
    t0 = time.perf_counter_ns()
    await asyncio.gather(loop(), loop())
    return (time.perf_counter_ns() - t0) / (2 * n)


async def spawn_join_ns(n):
    async def nothing():
        return None
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter_ns()
    for _ in range(n):
        await loop.create_task(nothing())
    return (time.perf_counter_ns() - t0) / n


async def readable(loop, fd):
    """Parks the task until fd is readable (the way asyncio's own streams
    wait: a future completed by the reader callback)."""
    fut = loop.create_future()
    loop.add_reader(fd, fut.set_result, None)
    try:
        await fut
    finally:
        loop.remove_reader(fd)


async def fd_wake_ns(n):
    loop = asyncio.get_running_loop()
    ar, aw = os.pipe2(os.O_NONBLOCK)
    br, bw = os.pipe2(os.O_NONBLOCK)

    async def echo():
        for _ in range(n):
            await readable(loop, ar)
            os.write(bw, os.read(ar, 64))  # asks 64, gets 1, as bench/sched
    task = loop.create_task(echo())
    t0 = time.perf_counter_ns()
    for _ in range(n):
        os.write(aw, b"p")
        await readable(loop, br)
        os.read(br, 64)
    elapsed = time.perf_counter_ns() - t0
    await task
    for fd in (ar, aw, br, bw):
        os.close(fd)
    return elapsed / (2 * n)


async def million(n):
    loop = asyncio.get_running_loop()
    block = loop.create_future()
    started = 0

    async def park():
        nonlocal started
        started += 1
        await block
    rss0 = rss_bytes()
    t0 = time.perf_counter()
    tasks = [loop.create_task(park()) for _ in range(n)]
    while started < n:  # FIFO: one sleep(0) runs every task once
        await asyncio.sleep(0)
    secs = time.perf_counter() - t0
    per = (rss_bytes() - rss0) / n
    for t in tasks:  # not waited for: letting 1M tasks finish takes long
        t.cancel()
    return secs, per


async def main(quick, mil):
    y, s, w = (10000, 1000, 500) if quick else (50000, 20000, 5000)
    a, b, c = [], [], []
    for _ in range(3):
        a.append(await yield_ns(y))
        b.append(await spawn_join_ns(s))
        c.append(await fd_wake_ns(w))
    print("yield_ns %.2f\nspawn_join_ns %.2f\nfd_wake_ns %.2f" %
          (statistics.median(a), statistics.median(b), statistics.median(c)))
    if mil:
        secs, per = await million(2000 if quick else 1000000)
        print("million_create_s %.3f\nmillion_bytes %.0f" % (secs, per))


if __name__ == "__main__":
    args = sys.argv[1:]
    unknown = [x for x in args if x not in ("--uvloop", "--quick", "--million")]
    if unknown:
        sys.exit("usage: peers.py [--uvloop] [--quick] [--million]")
    if "--uvloop" in args:
        import uvloop
        uvloop.install()
    asyncio.run(main("--quick" in args, "--million" in args))

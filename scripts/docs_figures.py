#!/usr/bin/env python3
"""docs_figures.py [OUTDIR]: draws the figures of docs/ as SVG files.

    python3 scripts/docs_figures.py          # rewrites docs/*.svg
    python3 scripts/docs_figures.py /tmp/x   # the same files, elsewhere

Standard library only; the output depends on nothing but this file (no
dates, no randomness), so tests/test_docs_figures.py can regenerate the
figures and compare them byte for byte with the committed ones.  Edit the
tables below, not the SVGs.
"""
import os
import sys
from xml.sax.saxutils import escape

FONT = "font-family='DejaVu Sans Mono, Menlo, Consolas, monospace'"
INK, MUTED, RUN, PARK, SLEEP, BACK = "#222", "#666", "#4a90d9", "#e8a33d", "#9b59b6", "#2e8b57"


class Svg:
    def __init__(self, width, height, title):
        self.w, self.h = width, height
        self.parts = [f"<title>{escape(title)}</title>",
                      f"<rect width='{width}' height='{height}' fill='white'/>",
                      "<defs>"
                      + "".join(f"<marker id='arrow-{n}' markerWidth='10' markerHeight='8' refX='9'"
                                f" refY='4' orient='auto'><path d='M0,0 L10,4 L0,8 z' fill='{c}'/>"
                                "</marker>" for n, c in (("ink", INK), ("run", RUN), ("back", BACK),
                                                          ("park", PARK), ("sleep", SLEEP)))
                      + "</defs>"]

    def text(self, x, y, s, size=13, color=INK, anchor="start", weight="normal"):
        self.parts.append(f"<text x='{x}' y='{y}' {FONT} font-size='{size}' fill='{color}'"
                          f" text-anchor='{anchor}' font-weight='{weight}' stroke='white' stroke-width='3'"
                          f" paint-order='stroke'>{escape(s)}</text>")

    def box(self, x, y, w, h, fill="#f4f6f8", stroke=INK, rx=4, dash=False):
        d = " stroke-dasharray='5,3'" if dash else ""
        self.parts.append(f"<rect x='{x}' y='{y}' width='{w}' height='{h}' rx='{rx}'"
                          f" fill='{fill}' stroke='{stroke}'{d}/>")

    def line(self, x1, y1, x2, y2, color=INK, arrow=None, width=1.5, dash=False):
        m = f" marker-end='url(#arrow-{arrow})'" if arrow else ""
        d = " stroke-dasharray='6,4'" if dash else ""
        self.parts.append(f"<line x1='{x1}' y1='{y1}' x2='{x2}' y2='{y2}' stroke='{color}'"
                          f" stroke-width='{width}'{m}{d}/>")

    def write(self, path):
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write("<?xml version='1.0' encoding='UTF-8'?>\n"
                    f"<svg xmlns='http://www.w3.org/2000/svg' width='{self.w}' height='{self.h}'"
                    f" viewBox='0 0 {self.w} {self.h}'>\n")
            f.write("\n".join(self.parts))
            f.write("\n</svg>\n")


# ---- 1. one await, call by call ----

DOWN = [  # (file, function, what it does there)
    ("examples/05_fetch_one.c", "fetch_data", "response = await client.get(url)"),
    ("http/client.c", "http_get -> http_send", "one request, its deadlines"),
    ("http/client.c", "send_hops -> run_hop -> hop", "redirect loop; one hop"),
    ("http/exchange.c", "ba_exchange_run", "send_request, then read_head"),
    ("http/exchange.c", "read_head", "the reply cannot be there yet"),
    ("http/conn.c", "ba_conn_await_reply", "wait until fd is readable"),
    ("runtime/coro.c", "coro_wait", "the one wait primitive"),
    ("runtime/scheduler.c", "ba_sched_wait", "ba_reactor_watch(fd, READ)"),
    ("runtime/scheduler.c", "park", "PARKED; its deadline into the timer heap"),
    ("runtime/scheduler.c", "ba_sched_switch_away -> pick_next", "run queue empty?"),
    ("runtime/scheduler.c", "poll_reactor(s, 1)", "timeout = nearest deadline"),
    ("runtime/reactor_epoll.c", "ba_reactor_poll", "epoll_wait(...): the thread sleeps"),
]
UP = [  # the way back, bottom to top
    "epoll_wait returns: fd readable",
    "dispatch -> wake_ready -> ba_sched_wake: READY, on the run queue",
    "pick_next pops it; switch_to -> ba_switch_jump (or no switch if it is us)",
    "park returns wake_reason; ba_sched_wait, coro_wait return CORO_WOKE_READY",
    "ba_conn_await_reply returns 0; read_head: ba_conn_fill -> io_read -> read()",
    "http_parse_response; read_body; http_get returns 0: step 4",
]


def await_path(out):
    row, top, left = 34, 64, 34
    s = Svg(1200, top + row * len(DOWN) + 30, "One await in bareawait, call by call")
    s.text(20, 28, "One await (fetch's coroutine, step 3): every frame stays on its own stack",
           size=15, weight="bold")
    s.text(20, 48, "left, down: the calls that park it; right, up: how it resumes (returns into "
           "the same frames, which never left the stack)", size=12, color=MUTED)
    s.line(18, top, 18, top + row * len(DOWN) - 10, RUN, "run", width=2)
    for i, (f, fn, what) in enumerate(DOWN):
        y = top + i * row
        sleeping = i == len(DOWN) - 1
        s.box(left + i * 8, y, 560 - i * 8, row - 6, fill="#f3e9f7" if sleeping else "#eef4fb",
              stroke=SLEEP if sleeping else RUN)
        s.text(left + 8 + i * 8, y + 12, f, size=10, color=MUTED)
        s.text(left + 8 + i * 8, y + 24, f"{fn}: {what}", size=12)
    x = 620
    for j, t in enumerate(UP):
        y = top + (len(DOWN) - 1 - j * 2) * row + row // 2 - 3
        s.text(x + 14, y + 4, t, size=11, color=BACK)
        s.parts.append(f"<circle cx='{x + 4}' cy='{y}' r='3' fill='{BACK}'/>")
    s.line(x + 4, top + (len(DOWN) - 1) * row + row // 2, x + 4, top + 8, BACK, "back", width=2)
    s.write(os.path.join(out, "await-path.svg"))


# ---- 2. two stacks, the stack pointer before and after a switch ----

STACK_A = ["coro_entry", "fetch_data", "http_get ... read_head", "ba_conn_await_reply",
           "coro_wait, ba_sched_wait", "park, ba_sched_switch_away", "switch_to",
           "ba_switch_jump's return address", "rbp rbx r12 r13 r14 r15", "MXCSR, x87 CW"]
STACK_B = ["coro_entry", "ba_srv_conn_main, one_request", "read_head (http/server_conn.c)",
           "io_read ... ba_sched_wait, park", "ba_sched_switch_away", "switch_to",
           "ba_switch_jump's return address", "rbp rbx r12 r13 r14 r15", "MXCSR, x87 CW"]


def one_stack(s, x, y0, frames, label, saved_from, sp_label, sp_color):
    cell = 24
    s.text(x, y0 - 10, label, size=12, weight="bold")
    for i, fr in enumerate(frames):
        y = y0 + i * cell
        saved = i >= saved_from
        s.box(x, y, 250, cell, fill="#fdf1dc" if saved else "#eef4fb",
              stroke=PARK if saved else RUN, rx=0)
        s.text(x + 8, y + 16, fr, size=11)
    bottom = y0 + len(frames) * cell
    s.line(x + 320, bottom, x + 256, bottom, sp_color, "ink" if sp_color == INK else "run", 2)
    s.text(x + 326, bottom + 4, sp_label, size=11, color=sp_color)
    s.text(x, bottom + 18, "lower addresses (stacks grow down)", size=10, color=MUTED)


def stacks(out):
    s = Svg(1000, 690, "Two coroutine stacks and the stack pointer, before and after a switch")
    s.text(20, 28, "ba_switch_jump(&fetch->ctx, &conn->ctx) on x86_64 (runtime/switch_x86_64.S)",
           size=15, weight="bold")
    s.text(20, 46, "fetch parks; demo-conn, parked reading its socket, was just made ready (fetch's "
           "request arrived).", size=11, color=MUTED)
    s.text(20, 60, "orange: what the switch pushed; blue: ordinary C frames, left as they are",
           size=11, color=MUTED)
    s.text(20, 82, "before: fetch runs, rsp is on fetch's stack", size=13, color=RUN)
    one_stack(s, 20, 104, STACK_A[:7], "fetch's stack", 99, "rsp", RUN)
    one_stack(s, 520, 104, STACK_B, "demo-conn's stack (parked)", 6, "conn->ctx.sp", INK)
    s.text(20, 374, "after: pushes on fetch's stack, movq %rsp,(%rdi); movq (%rsi),%rsp; pops, ret",
           size=13, color=RUN)
    one_stack(s, 20, 402, STACK_A, "fetch's stack (parked now)", 7, "fetch->ctx.sp", INK)
    one_stack(s, 520, 402, STACK_B[:6], "demo-conn's stack (running: popped, ret into switch_to)", 99,
              "rsp", RUN)
    s.write(os.path.join(out, "stacks.svg"))


# ---- 3. park -> epoll_wait -> wake -> resume ----

LANES = ["fetch (coroutine)", "demo-conn (coroutine)", "reactor (reactor_epoll.c)", "kernel"]
EVENTS = [  # (from lane, to lane or None, text, colour)
    (0, None, "read_head: coro_wait(fd 5, READ) -> park: PARKED", PARK),
    (0, 1, "ba_sched_switch_away: pick_next pops demo-conn; switch_to", RUN),
    (1, None, "reads the request; coro_sleep_until(+100 ms) -> park", PARK),
    (1, 2, "ba_sched_switch_away: queue empty -> poll_reactor(s, 1)", SLEEP),
    (2, 3, "epoll_wait(epfd, ..., timeout = demo-conn's deadline)", SLEEP),
    (3, 2, "100 ms later: timeout (no fd ready)", SLEEP),
    (2, 1, "expire_timers -> ba_sched_wake(demo-conn, TIMEOUT); same coroutine: no switch", BACK),
    (1, None, "writes the reply to its socket; parks on fd 6 (the next request)", PARK),
    (1, 2, "run queue empty -> poll_reactor(s, 1) again", SLEEP),
    (3, 2, "epoll_wait returns at once: fd 5 readable", SLEEP),
    (2, 0, "dispatch -> wake_ready -> ba_sched_wake(fetch, READY); switch_to fetch", BACK),
    (0, None, "park returns CORO_WOKE_READY; read_head -> io_read: the reply; step 4", RUN),
]


def park_wake(out):
    lane_w, top, row = 230, 90, 38
    s = Svg(40 + lane_w * len(LANES), top + row * len(EVENTS) + 30,
            "park, epoll_wait, wake, resume: the demo's step 3")
    s.text(20, 28, "park -> epoll_wait -> wake -> resume (scripts/demo, step 3; one thread)",
           size=15, weight="bold")
    s.text(20, 46, "epoll_wait runs on the stack of whichever coroutine parked last: no "
           "scheduler thread, no scheduler stack", size=12, color=MUTED)
    for i, name in enumerate(LANES):
        cx = 20 + lane_w * i + lane_w // 2
        s.box(cx - 100, 58, 200, 24, fill="#f4f6f8")
        s.text(cx, 75, name, size=12, anchor="middle", weight="bold")
        s.line(cx, 82, cx, top + row * len(EVENTS), MUTED, dash=True, width=1)
    for j, (a, b, t, c) in enumerate(EVENTS):
        y = top + 14 + j * row
        ax = 20 + lane_w * a + lane_w // 2
        name = {PARK: "park", RUN: "run", BACK: "back", SLEEP: "sleep"}[c]
        if b is None:
            s.parts.append(f"<circle cx='{ax}' cy='{y}' r='5' fill='{c}'/>")
            s.text(ax + 10, y - 4, t, size=11, color=c)
        else:
            bx = 20 + lane_w * b + lane_w // 2
            s.line(ax, y, bx + (-6 if bx > ax else 6), y, c, name, 2)
            s.text(min(ax, bx) + 6, y - 5, t, size=11, color=c)
    s.write(os.path.join(out, "park-wake.svg"))


# ---- 4. stackful next to stackless, on the seed's seven steps ----

STEPS = [
    ("1 call fetch_data(url)",
     "coro_spawn: a stack, a first frame; on the run queue",
     "a coroutine object, no frame run; create_task schedules its first step"),
    ("2 async with Client()",
     "http_client_open: a plain call, no suspension",
     "AsyncClient() and __aenter__: awaited; may suspend"),
    ("3 await client.get(url)",
     "each would-block: coro_wait parks; the frames stay; switch to the next",
     "each would-block: the future is yielded; every frame returns to the loop"),
    ("  (while waiting)",
     "pick_next -> ba_reactor_poll: epoll_wait on the last parker's stack",
     "_run_once -> selector.select: epoll_wait in the loop's own frame"),
    ("4 response received",
     "ba_sched_wake, ba_switch_jump: back inside read_head, mid-call",
     "fd callback sets the future; Task.__step: coro.send() re-enters the chain"),
    ("5 exit async with",
     "http_client_close: a plain call",
     "__aexit__: awaited (closing the pool); may suspend"),
    ("6 return response.text",
     "return from the coroutine's function",
     "return: StopIteration(value) out of coro.send()"),
    ("7 function ends",
     "coro_entry: EXIT, wakes the joiner, stack recycled",
     "the task's result is set; its done-callbacks wake the awaiting task"),
]


def stackful_stackless(out):
    top, row, c0, c1, c2 = 92, 50, 20, 230, 610
    s = Svg(1000, top + row * len(STEPS) + 210,
            "Stackful (bareawait) and stackless (CPython asyncio) on the seed's seven steps")
    s.text(20, 28, "The seed's seven steps, two ways of suspending", size=15, weight="bold")
    s.text(c1, 60, "bareawait (stackful: one C stack per coroutine)", size=12, color=RUN,
           weight="bold")
    s.text(c2, 60, "CPython 3.11 asyncio (stackless: frames on the heap)", size=12, color=PARK,
           weight="bold")
    s.line(20, 70, 980, 70, MUTED, width=1)
    for i, (step, ours, theirs) in enumerate(STEPS):
        y = top + i * row
        hot = i in (2, 3, 4)
        if hot:
            s.box(c0 - 6, y - 18, 966, row - 6, fill="#fbf7ee", stroke="#eee")
        s.text(c0, y, step, size=12, weight="bold")
        for x, t, c in ((c1, ours, RUN), (c2, theirs, PARK)):
            words, lines, cur = t.split(), [], ""
            for w in words:
                if len(cur) + len(w) + 1 > 48:
                    lines.append(cur)
                    cur = w
                else:
                    cur = (cur + " " + w).strip()
            lines.append(cur)
            for k, ln in enumerate(lines):
                s.text(x, y + k * 15, ln, size=11)
    y0 = top + row * len(STEPS) + 10
    s.text(20, y0, "Parked in step 3: where are fetch_data's frames?", size=13, weight="bold")
    for x, title, frames, note, c in (
            (c1, "bareawait: on fetch's own C stack, as they were", OURS_PARKED,
             "meanwhile the thread runs on other coroutines' stacks", RUN),
            (c2, "CPython: the thread's C stack holds only the loop", THEIRS_PARKED,
             "fetch_data, AsyncClient.get...: inside their coroutine", PARK)):
        s.text(x, y0 + 24, title, size=11, color=c, weight="bold")
        for k, fr in enumerate(frames):
            s.box(x, y0 + 34 + k * 20, 330, 20, fill="#ffffff", stroke=c, rx=0)
            s.text(x + 6, y0 + 48 + k * 20, fr, size=11)
        s.text(x, y0 + 48 + len(frames) * 20 + 6, note, size=10, color=MUTED)
    s.text(c2, y0 + 48 + len(THEIRS_PARKED) * 20 + 20, "objects, on the heap, linked by cr_await",
           size=10, color=MUTED)
    s.write(os.path.join(out, "stackful-stackless.svg"))


OURS_PARKED = ["coro_entry", "fetch_data", "http_get, http_send, send_hops, run_hop, hop",
               "ba_exchange_run, read_head, ba_conn_await_reply", "coro_wait, ba_sched_wait, park",
               "ba_sched_switch_away, switch_to, ba_switch_jump"]
THEIRS_PARKED = ["<module>, run, loop.run_until_complete", "BaseEventLoop.run_forever",
                 "BaseEventLoop._run_once", "EpollSelector.select", "epoll.poll -> epoll_wait"]


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    out = argv[1] if len(argv) > 1 else os.path.join(here, "..", "docs")
    os.makedirs(out, exist_ok=True)
    for draw in (await_path, stacks, park_wake, stackful_stackless):
        draw(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

#!/usr/bin/env python3
"""fetch_data.py - the seed's fetch_data(url) on CPython's asyncio, traced.

    async def fetch_data(url):
        async with httpx.AsyncClient() as client:
            response = await client.get(url)
        return response.text

Run it beside `build/examples/fetch` (the C demo, `--trace`): both print
the seed's seven steps, and under them what the event loop does.  Here
that is:

  - "epoll_wait": each time the loop's selector is asked what is ready
    (selectors.EpollSelector.select, i.e. epoll_wait); when the loop has
    nothing to run it may sleep there, at most until its nearest timer;
  - "step": each time a task is resumed.  A task is stackless: resuming it
    calls coro.send(), which re-enters every frame on its await chain, from
    fetch_data down to the one that waits on a future; when that future is
    not done yet, every one of those frames returns, up to the loop.  The
    line lists the chain that just returned (outermost first).

With no URL it starts a server in this process (asyncio.start_server on
127.0.0.1, answering after 100 ms, like the C demo server) and fetches from
it.  httpx is used when importable (python3-httpx); --stdlib, or no httpx,
uses a small client on asyncio's own streams.  No network is needed.

    python3 examples/python/fetch_data.py [--stdlib | --httpx] [URL]

The trace goes to stderr, the text to stdout.  Exit 0 on a 200 answer;
77 with --httpx when httpx is missing (the test suite's "skipped").
"""
import asyncio
import selectors
import sys
import time
import urllib.parse

START = time.monotonic()
DELAY_S = 0.100
BODY = b"Hello from the Python demo server, a coroutine in this process.\n"


def note(text, step=None, seed=""):
    """One trace line, like fetch --trace: step lines are the seed's table
    (its words | what happened | when); others, the time, then text."""
    at = (time.monotonic() - START) * 1000.0
    if step is not None:
        print(f"step {step}: {seed:<26} | {text:<52} | {at:+9.3f} ms", file=sys.stderr, flush=True)
    else:
        print(f"        {at:+9.3f} ms  {text}", file=sys.stderr, flush=True)


# ---- the loop, instrumented ----

def fd_events(key_events):
    """'readable', 'writable' or both, for a selector event mask."""
    words = []
    if key_events & selectors.EVENT_READ:
        words.append("readable")
    if key_events & selectors.EVENT_WRITE:
        words.append("writable")
    return " and ".join(words)


class TracingSelector(selectors.EpollSelector):
    """The loop's selector: every select() is an epoll_wait."""

    def __init__(self):
        super().__init__()
        self.loop = None  # set by TracingLoop, to tell why a wait is bounded

    def select(self, timeout=None):
        if timeout is None:
            limit = "no time limit: only an fd can wake it"
        elif timeout <= 0:
            limit = "timeout 0: a look, no sleep (a callback is ready)"
        else:
            limit = f"at most {timeout * 1000:.1f} ms: {self.loop.nearest_timer()}"
        if timeout is None or timeout > 0:
            note(f"loop: nothing to run: epoll_wait, where the thread may sleep, {limit}")
        t0 = time.monotonic()
        ready = super().select(timeout)
        took = (time.monotonic() - t0) * 1000.0
        what = ", ".join(f"fd {key.fd} {fd_events(ev)}" for key, ev in ready)
        if timeout is None or timeout > 0:
            note(f"loop: epoll_wait returned after {took:.1f} ms: {what or 'no fd (a timer is due)'}")
        elif ready:
            note(f"loop: epoll_wait with timeout 0 (callbacks are ready: a look, no sleep): {what}")
        return ready


def chain_of(coro):
    """The await chain of a suspended coroutine, outermost first, and how
    many of its links are frames (coroutines, generators)."""
    names, frames = [], 0
    while coro is not None:
        code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None) \
            or getattr(coro, "ag_code", None)
        if code is None:  # a Future's iterator or another awaitable: the end
            names.append(type(coro).__name__)
            break
        frames += 1
        names.append(code.co_qualname if hasattr(code, "co_qualname") else code.co_name)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None) \
            or getattr(coro, "ag_await", None)
    return names, frames


class TracedTask(asyncio.tasks._PyTask):
    """asyncio's pure-Python Task (the C one behaves the same, but its step
    cannot be wrapped): each step traced."""

    def _Task__step(self, exc=None):
        name = self.get_name()
        note(f"task {name}: resumed (coro.send re-enters its frames)")
        super()._Task__step(exc)
        if self.done():
            note(f"task {name}: done")
        else:
            chain, frames = chain_of(self.get_coro())
            note(f"task {name}: suspended; {frames} frames returned to the loop: "
                 + " > ".join(chain))


class TracingLoop(asyncio.SelectorEventLoop):
    def __init__(self):
        selector = TracingSelector()
        super().__init__(selector)
        selector.loop = self
        self.set_task_factory(lambda loop, coro, **kw: TracedTask(coro, loop=loop, **kw))

    def nearest_timer(self):
        """Whose deadline bounds the wait (BaseEventLoop keeps a heap)."""
        timers = [h for h in getattr(self, "_scheduled", []) if not h.cancelled()]
        if not timers:
            return "no timer"
        cb = getattr(timers[0], "_callback", None)
        name = getattr(cb, "__qualname__", repr(cb))
        if name == "_set_result_unless_cancelled":
            return "the timer of an asyncio.sleep"
        return f"the timer of {name}"


# ---- the server, a coroutine in this process (as examples/demo_server.c) ----

async def serve_one(reader, writer):
    asyncio.current_task().set_name("demo-conn")
    request_line = (await reader.readuntil(b"\r\n\r\n")).split(b"\r\n")[0].decode()
    note(f"demo-conn: got {request_line!r}; answering in {DELAY_S * 1000:.0f} ms")
    await asyncio.sleep(DELAY_S)
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: "
                 + str(len(BODY)).encode() + b"\r\nConnection: close\r\n\r\n" + BODY)
    await writer.drain()
    writer.close()
    note(f"demo-conn: answered 200 OK ({len(BODY)} bytes of body)")


# ---- a client on asyncio's streams, for when httpx is absent ----

class Response:
    def __init__(self, status_code, text):
        self.status_code, self.text = status_code, text


class StreamsClient:
    """async with StreamsClient() as client: await client.get(url)."""

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        return False

    async def get(self, url):
        u = urllib.parse.urlsplit(url)
        reader, writer = await asyncio.open_connection(u.hostname, u.port or 80)
        writer.write(f"GET {u.path or '/'} HTTP/1.1\r\nHost: {u.netloc}\r\n"
                     "Connection: close\r\n\r\n".encode())
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        body = await reader.read()  # to the end: Connection: close
        writer.close()
        await writer.wait_closed()
        return Response(status, body.decode("utf-8", "replace"))


# ---- the seed's function, with its seven steps ----

def client_class(use_httpx):
    if use_httpx:
        import httpx
        return lambda: httpx.AsyncClient(trust_env=False)
    return StreamsClient


async def fetch_data(url, make_client):
    async with make_client() as client:
        note("client ready", 2, "enter async with Client()")
        note(f"client.get({url}) runs until it must wait", 3, "await client.get(url)")
        response = await client.get(url)
        note(f"{response.status_code}, {len(response.text)} characters", 4, "response received")
    note("client closed", 5, "exit async with")
    note("the text goes back to the awaiting task", 6, "return response.text")
    return response.text


async def main(url, use_httpx):
    server = None
    if url is None:
        server = await asyncio.start_server(serve_one, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
    coro = fetch_data(url, client_class(use_httpx))
    note("a coroutine object; it never runs on its own", 1, "call fetch_data(url)")
    task = asyncio.create_task(coro, name="fetch_data")
    note("asyncio.create_task(coro): scheduled; it starts when main awaits")
    try:
        text = await task
    finally:
        if server:
            server.close()
            await server.wait_closed()
    note("the task is done: await task handed over its text", 7, "function ends")
    return text


def run(argv):
    use_httpx = None
    args = [a for a in argv if not a.startswith("--")]
    if "--stdlib" in argv:
        use_httpx = False
    if "--httpx" in argv:
        use_httpx = True
    if len(args) > 1 or any(a not in ("--stdlib", "--httpx") for a in argv if a.startswith("--")):
        print("usage: fetch_data.py [--stdlib | --httpx] [URL]", file=sys.stderr)
        return 2
    try:
        import httpx  # noqa: F401
        have_httpx = True
    except ImportError:
        have_httpx = False
    if use_httpx and not have_httpx:
        print("fetch_data.py: skipped: httpx is not importable here "
              "(Debian: apt-get install python3-httpx)", file=sys.stderr)
        return 77
    if use_httpx is None:
        use_httpx = have_httpx
    global START
    START = time.monotonic()
    note(f"CPython {sys.version.split()[0]}, asyncio on selectors.EpollSelector; client: "
         + ("httpx " + __import__("httpx").__version__ if use_httpx else "asyncio streams"))
    loop = TracingLoop()
    try:
        task = loop.create_task(main(args[0] if args else None, use_httpx), name="main")
        text = loop.run_until_complete(task)
    except Exception as e:  # a failed request: say what failed, like fetch
        print(f"fetch_data.py: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    finally:
        loop.close()
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))

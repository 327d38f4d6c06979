#!/usr/bin/env python3
"""test_fetch_trace.py - fetch --trace, --timeline and --trace-json.

    test_fetch_trace.py FETCH SERVER events   the trace's lines and formats,
                                              and the SVG and JSON made in
                                              the same runs, against each other
    test_fetch_trace.py FETCH SERVER render   the demo's SVG in headless
                                              Chromium: the PNG is not blank

Each check prints what it wanted and what it got.  Exit 0 when all passed,
1 on a failure, 77 (skip) for render without chromium.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
import zlib

FETCH, SERVER, MODE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
failures = []
SVG = "{http://www.w3.org/2000/svg}"


def check(what, ok, got="", want=""):
    if not ok:
        failures.append(what)
        print(f"FAIL {what}\n     got:  {got}\n     want: {want}")


def run_fetch(args, cwd):
    env = dict(os.environ, NO_COLOR="1")
    for v in ("http_proxy", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        env.pop(v, None)
    p = subprocess.run([FETCH] + args, cwd=cwd, env=env, capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


# ---- the trace's text ----

# The demo, in the order things happen.  (A regex each; ids are fixed:
# demo 1, demo-server 2, fetch 3, demo-conn 4.)
DEMO_ORDER = [
    r"^step 1: call fetch_data\(url\) .*\| coro_spawn\(fetch_coroutine\) = fetch \(3\)",
    r"cpu -> fetch \(3\): starts",
    r"^step 2: enter async with Client\(\)",
    r"fetch \(3\) calls http_send\(GET http://127\.0\.0\.1:\d+/\)",
    r"client: connecting to 127\.0\.0\.1:\d+",
    r"fetch \(3\) parks: waits for fd \d+ to be writable, at most",
    r"client: connected to",
    r"client: request written to fd \d+: GET / HTTP/1\.1",
    r"^step 3: await client\.get\(url\) .*\| request went out",
    r"fetch \(3\) parks: waits for fd \d+ to be readable",
    r"cpu -> demo-conn \(4\): starts",
    r"demo-conn \(4\) parks: sleeps on its timer, 100\.0 ms",
    r"thread sleeps in epoll_wait, at most 100\.0 ms: the timer of demo-conn \(4\); awaited: .*fetch \(3\)",
    r"thread woke after \d+\.\d ms: the timer of demo-conn \(4\) is due -> demo-conn \(4\) made ready",
    r"cpu -> demo-conn \(4\): resumes \(made ready",
    r"fd \d+ readable -> fetch \(3\) made ready",
    r"cpu -> fetch \(3\): resumes",
    r"client: response head on fd \d+: HTTP/1\.1 200 OK",
    r"^step 4: response received .*\| 200 OK, 161 bytes of body .*response=200 OK text=none",
    r"^step 5: exit async with .*client=closed",
    r"^step 6: return response\.text .*\| 161 bytes, written as they came .*text=161 bytes",
    r"^step 7: function ends .*\| coroutine complete, data ready",
    r"demo \(1\) made ready: woken by fetch \(3\)",
]

CPU_LINE = re.compile(r"^\s+[+-]?\d+\.\d+ ms  cpu -> ")


def check_order(name, err, patterns):
    lines = err.splitlines()
    at = 0
    for pat in patterns:
        rx = re.compile(pat)
        found = next((i for i in range(at, len(lines)) if rx.search(lines[i])), None)
        check(f"{name}: in order: {pat}", found is not None,
              "\n           ".join(lines[max(0, at - 1):at + 3]), f"a line after line {at}")
        if found is not None:
            at = found + 1


def check_common(name, err):
    """What holds of every trace."""
    lines = err.splitlines()
    times = []
    for ln in lines:
        m = re.search(r"\| \+(\d+\.\d+) ms \|", ln) if ln.startswith("step") else \
            re.match(r"^\s+([+-]?\d+\.\d+) ms  ", ln)
        if m:
            times.append(float(m.group(1)))
    check(f"{name}: line times never go back", times == sorted(times), times, "sorted")
    for ln in lines:
        if CPU_LINE.match(ln):
            check(f"{name}: cpu lines name an id", re.search(r"cpu -> [^()]+ \(\d+\)(:|$)", ln), ln,
                  "cpu -> NAME (ID)")
    # Every sleep is followed by its wake, before the next sleep.
    polls = [ln for ln in lines if "thread sleeps in epoll_wait" in ln or "thread woke after" in ln]
    kinds = ["s" if "sleeps" in ln else "w" for ln in polls]
    check(f"{name}: sleeps and wakes alternate", "".join(kinds) == "sw" * (len(kinds) // 2),
          "".join(kinds), "swsw...")
    check(f"{name}: the old misleading line is gone",
          "no coroutine is ready" not in err, "present", "absent")


def steps_of(err):
    return [int(m.group(1)) for m in re.finditer(r"^step (\d):", err, re.M)]


# ---- the SVG and the JSON, against each other and the trace ----

def svg_facts(path):
    root = ET.parse(path).getroot()
    lanes = {}
    for g in root.iter(SVG + "g"):
        if g.get("class") == "lane":
            lanes[int(g.get("data-lane"))] = g.find(SVG + "text").text
    bars = {}
    for r in root.iter(SVG + "rect"):
        cls = (r.get("class") or "").split()
        if cls[:1] == ["bar"]:
            key = (int(r.get("data-lane")), cls[1])
            bars[key] = bars.get(key, 0) + 1
            check(f"{path}: bar width > 0", float(r.get("width")) > 0, r.get("width"), "> 0")
    marks = [int(g.get("data-step")) for g in root.iter(SVG + "g") if g.get("class") == "mark"]
    wakes = sum(1 for ln in root.iter(SVG + "line") if ln.get("class") == "wake")
    return [lanes[i] for i in sorted(lanes)], bars, marks, wakes


REQUIRED = {"M": ["name", "pid", "tid", "args"], "X": ["name", "pid", "tid", "ts", "dur"],
            "i": ["name", "pid", "tid", "ts", "s"], "s": ["name", "id", "pid", "tid", "ts"],
            "f": ["name", "id", "pid", "tid", "ts", "bp"]}


def json_facts(path):
    with open(path) as f:
        doc = json.load(f)
    events = doc["traceEvents"]
    for e in events:
        for field in REQUIRED.get(e.get("ph"), ["?"]):
            check(f"{path}: {e.get('ph')} event has {field}", field in e, e, field)
    names = {e["tid"]: e["args"]["name"] for e in events
             if e["ph"] == "M" and e["name"] == "thread_name"}
    lanes = [names[t] for t in sorted(names)]
    bars = {}
    for e in (e for e in events if e["ph"] == "X"):
        check(f"{path}: dur >= 0", e["dur"] >= 0, e["dur"], ">= 0")
        key = (e["tid"] - 1, e["name"])
        bars[key] = bars.get(key, 0) + 1
    marks = [e["args"]["step"] for e in events if e["ph"] == "i"]
    flows = [e["ph"] for e in events if e["ph"] in "sf"]
    check(f"{path}: flows pair up", flows.count("s") == flows.count("f"), flows, "s = f")
    return lanes, bars, marks, flows.count("s"), events


def check_pictures(name, err, svg, js):
    s_lanes, s_bars, s_marks, s_wakes = svg_facts(svg)
    j_lanes, j_bars, j_marks, j_wakes, events = json_facts(js)
    check(f"{name}: same lanes in SVG and JSON", s_lanes == j_lanes, s_lanes, j_lanes)
    check(f"{name}: same bars per lane in SVG and JSON", s_bars == j_bars, s_bars, j_bars)
    check(f"{name}: same steps in SVG and JSON", s_marks == j_marks, s_marks, j_marks)
    check(f"{name}: same wakes in SVG and JSON", s_wakes == j_wakes, s_wakes, j_wakes)
    check(f"{name}: the trace's steps are the pictures'", steps_of(err) == s_marks,
          steps_of(err), s_marks)
    check(f"{name}: lane 0 is the thread in epoll_wait", s_lanes[:1] == ["epoll_wait (the thread)"],
          s_lanes[:1], "epoll_wait (the thread)")
    sleeps = err.count("thread sleeps in epoll_wait")
    polls = sum(n for (lane, kind), n in s_bars.items() if kind == "epoll-wait")
    check(f"{name}: an epoll bar per sleep line", polls == sleeps, polls, sleeps)
    # Each "cpu ->" line opens a running bar; main's first bar has no line.
    cpu = sum(1 for ln in err.splitlines() if CPU_LINE.match(ln))
    runs = sum(n for (lane, kind), n in s_bars.items() if kind == "run")
    check(f"{name}: a running bar per cpu line (+ main's start)", runs == cpu + 1, runs, cpu + 1)
    for who in re.findall(r"ms  cpu -> ([^()]+ \(\d+\))", err):
        check(f"{name}: {who} has a lane", who in s_lanes, s_lanes, who)
    return events


def test_demo(work):
    svg, js = os.path.join(work, "demo.svg"), os.path.join(work, "demo.json")
    rc, out, err = run_fetch(["--timeline", svg, "--trace-json", js], work)
    check("demo: exit 0", rc == 0, rc, 0)
    check("demo: the body", "Hello from the demo server" in out, out[:80], "Hello...")
    check("demo: seven steps", steps_of(err) == [1, 2, 3, 4, 5, 6, 7], steps_of(err), "1..7")
    check_order("demo", err, DEMO_ORDER)
    check_common("demo", err)
    m = re.search(r"thread woke after (\d+\.\d) ms: the timer of demo-conn", err)
    check("demo: the 100 ms sleep took about 100 ms", m and float(m.group(1)) >= 95,
          m and m.group(1), ">= 95")
    events = check_pictures("demo", err, svg, js)
    longest = max((e["dur"] for e in events if e["ph"] == "X" and e["name"] == "epoll-wait"),
                  default=0)
    check("demo: JSON ts/dur in microseconds", longest >= 95000, longest, ">= 95000 us")


def start_server(work):
    ports = os.path.join(work, "ports")
    srv = subprocess.Popen([SERVER, "60"], stdout=open(ports, "w"), stderr=subprocess.DEVNULL)
    for _ in range(200):
        if os.path.getsize(ports):
            break
        subprocess.run(["sleep", "0.05"])
    port, refused = open(ports).read().split()[:2]
    return srv, int(port), int(refused)


# Several URLs, one refused: (pattern, in order).
SEVERAL_ORDER = [
    r"^step 1: call fetch_data\(urls\)",
    r"^step 2: enter async with Client\(\)",
    r"^step 3: await client\.get\(url #\d\) .*#\d: response=awaiting text=none",
    r"^step 3: await client\.get\(url #4\) .*request did not go out .*#4: response=awaiting",
    r"^step 4: response #4 received .*no response: could not connect .*#4: response=failed",
    r"^step 5: exit async with",
    r"^step 6: return the texts .*failed: #4: could not connect .*#1:200 OK/\d+ bytes",
    r"^step 7: function ends .*coroutine complete, with a failure",
]


def test_several(work):
    srv, port, refused = start_server(work)
    try:
        base = f"http://127.0.0.1:{port}"
        svg, js = os.path.join(work, "m.svg"), os.path.join(work, "m.json")
        rc, out, err = run_fetch(["--trace", "--timeline", svg, "--trace-json", js,
                                  f"{base}/ok", f"{base}/p/a", f"{base}/slow/30",
                                  f"http://127.0.0.1:{refused}/"], work)
    finally:
        srv.kill()
        srv.wait()
    check("several: exit 7 (the refused one)", rc == 7, rc, 7)
    check("several: steps", sorted(steps_of(err)) == [1, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 6, 7],
          steps_of(err), "1 2 3x4 4x4 5 6 7")
    check_order("several", err, SEVERAL_ORDER)
    check_common("several", err)
    for n in (1, 2, 3):
        check(f"several: step 3 of #{n} after its request is written",
              err.find(f"client (#{n}): request written") <
              err.find(f"await client.get(url #{n})") , "", "written, then step 3")
    check_pictures("several", err, svg, js)
    lanes = svg_facts(svg)[0]
    for n in range(1, 5):
        check(f"several: a lane for fetch #{n}", any(l.startswith(f"fetch #{n} (") for l in lanes),
              lanes, f"fetch #{n} (ID)")


# ---- rendering ----

def png_pixels(path):
    """(width, height, rows of bytes, bytes per pixel) of an 8-bit PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, colour, _, _, interlace = ihdr
    assert depth == 8 and interlace == 0 and colour in (2, 6), ihdr
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, rows, bpp


def test_render(work):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        print("SKIP: no chromium (Debian's package chromium; scripts/test installs it)")
        sys.exit(77)
    svg, png = os.path.join(work, "demo.svg"), os.path.join(work, "demo.png")
    rc, _, _ = run_fetch(["--timeline", svg], work)
    check("render: fetch exit 0", rc == 0, rc, 0)
    p = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                        f"--user-data-dir={os.path.join(work, 'profile')}",
                        f"--screenshot={png}", "--window-size=1200,600", "file://" + svg],
                       capture_output=True, timeout=120)
    check("render: chromium made a PNG", os.path.exists(png), p.stderr.decode()[-400:], png)
    if not os.path.exists(png):
        return
    w, h, rows, bpp = png_pixels(png)
    ink = green = 0
    for row in rows:
        for x in range(0, w * bpp, bpp):
            r, g, b = row[x], row[x + 1], row[x + 2]
            if (r, g, b) != (255, 255, 255):
                ink += 1
            if abs(r - 0x2e) < 12 and abs(g - 0x7d) < 12 and abs(b - 0x32) < 12:
                green += 1
    check("render: the PNG is not blank", ink > w * h // 100, ink, f"> {w * h // 100} pixels")
    check("render: running bars are drawn (green)", green > 200, green, "> 200 pixels")
    print(f"   rendered {w}x{h}: {ink} pixels of ink, {green} of running bars")


def main():
    work = tempfile.mkdtemp(prefix="fetch_trace.")
    try:
        if MODE == "events":
            test_demo(work)
            test_several(work)
        elif MODE == "render":
            test_render(work)
        else:
            print(__doc__)
            sys.exit(2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


main()

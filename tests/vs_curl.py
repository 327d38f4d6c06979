"""vs_curl.py - the machinery of test_fetch_vs_curl.py: its server and
the running and comparing of both sides.

The server answers on 127.0.0.1 (and ::1) from raw sockets, so that
framings, odd heads and broken answers are exact: FIXED maps a path to
its bytes, answer() has the routes that depend on the request.  main(ROWS)
runs each row's arguments through curl and through fetch, each side in an
empty directory of its own, and compares what the row names (see row()).
"""
import concurrent.futures
import gzip
import os
import re
import shlex
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

# ---- the server: path -> the exact bytes of the answer ----


def head(status, headers=(), body=b"", length=True):
    lines = ["HTTP/1.1 %s" % status] + list(headers)
    if length:
        lines.append("Content-Length: %d" % len(body))
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


GZ = gzip.compress(b"hello gzip\n", mtime=0)
BIG = b"".join(b"%07d" % i + b"\n" for i in range(20000))  # 160 000 bytes

# Fixed answers.  A value is bytes (sent, connection kept), or a tuple
# (bytes, "close") to close after it.  Routes that depend on the request
# are in answer().
FIXED = {
    "/cl": head("200 OK", ["Content-Type: text/plain"], b"hello\n"),
    "/chunked": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                 b"6\r\nhello \r\n8\r\nchunked\n\r\n0\r\n\r\n"),
    "/close": (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close\n", "close"),
    "/http10": (b"HTTP/1.0 200 OK\r\n\r\nold style\n", "close"),
    "/zero": head("200 OK"),
    "/204": b"HTTP/1.1 204 No Content\r\n\r\n",
    "/304": b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n",
    "/404": head("404 Not Found", [], b"not found\n"),
    "/500": head("500 Internal Server Error", [], b"oops\n"),
    "/hdr": head("200 OK", ["X-Thing: 42", "Content-Type: text/html; charset=utf-8"], b"<p>\n"),
    "/file.txt": head("200 OK", [], b"file body\n"),
    "/big": head("200 OK", [], BIG),
    "/gzip": head("200 OK", ["Content-Encoding: gzip"], GZ),
    "/garbage": (b"this is not http at all\r\n\r\n", "close"),
    "/truncated": (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten\r\n", "close"),
    "/truncated-chunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"5\r\nhello\r\n", "close"),
    "/badchunk": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "close"),
    "/nothing": (b"", "close"),
    "/loop": head("302 Found", ["Location: /loop"], b"again\n"),
    "/303": head("303 See Other", ["Location: /echo"], b"see other\n"),
    "/307": head("307 Temporary Redirect", ["Location: /echo"], b"temporary\n"),
    "/301": head("301 Moved Permanently", ["Location: /echo"], b"moved\n"),
    "/302": head("302 Found", ["Location: /echo"], b"found\n"),
    "/a/b/rel": head("302 Found", ["Location: ../p/up"], b"relative\n"),
    "/elsewhere": head("302 Found", ["Location: http://127.0.0.1:%(rport)d/x"], b"away\n"),
    "/continue": (b"HTTP/1.1 100 Continue\r\n\r\n" + head("200 OK", [], b"after 100\n")),
    "/noreason": b"HTTP/1.1 200\r\nContent-Length: 3\r\n\r\nok\n",
    "/dupcl": (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", "close"),
    "/chunked-ext": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"5;name=value\r\nhello\r\n1\r\n\n\r\n0\r\nX-Trailer: t\r\n\r\n"),
    "/cl-and-chunked": (b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"3\r\nte\n\r\n0\r\n\r\n", "close"),
    "/te-gzip": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                 + b"%x\r\n" % len(GZ) + GZ + b"\r\n0\r\n\r\n", "close"),
    "/304-cl": b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
    "/503": head("503 Service Unavailable", [], b"busy\n"),
    "/bigheader": (b"HTTP/1.1 200 OK\r\nX-Big: " + b"x" * 200000 + b"\r\nContent-Length: 3\r\n\r\nok\n", "close"),
    "/status-abc": (b"HTTP/1.1 abc Nope\r\nContent-Length: 3\r\n\r\nok\n", "close"),
    "/noloc": head("302 Found", [], b"nowhere\n"),
    "/emptyloc": head("302 Found", ["Location: "], b"empty location\n"),
    "/queryloc": head("302 Found", ["Location: ?x=1"], b"query\n"),
    "/fragloc": head("302 Found", ["Location: /echo#frag"], b"fragment\n"),
    "/308": head("308 Permanent Redirect", ["Location: /echo"], b"permanent\n"),
    "/redirect-to-404": head("302 Found", ["Location: /404"], b"to 404\n"),
    "/tohttps": head("302 Found", ["Location: https://127.0.0.1:%(rport)d/"], b"tls\n"),
    "/spaced": b"HTTP/1.1 200 OK\r\nx-lower:v\r\nX-Pad:   two  spaces   \r\ncontent-length: 3\r\n\r\nok\n",
    "/abs": head("302 Found", ["Location: http://127.0.0.1:%(port)d/cl"], b"abs\n"),
    # heads that only the bytes as received show: -i, -v and -w %{size_header}
    "/odd": (b"HTTP/1.1 200  Fine   Thanks \r\nX-A:v\r\nX-Tab:\tt1\t \r\nX-Fold: a\r\n"
             b"  folded\r\n\tmore\r\nContent-Length: 3\r\n\r\nok\n"),
    "/lf": b"HTTP/1.1 200 OK\nX-A: 1\nContent-Length: 3\n\nok\n",
    "/mixed-ends": b"HTTP/1.1 200 OK\r\nX-A: 1\nContent-Length: 3\r\n\nok\n",
    "/1xx": (b"HTTP/1.1 100 Continue\r\nX-I: 1\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
             b"Link: </s>\r\n\r\n" + head("200 OK", [], b"ok\n")),
    "/1xx-redirect": b"HTTP/1.1 100 Continue\r\n\r\n" + head("302  Go", ["Location: /1xx"]),
    "/trailers": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n"
                  b"3\r\nok\n\r\n0\r\nX-T: t\r\nX-U:  u2 \r\n\r\n"),
    "/trailers-lf": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"3\r\nok\n\r\n0\nX-T: t\n\n"),
    "/trailer-nocolon": (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"3\r\nok\n\r\n0\r\nX-T: a\r\n  b\r\nnocolon\r\n\r\n"),
    "/redirect-trailers": (b"HTTP/1.1 302 Found\r\nLocation: /odd\r\nTransfer-Encoding: chunked\r\n"
                           b"\r\n3\r\nab\n\r\n0\r\nX-RT: r\r\n\r\n"),
}


def answer(method, path, head_bytes, body):
    """The bytes to send for one request, and whether to close after."""
    route = path.split("?", 1)[0]
    if route.startswith("http://"):  # proxy form: route by the path
        route = "/" + route.split("/", 3)[3] if route.count("/") >= 3 else "/"
        route = route.split("?", 1)[0]
    if route.startswith("/r/"):
        n = int(route[3:] or 0)
        out = (head("200 OK", [], b"arrived\n") if n <= 0 else
               head("302 Found", ["Location: /r/%d" % (n - 1)], b"hop\n"))
    elif route.startswith("/p/"):
        out = head("200 OK", [], route[3:].encode() + b"\n")
    elif route == "/echo" or route.startswith("/echo/"):
        out = head("200 OK", [], head_bytes + body)
    elif route == "/range":
        m = re.search(rb"(?i)\r\nRange: bytes=(\d+)-(\d+)\r\n", head_bytes)
        full = b"0123456789abcdef\n"
        out = (head("206 Partial Content", ["Content-Range: bytes %s-%s/17" % (
                    m.group(1).decode(), m.group(2).decode())],
                    full[int(m.group(1)):int(m.group(2)) + 1]) if m else
               head("200 OK", [], full))
    elif route in ("/slowbody", "/reset"):
        return route == "/slowbody" and b"slow" or b"reset", "special"
    elif route == "/slow":
        time.sleep(6)  # past every -m of the rows
        out = head("200 OK", [], b"slow\n")
    else:
        out = FIXED.get(route, head("404 Not Found", [], b"no route\n"))
    close = isinstance(out, tuple)
    data = out[0] if close else out
    data = data.replace(b"%(port)d", str(PORT).encode()).replace(b"%(rport)d", str(RPORT).encode())
    if method == "HEAD" and not close:
        data = data.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    return data, close


def read_request(sock, buf):
    """(method, target, head, body, rest) or None at EOF.  The body is
    de-chunked; head is the request line and header lines, as sent."""
    while b"\r\n\r\n" not in buf:
        more = sock.recv(65536)
        if not more:
            return None
        buf += more
    raw, buf = buf.split(b"\r\n\r\n", 1)
    raw += b"\r\n\r\n"
    lines = raw.decode("latin-1").split("\r\n")
    method, target = lines[0].split(" ")[:2]
    fields = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
              for l in lines[1:] if ":" in l}
    body = b""
    if "content-length" in fields:
        n = int(fields["content-length"])
        while len(buf) < n:
            more = sock.recv(65536)
            if not more:
                return None
            buf += more
        body, buf = buf[:n], buf[n:]
    elif fields.get("transfer-encoding", "").lower() == "chunked":
        while True:
            while b"\r\n" not in buf:
                buf += sock.recv(65536)
            size_line, buf = buf.split(b"\r\n", 1)
            size = int(size_line.split(b";")[0], 16)
            while len(buf) < size + 2:
                buf += sock.recv(65536)
            body, buf = body + buf[:size], buf[size + 2:]
            if size == 0:
                break
    return method, target, raw, body, buf


def special(sock, what):
    """/slowbody: half the body, then 6 s of silence (-m during the body);
    /reset: half the body, then RST (SO_LINGER 0)."""
    sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\nfirst half\n")
    if what == b"slow":
        time.sleep(6)
        sock.sendall(b"second...\n")
    else:
        time.sleep(0.1)  # the first half is read before the RST
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def serve_conn(sock):
    buf = b""
    try:
        while True:
            got = read_request(sock, buf)
            if got is None:
                return
            method, target, raw, body, buf = got
            data, close = answer(method, target, raw, body)
            if close == "special":
                return special(sock, data)
            sock.sendall(data)
            if close:
                return
    except (OSError, ValueError, IndexError):
        return
    finally:
        sock.close()


def start_server():
    global PORT
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(64)
    PORT = lsock.getsockname()[1]

    def loop(ls):
        while True:
            s, _ = ls.accept()
            threading.Thread(target=serve_conn, args=(s,), daemon=True).start()
    threading.Thread(target=loop, args=(lsock,), daemon=True).start()
    global PORT6
    try:  # the same routes on ::1, where the machine has it
        l6 = socket.socket(socket.AF_INET6)
        l6.bind(("::1", PORT))
        l6.listen(64)
        PORT6 = PORT
        threading.Thread(target=loop, args=(l6,), daemon=True).start()
    except OSError:
        PORT6 = 0
    refused = socket.socket()  # bound, never listening: connect gets RST
    refused.bind(("127.0.0.1", 0))
    global RPORT
    RPORT = refused.getsockname()[1]
    # Listening with a full accept queue: a new connect's SYN is dropped,
    # so it hangs until its timeout (the --connect-timeout rows).
    hole = socket.socket()
    hole.bind(("127.0.0.1", 0))
    hole.listen(0)
    fillers = []
    for _ in range(3):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(hole.getsockname())
        fillers.append(f)
    return refused, hole, fillers


# One command's limit in seconds; VS_CURL_TIMEOUT=120 under valgrind.
TIMEOUT = float(os.environ.get("VS_CURL_TIMEOUT", "20"))
NAMES = {}  # the placeholders, once the servers are up
PORT = 0
PORT6 = 0  # PORT on ::1 too, or 0
RPORT = 0  # the refused port


# ---- the cases ----
#
# args: one shell-quoted string; {B} is the server's base URL, {R} a
#   refused port's, {I} the directory of input files (made below).
# cmp: what must be equal: rc (exit code), out (stdout bytes), files (the
#   files each side wrote in its own empty working directory), verbose
#   (-v's > and < lines, sorted, CR dropped), rawverbose (-v's < lines
#   in order, byte for byte).
# err: a regex (case-insensitive) that both sides' stderr must match;
#   "" means stderr must be empty on both.
# norm: "echo" to compare a request echoed back with the User-Agent and
#   the header order set aside (the two clients' defaults differ);
#   "numbers" to compare timings by their shape (every digit run is N).
# fetch_rc: a deliberate difference: fetch's exit code, documented in the
#   README; only it and err (on fetch's side) are checked then, and
# fetch_out: fetch's stdout, where the row gives it.


def row(name, args, cmp="rc out files", err=None, **extra):
    return dict(name=name, args=args, cmp=cmp.split(), err=err, **extra)



# ---- running both sides ----


def setup_inputs(d):
    with open(os.path.join(d, "lines"), "wb") as f:
        f.write(b"line one\r\nline two\n\nend")
    with open(os.path.join(d, "fmt"), "w") as f:
        f.write("code=%{http_code}\n")


def fill(text, names):
    for k, v in names.items():
        text = text.replace("{%s}" % k, str(v))
    return text


def run_side(prog, r, names):
    cwd = tempfile.mkdtemp(prefix="vs_curl_")
    argv = prog + shlex.split(fill(r["args"], names))
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")}
    env["HOME"] = cwd  # no ~/.curlrc
    env.update({k: fill(v, names) for k, v in r.get("env", {}).items()})
    stdout, out_end = subprocess.PIPE, None
    if r.get("broken_pipe"):  # a pipe nobody reads: writes get EPIPE
        read_end, out_end = os.pipe()
        os.close(read_end)
        stdout = out_end
    try:
        p = subprocess.run(argv, cwd=cwd, env=env, input=r.get("stdin", b""),
                           stdout=stdout, stderr=subprocess.PIPE, timeout=TIMEOUT)
        rc, out, err = p.returncode, p.stdout or b"", p.stderr
    except subprocess.TimeoutExpired as e:
        rc, out, err = "timeout", e.stdout or b"", e.stderr or b""
    if out_end is not None:
        os.close(out_end)
    files = {}
    for dirpath, _, names_ in os.walk(cwd):
        for n in names_:
            path = os.path.join(dirpath, n)
            with open(path, "rb") as f:
                files[os.path.relpath(path, cwd)] = f.read()
    shutil.rmtree(cwd, ignore_errors=True)
    err = re.sub(rb"==\d+==WARNING: ASan doesn't fully support makecontext.*\n", b"", err)
    return dict(rc=rc, out=out, err=err, files=files)


def norm_echo(out):
    """A request echoed back: the default User-Agent, curl's Expect and the
    order of the header lines set aside."""
    parts = out.split(b"\r\n\r\n", 1)
    lines = parts[0].split(b"\r\n")
    fields = sorted(l for l in lines[1:]
                    if not re.match(rb"(?i)user-agent: (curl|bareawait)/|expect: 100|proxy-connection:", l))
    return b"\r\n".join([lines[0]] + fields) + b"\r\n\r\n" + (parts[1] if len(parts) > 1 else b"")


def norm_verbose(err):
    """-v's request (>) and response (<) lines, CR dropped, the same
    lines set aside as in norm_echo, each side's lines sorted: curl's
    "*" lines are its own."""
    lines = [l.rstrip(b"\r") for l in err.split(b"\n") if l[:2] in (b"> ", b"< ")]
    lines = [l for l in lines
             if not re.match(rb"(?i)[<>] (user-agent: (curl|bareawait)/|expect: 100|proxy-connection:)", l)]
    return sorted(l for l in lines if l[:1] == b">") + sorted(l for l in lines if l[:1] == b"<")


def raw_verbose(err):
    """-v's response (<) lines in order, byte for byte (line ends too)."""
    return [l for l in err.split(b"\n") if l[:2] == b"< "]


def compare(r, c, f):
    """The list of what differs, empty when the row holds."""
    bad = []
    want_rc = r.get("fetch_rc", c["rc"])
    if "fetch_rc" in r or "rc" in r["cmp"]:
        if f["rc"] != want_rc:
            bad.append("exit code: curl %s, fetch %s (want %s)" % (c["rc"], f["rc"], want_rc))
    want_out = fill(r.get("fetch_out", b"").decode("latin-1"), NAMES).encode("latin-1")
    if "fetch_out" in r and f["out"] != want_out:
        bad.append("fetch's stdout is not %r" % want_out)
    if "out" in r["cmp"]:
        co, fo = c["out"], f["out"]
        if r.get("norm") == "echo":
            co, fo = norm_echo(co), norm_echo(fo)
        if r.get("norm") == "numbers":  # "0.000123" -> "N.N"
            co, fo = (re.sub(rb"\d+", b"N", x) for x in (co, fo))
        if co != fo:
            bad.append("stdout differs")
    if "verbose" in r["cmp"] and norm_verbose(c["err"]) != norm_verbose(f["err"]):
        bad.append("-v's > and < lines differ: curl %r, fetch %r" % (
            norm_verbose(c["err"]), norm_verbose(f["err"])))
    if "rawverbose" in r["cmp"] and raw_verbose(c["err"]) != raw_verbose(f["err"]):
        bad.append("-v's < lines differ: curl %r, fetch %r" % (
            raw_verbose(c["err"]), raw_verbose(f["err"])))
    if "files" in r["cmp"] and c["files"] != f["files"]:
        bad.append("files differ")
    # A deliberate difference: only fetch's stderr is checked.
    sides = (("fetch", f),) if "fetch_rc" in r else (("curl", c), ("fetch", f))
    if r["err"] == "":
        for side, res in sides:
            if res["err"]:
                bad.append("%s's stderr should be empty" % side)
    elif r["err"] is not None:
        for side, res in sides:
            if not re.search(r["err"], res["err"].decode("latin-1"), re.I):
                bad.append("%s's stderr does not match /%s/" % (side, r["err"]))
    return bad


def show(side, res):
    files = {k: v[:200] for k, v in res["files"].items()}
    return ("  %-5s rc=%s\n        stdout=%r\n        stderr=%r\n        files=%r"
            % (side, res["rc"], res["out"][:400], res["err"][:400], files))


def refused6():
    """A port on ::1 that refuses (bound, not listening), or 1."""
    global REFUSED6
    try:
        REFUSED6 = socket.socket(socket.AF_INET6)
        REFUSED6.bind(("::1", 0))
        return REFUSED6.getsockname()[1]
    except OSError:
        return 1

def main(rows_all):
    curl = shutil.which("curl")
    if curl is None:
        print("SKIP: curl is not installed (apt-get install curl)")
        return 77
    fetch = shlex.split(os.environ.get("FETCH_WRAP", "")) + [os.path.abspath(sys.argv[1])]
    # In sanitizer builds: a leak or UB report is an exit code no row
    # expects (99), not a warning that a regex row might let through.
    for var, opts in (("LSAN_OPTIONS", "exitcode=99"),
                      ("UBSAN_OPTIONS", "halt_on_error=1:exitcode=99:print_stacktrace=1")):
        os.environ[var] = (os.environ[var] + ":" if os.environ.get(var) else "") + opts
    refused, hole, fillers = start_server()
    inputs = tempfile.mkdtemp(prefix="vs_curl_in_")
    setup_inputs(inputs)
    names = dict(B="http://127.0.0.1:%d" % PORT, PORT=PORT, I=inputs,
                 RPORT=RPORT, PORT6=PORT6, RPORT6=refused6(), H="http://127.0.0.1:%d" % hole.getsockname()[1],
                 R="http://127.0.0.1:%d" % refused.getsockname()[1])
    NAMES.update(names)
    only = os.environ.get("VS_CURL_ONLY")

    def one(r):
        return r, run_side([curl, "-q"], r, names), run_side(fetch, r, names)

    rows = [r for r in rows_all if (not only or re.search(only, r["name"]))
            and (PORT6 or not r.get("ipv6"))]
    failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        for r, c, f in pool.map(one, rows):
            bad = compare(r, c, f)
            if bad:
                failed += 1
                print("FAIL %s: %s\n  args: %s\n%s\n%s" % (r["name"], "; ".join(bad),
                      fill(r["args"], names), show("curl", c), show("fetch", f)))
    shutil.rmtree(inputs, ignore_errors=True)
    print("%d of %d rows agree with curl" % (len(rows) - failed, len(rows)))
    return 1 if failed else 0

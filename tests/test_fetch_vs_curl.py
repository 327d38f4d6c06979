#!/usr/bin/env python3
"""test_fetch_vs_curl.py - fetch and curl side by side, one row per case.

    test_fetch_vs_curl.py FETCH

Runs every row's arguments through curl and through FETCH against a small
server of its own (below: raw sockets on 127.0.0.1, so that framings and
broken answers are exact), each side in an empty directory of its own, and
compares what the row names: the exit code, the stdout bytes, the files
written and the gist of stderr (a regex that both sides' stderr must
match: the messages need not be curl's words, but must say the same).
A row with `fetch_rc` is a difference fetch makes on purpose, each one
listed in the README ("Where fetch differs from curl").

Exit 0 when every row agrees, 1 otherwise (both sides printed), 77 when
curl is not installed.  FETCH_WRAP="valgrind --error-exitcode=99 -q" runs
fetch under a wrapper (with VS_CURL_TIMEOUT=120, and VS_CURL_ONLY=REGEX
to run only the rows whose name matches).  Loopback only; "nonexistent.invalid" is never
resolved by anyone (RFC 6761: .invalid names do not exist).
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
#   files each side wrote in its own empty working directory).
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


CONNECT_ERR = r"connect"
ROWS = [
    # bodies of every framing, and the heads with -i / -I
    row("content-length", "-sS {B}/cl", err=""),
    row("chunked", "-sS {B}/chunked", err=""),
    row("chunk extension and trailer", "-sS {B}/chunked-ext", err=""),
    row("-i chunk trailer", "-sS -i {B}/chunked-ext", cmp="", fetch_rc=0, err="",
        fetch_out=b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nhello\n"),
    row("Content-Length and chunked", "-sS {B}/cl-and-chunked", err=""),
    row("304 with Content-Length", "-sS -i {B}/304-cl", err=""),
    row("Transfer-Encoding gzip", "-sS {B}/te-gzip", cmp="", fetch_rc=61, err=r"Transfer-Encoding"),
    row("a 200 KB header line", "-sS {B}/bigheader", cmp="", fetch_rc=8, err=r"too large"),
    row("status not digits", "-sS {B}/status-abc", cmp="", fetch_rc=8, err=r"."),
    row("IPv6 loopback", "-sS -g 'http://[::1]:{PORT6}/cl'", ipv6=True, err=""),
    row("IPv6 refused", "-sS -g 'http://[::1]:{RPORT6}/'", ipv6=True, err=CONNECT_ERR),
    row("fragment not sent", "-sS '{B}/echo#frag'", norm="echo", err=""),
    row("HTTP:// upper case", "-sS HTTP://127.0.0.1:{PORT}/cl", err=""),
    row("close-delimited", "-sS {B}/close", err=""),
    row("http/1.0", "-sS {B}/http10", err=""),
    row("empty body", "-sS {B}/zero", err=""),
    row("204", "-sS {B}/204", err=""),
    row("304", "-sS {B}/304", err=""),
    row("-i content-length", "-sS -i {B}/cl", err=""),
    row("-i chunked", "-sS -i {B}/chunked", err=""),
    row("-i 204", "-sS -i {B}/204", err=""),
    row("-I", "-sS -I {B}/cl", err=""),
    row("-I close-delimited", "-sS -I {B}/close", err=""),
    row("-I 204", "-sS -I {B}/204", err=""),
    row("-I 304", "-sS -I {B}/304", err=""),
    row("-i -o", "-sS -i -o got {B}/cl", err=""),
    row("-i -f 404", "-sS -i -f {B}/404", err=r"404"),
    row("--fail-with-body -o", "-sS --fail-with-body -o got {B}/404", err=r"404"),
    row("-I chunked", "-sS -I {B}/chunked", err=""),
    row("-I 404", "-sS -I {B}/404", err=""),
    row("-X HEAD is not -I", "-sS -X HEAD -m 2 {B}/cl", cmp="", fetch_rc=0, err="", fetch_out=b""),
    row("big body", "-sS {B}/big", err=""),
    row("404 without -f", "-sS {B}/404", err=""),
    # output files
    row("-o", "-sS -o got.txt {B}/cl", err=""),
    row("-O", "-sS -O {B}/file.txt", err=""),
    row("-o - ", "-sS -o - {B}/cl", err=""),
    row("-o two urls", "-sS -o a -o b {B}/cl {B}/chunked", err=""),
    row("-o one of two urls", "-sS -o a {B}/cl {B}/chunked", err=""),
    row("-o #1 glob", "-sS -o 'x_#1.txt' '{B}/p/[1-3]'", err=""),
    row("-O %20 kept", "-sS -O '{B}/p/a%20b.txt'", err=""),
    row("-O glob", "-sS -O '{B}/p/[1-2]'", err=""),
    row("-L -o", "-sS -L -o got {B}/r/2", err=""),
    row("-L -i -o: every head in the file", "-sS -L -i -o got {B}/r/2", err=""),
    row("-L -I -o", "-sS -L -I -o got {B}/r/1", err=""),
    row("-o a directory", "-sS -o . {B}/cl", err=r"."),
    row("--url twice with -o", "-sS --url {B}/cl -o a --url {B}/chunked", err=""),
    row("-o missing dir", "-sS -o no/such/dir {B}/cl", err=r"writ"),
    row("-O without file name", "-sS -O {B}/", err=r"writ|save"),
    # -f, -s, -S
    row("-f 404", "-sS -f {B}/404", err=r"404"),
    row("-f 500", "-sS -f {B}/500", err=r"500"),
    row("-f 200", "-sS -f {B}/cl", err=""),
    row("-f -o 404", "-sS -f -o got {B}/404", err=r"404"),
    row("refused -o", "-sS -o got {R}/", err=CONNECT_ERR),
    row("truncated -o", "-sS -o got {B}/truncated", err=r"."),
    row("--retry 1 on 503", "-sS --retry 1 {B}/503", cmp="", fetch_rc=0, err="", fetch_out=b"busy\n"),
    row("-sSfL bundle", "-sSfL {B}/r/2", err=""),
    row("--fail-with-body", "-sS --fail-with-body {B}/404", err=r"404"),
    row("-s hides errors in curl only", "-s {R}/", cmp="rc out files"),
    row("-v heads", "-sS -v -d a=1 {B}/cl", cmp="rc out verbose"),
    row("-v -L heads", "-sS -v -L {B}/r/1", cmp="rc out verbose"),
    row("-v -I", "-sS -v -I {B}/chunked", cmp="rc out verbose"),
    row("-s alone, 404 -f", "-s -f {B}/404", cmp="rc out files"),
    row("-sS refused", "-sS {R}/", err=CONNECT_ERR),
    # redirects
    row("302 without -L", "-sS {B}/r/1", err=""),
    row("-L chain", "-sS -L {B}/r/3", err=""),
    row("-L relative ../", "-sS -L {B}/a/b/rel", err=""),
    row("-L -I chain", "-sS -L -I {B}/r/2", err=""),
    row("-L -f to 404", "-sS -L -f '{B}/r/1' {B}/404", err=r"404"),
    row("-L 302 POST -> GET", "-sS -L -d x=1 {B}/302", norm="echo", err=""),
    row("-L without Location", "-sS -L {B}/noloc", err=""),
    row("-L empty Location", "-sS -L -w '%{num_redirects}\n' {B}/emptyloc", cmp="rc out"),
    row("-L Location ?query", "-sS -L -w '%{url_effective}\n' {B}/queryloc", cmp="rc out"),
    row("-L Location #fragment", "-sS -L {B}/fragloc", norm="echo", err=""),
    row("-L 308 keeps POST", "-sS -L -d x=1 {B}/308", norm="echo", err=""),
    row("-L -I 303 stays HEAD", "-sS -L -I -o /dev/null -w '%{method} %{http_code}\n' {B}/303", err=""),
    row("-L -i -f final 404", "-sS -L -i -f '{B}/redirect-to-404'", cmp="rc", err=r"404"),
    row("-L to https", "-sS -L {B}/tohttps", cmp="", fetch_rc=1, err=r"protocol"),
    row("--max-redirs -1", "-sS -L --max-redirs -1 {B}/r/5", err=""),
    row("-L through -x", "-sS -L -x 127.0.0.1:{PORT} http://example.invalid/r/2", err=""),
    row("-L -T 307", "-sS -L -T {I}/lines {B}/307", norm="echo", err=""),
    row("-O after -L", "-sS -L -O {B}/r/1", err=""),
    row("-O with a query", "-sS -O '{B}/file.txt?x=1'", err=""),
    row("-L -i chain", "-sS -L -i {B}/r/2", err=""),
    row("-L absolute Location", "-sS -L {B}/abs", err=""),
    row("--max-redirs ok", "-sS -L --max-redirs 3 {B}/r/3", err=""),
    row("--max-redirs over", "-sS -L --max-redirs 2 {B}/r/3", err=r"redirect"),
    row("--max-redirs 0", "-sS -L --max-redirs 0 {B}/r/1", err=r"redirect"),
    row("redirect loop", "-sS -L {B}/loop", err=r"redirect"),
    row("-L 303 POST -> GET", "-sS -L -d x=1 {B}/303", norm="echo", err=""),
    row("-L 307 keeps POST", "-sS -L -d x=1 {B}/307", norm="echo", err=""),
    row("-L 301 POST -> GET", "-sS -L -d x=1 {B}/301", norm="echo", err=""),
    row("-w after -L", "-sS -L -o /dev/null -w '%{http_code} %{num_redirects} %{url_effective}\\n' {B}/r/2"),
    # -w
    row("-w codes", "-sS -o /dev/null -w '%{http_code} %{size_download} %{method} %{scheme}\\n' {B}/cl"),
    row("-w content_type header", "-sS -o /dev/null -w '%{content_type}|%header{x-thing}|%{http_version}\\n' {B}/hdr"),
    row("-w redirect_url", "-sS -o /dev/null -w '%{redirect_url}|%{num_redirects}\\n' {B}/r/1"),
    row("-w exitcode on error", "-sS -w '%{exitcode} %{http_code}\\n' {R}/", err=CONNECT_ERR),
    row("-w remote", "-sS -o /dev/null -w '%{remote_ip} %{url} %{urlnum}\\n' {B}/cl"),
    row("-w %% and escapes", "-sS -o /dev/null -w '100%%\\t%{http_code}\\n' {B}/cl"),
    row("-w filename_effective", "-sS -o f.out -w '%{filename_effective}\\n' {B}/cl"),
    row("-w size_header", "-sS -o /dev/null -w '%{size_header}\\n' {B}/hdr"),
    row("-w on 204", "-sS -w '%{http_code} %{size_download}\n' {B}/204"),
    row("-w chunked size", "-sS -o /dev/null -w '%{size_download}\n' {B}/chunked"),
    row("-w close size", "-sS -o /dev/null -w '%{size_download}\n' {B}/close"),
    row("-w -f 404", "-sS -f -w '%{http_code}\n' {B}/404", err=r"404"),
    row("-w two URLs", "-sS -o /dev/null -o /dev/null -w '%{urlnum} %{http_code}\n' {B}/cl {B}/404"),
    row("-w size_upload", "-sS -o /dev/null -w '%{size_upload}\n' -d abcdef {B}/echo"),
    row("-w %{stderr}", "-sS -o /dev/null -w '%{stderr}to err\n' {B}/cl", err=r"^to err\n$"),
    row("-w response_code", "-sS -o /dev/null -w '%{response_code}\n' {B}/404"),
    row("-w times, their shape", "-sS -o /dev/null -w '%{time_namelookup} %{time_connect} "
        "%{time_starttransfer} %{time_total}\n' {B}/cl", norm="numbers", err=""),
    row("-w -I", "-sS -I -w '%{http_code} %{size_download}\n' {B}/cl", err=""),
    row("-w %{http_code} on refused", "-sS -w '%{http_code}\n' {R}/", err=CONNECT_ERR),
    row("-w url_effective, no path", "-sS -o /dev/null -w '%{url_effective} %{url}\n' {B}", err=""),
    row("-w url_effective, no scheme", "-sS -o /dev/null -w '%{url_effective}\n' 127.0.0.1:{PORT}/cl", err=""),
    row("-w url, no scheme", "-sS -o /dev/null -w '%{url}\n' 127.0.0.1:{PORT}/cl", cmp="", fetch_rc=0,
        fetch_out=b"http://127.0.0.1:{PORT}/cl\n", err=""),
    row("-w url_effective, dot segments", "-sS -o /dev/null -w '%{url_effective}\n' '{B}/a/../cl'", err=""),
    row("-w url_effective, fragment", "-sS -o /dev/null -w '%{url_effective}\n' '{B}/cl#frag'",
        cmp="", fetch_rc=0, fetch_out=b"{B}/cl\n", err=""),
    row("-w url_effective, upper-case host", "-sS -o /dev/null -w '%{url_effective}\n' 'HTTP://LOCALHOST:{PORT}/cl'",
        cmp="", fetch_rc=0, fetch_out=b"http://localhost:{PORT}/cl\n", err=""),
    row("-w %{header} case", "-sS -o /dev/null -w '%header{X-THING} %header{content-type}\n' {B}/hdr", err=""),
    row("-w num_headers referer", "-sS -o /dev/null -e http://r/ -w '%{num_headers} %{referer}\n' {B}/hdr", err=""),
    row("-w no-TLS variables", "-sS -o /dev/null -w '%{time_appconnect} %{ssl_verify_result} "
        "%{proxy_ssl_verify_result} %{http_connect}\n' {B}/cl", err=""),
    row("-w speed and pretransfer, their shape", "-sS -o /dev/null -w '%{speed_download} %{time_pretransfer}\n' {B}/big",
        norm="numbers", err=""),
    row("-w %{json}", "-sS -o /dev/null -w '%{json}' {B}/cl", cmp="", fetch_rc=0, err=r"json"),
    row("-w @file", "-sS -o /dev/null -w @{I}/fmt {B}/cl"),
    # the request
    row("-d", "-sS -d a=1 -d b=2 {B}/echo", norm="echo", err=""),
    row("--data @file", "-sS --data @{I}/lines {B}/echo", norm="echo", err=""),
    row("--data-binary @file", "-sS --data-binary @{I}/lines {B}/echo", norm="echo", err=""),
    row("--data-raw @", "-sS --data-raw @x {B}/echo", norm="echo", err=""),
    row("-d @- stdin", "-sS -d @- {B}/echo", norm="echo", stdin=b"from\nstdin\n", err=""),
    row("-X PUT -d", "-sS -X PUT -d a {B}/echo", norm="echo", err=""),
    row("-X GET -d", "-sS -X GET -d abc {B}/echo", norm="echo", err=""),
    row("-d ''", "-sS -d '' {B}/echo", norm="echo", err=""),
    row("-d @file -d", "-sS -d @{I}/lines -d more {B}/echo", norm="echo", err=""),
    row("-A ''", "-sS -A '' {B}/echo", norm="echo", err=""),
    row("-H twice", "-sS -H 'X-A: 1' -H 'X-A: 2' {B}/echo", norm="echo", err=""),
    row("-H replaces Accept", "-sS -H 'Accept: text/plain' {B}/echo", norm="echo", err=""),
    row("-X DELETE", "-sS -X DELETE {B}/echo", norm="echo", err=""),
    row("-T file", "-sS -T {I}/lines {B}/echo", norm="echo", err=""),
    row("-T file to dir/", "-sS -T {I}/lines {B}/echo/", norm="echo", err=""),
    row("-T - stdin", "-sS -T - {B}/echo", norm="echo", stdin=b"piped\n", err=""),
    row("-H extra", "-sS -H 'X-A: 1' -H 'X-B: two' {B}/echo", norm="echo", err=""),
    row("-H drop Accept", "-sS -H 'Accept:' {B}/echo", norm="echo", err=""),
    row("-H empty value", "-sS -H 'X-Empty;' {B}/echo", norm="echo", err=""),
    row("-H replace Host", "-sS -H 'Host: example' {B}/echo", norm="echo", err=""),
    row("-u", "-sS -u user:pw {B}/echo", norm="echo", err=""),
    row("user in URL", "-sS http://us:pa@127.0.0.1:{PORT}/echo", norm="echo", err=""),
    row("-H 'Host:' drops it", "-sS -H 'Host:' {B}/echo", norm="echo", err=""),
    row("-u and user in URL", "-sS -u a:b http://c:d@127.0.0.1:{PORT}/echo", norm="echo", err=""),
    row("-v -u", "-sS -v -u user:pw {B}/cl", cmp="rc out verbose"),
    row("-L -e -A", "-sS -L -e http://from/ -A ag '{B}/r/1'", cmp="rc out"),
    row("-L keeps -e", "-sS -L -e http://from/ {B}/303", norm="echo", err=""),
    row("-A", "-sS -A 'agent/1' {B}/echo", norm="echo", err=""),
    row("-e", "-sS -e http://from.example/ {B}/echo", norm="echo", err=""),
    row("query string", "-sS '{B}/echo?a=1&b=2'", norm="echo", err=""),
    row("--url", "-sS --url {B}/cl", err=""),
    row("no scheme", "-sS 127.0.0.1:{PORT}/cl", err=""),
    # globs and several URLs
    row("glob range", "-sS '{B}/p/[1-3]'", err=""),
    row("glob list", "-sS '{B}/p/{a,b,c}'", err=""),
    row("glob two", "-sS '{B}/p/{x,y}[1-2]'", err=""),
    row("glob step", "-sS '{B}/p/[1-9:4]'", err=""),
    row("glob letters", "-sS '{B}/p/[a-c]'", err=""),
    row("glob zero pad", "-sS '{B}/p/[08-10]'", err=""),
    row("-g", "-sS -g '{B}/p/[1-3]'", err=""),
    row("bad glob", "-sS '{B}/p/[3-1]'", err=r"range"),
    row("unmatched brace", "-sS '{B}/p/{a,b'", err=r"brace|\{"),
    row("two urls", "-sS {B}/cl {B}/chunked", err=""),
    row("two urls, first fails", "-sS {R}/ {B}/cl", cmp="out", fetch_rc=7, err=CONNECT_ERR),
    row("two urls, last fails", "-sS {B}/cl {R}/", err=CONNECT_ERR),
    # connections: timeouts, proxy
    row("-m", "-sS -m 0.5 {B}/slow", err=r"time"),
    row("--max-time", "-sS --max-time 0.5 {B}/slow", err=r"time"),
    row("--connect-timeout", "-sS --connect-timeout 0.5 {H}/", err=r"time"),
    row("-m while connecting", "-sS -m 0.5 {H}/", err=r"time"),
    row("-m during the body", "-sS -m 2 {B}/slowbody", err=r"time"),
    row("reset during the body", "-sS {B}/reset", err=r"reset|recv"),
    row("--connect-timeout ok", "-sS --connect-timeout 5 {B}/cl", err=""),
    row("-x proxy", "-sS -x 127.0.0.1:{PORT} http://example.invalid/echo", norm="echo", err=""),
    row("-x http:// proxy", "-sS -x http://127.0.0.1:{PORT} http://example.invalid/cl", err=""),
    row("--noproxy", "-sS -x {R} --noproxy 127.0.0.1 {B}/cl", err=""),
    row("http_proxy env", "-sS http://example.invalid/cl", env={"http_proxy": "127.0.0.1:{PORT}"}, err=""),
    row("no_proxy env", "-sS {B}/cl", env={"http_proxy": "{R}", "no_proxy": "127.0.0.1"}, err=""),
    row("unresolved proxy", "-sS -x nonexistent.invalid:8080 http://example.invalid/cl", err=r"resolve"),
    row("bad proxy URL", "-sS -x http:// http://example.invalid/cl", err=r"proxy"),
    row("--noproxy *", "-sS -x {R} --noproxy '*' {B}/cl", err=""),
    row("no_proxy=* env", "-sS {B}/cl", env={"http_proxy": "{R}", "no_proxy": "*"}, err=""),
    row("HTTP_PROXY ignored (httpoxy)", "-sS {B}/cl", env={"HTTP_PROXY": "{R}"}, err=""),
    row("all_proxy env", "-sS http://example.invalid/cl", env={"all_proxy": "127.0.0.1:{PORT}"}, err=""),
    row("-x '' is no proxy", "-sS -x '' {B}/cl", env={"http_proxy": "{R}"}, err=""),
    row("refused proxy", "-sS -x {R} http://example.invalid/cl", err=CONNECT_ERR),
    # errors
    row("refused", "-sS {R}/", err=CONNECT_ERR),
    row("stdout closed", "-sS {B}/big", broken_pipe=True, err=r"writ"),
    row("unknown host", "-sS http://nonexistent.invalid/", err=r"resolve.*nonexistent\.invalid|nonexistent\.invalid.*resolve"),
    row("garbage answer", "-sS {B}/garbage", cmp="out", fetch_rc=8, err=r"."),
    row("truncated body", "-sS {B}/truncated", err=r"(18|short|less|remaining)"),
    row("truncated chunked", "-sS {B}/truncated-chunk", err=r"."),
    row("bad chunk", "-sS {B}/badchunk", cmp="out", fetch_rc=8, err=r"."),
    row("empty reply", "-sS {B}/nothing", err=r"empty"),
    row("malformed URL", "-sS http://", err=r"URL"),
    row("bad port", "-sS http://127.0.0.1:99999/", err=r"port|URL"),
    row("https", "-sS https://127.0.0.1:{RPORT}/", cmp="", fetch_rc=1, err=r"."),
    row("unsupported scheme", "-sS ftp://127.0.0.1:{RPORT}/", cmp="", fetch_rc=1, err=r"protocol|ftp"),
    row("bad flag", "--no-such-flag {B}/cl", err=r"no-such-flag"),
    row("missing value", "-sS {B}/cl -o", err=r"-o|no URL"),
    row("missing value last", "-sS {B}/cl --max-time", err=r"max-time"),
    row("-m 0 is no limit", "-sS -m 0 {B}/cl", err=""),
    row("--connect-timeout 0", "-sS --connect-timeout 0 {B}/cl", err=""),
    row("-m negative", "-sS -m -1 {B}/cl", err=r"."),
    row("--max-redirs abc", "-sS -L --max-redirs abc {B}/cl", err=r"."),
    row("--opt=value", "-sS --max-time=5 {B}/cl", err=r"max-time"),
    row("-- then a URL", "-sS -- {B}/cl", err=""),
    row("-w unknown variable", "-sS -o /dev/null -w '[%{nope}]\n' {B}/cl", cmp="rc out"),
    row("bad -m value", "-sS -m abc {B}/cl", err=r"."),
    row("no URL", "-sS -L", err=r"no URL"),
    row("-d @missing", "-sS -d @{I}/missing {B}/echo", cmp="", fetch_rc=26, err=r"missing"),
    row("-T missing", "-sS -T {I}/missing {B}/echo", err=r"missing"),
    row("empty URL", "-sS ''", cmp="", fetch_rc=2, err=r"URL"),
    row("-u without password", "-sS -u user {B}/echo", cmp="", fetch_rc=2, err=r"password"),
    row("-e ;auto", "-sS -e 'http://x/;auto' {B}/cl", cmp="", fetch_rc=2, err=r"auto"),
    row("-H Content-Length", "-sS -H 'Content-Length: 3' -d abc {B}/echo", cmp="", fetch_rc=2, err=r"Content-Length"),
    row("space in URL", "-sS 'http://127.0.0.1:{PORT}/a b'", err=r"URL|malformed"),
    row("no host", "-sS http:///x", cmp="", fetch_rc=3, err=r"host"),
    row("-L to a refused port", "-sS -L {B}/elsewhere", err=CONNECT_ERR),
    row("1xx before the answer", "-sS {B}/continue", err=""),
    row("-i 1xx before the answer", "-sS -i {B}/continue", cmp="", fetch_rc=0, err="",
        fetch_out=b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nafter 100\n"),
    row("-i header spacing as sent", "-sS -i {B}/spaced", cmp="", fetch_rc=0, err="",
        fetch_out=b"HTTP/1.1 200 OK\r\nx-lower: v\r\nX-Pad: two  spaces\r\ncontent-length: 3\r\n\r\nok\n"),
    row("-w size_header, spacing", "-sS -o /dev/null -w '%{size_header}\n' {B}/spaced",
        cmp="", fetch_rc=0, fetch_out=b"70\n", err=""),
    row("-w size_header, no reason phrase", "-sS -o /dev/null -w '%{size_header}\n' {B}/noreason", err=""),
    row("progress meter to a pipe", "{B}/big", cmp="rc out files"),
    row("no reason phrase", "-sS -i {B}/noreason", err=""),
    row("-v no reason phrase", "-sS -v {B}/noreason", cmp="rc out verbose"),
    row("two Content-Lengths", "-sS {B}/dupcl", cmp="", fetch_rc=8, err=r"."),
    row("space in a glob", "-sS '{B}/p/{a b,c}'", cmp="out", err=r"URL|malformed"),
    row("-d with -T", "-sS -d a -T {I}/lines {B}/echo", err=None),
    row("-I with -d", "-sS -I -d a {B}/echo", err=None),
    row("-H without a colon", "-sS -H foo {B}/echo", cmp="", fetch_rc=2, err=r"-H"),
    row("-X ''", "-sS -X '' {B}/echo", cmp="", fetch_rc=2, err=r"-X"),
    row("--parallel-max 0", "-sS --parallel-max 0 {B}/cl", cmp="", fetch_rc=2, err=r"parallel-max"),
    row("--max-redirs -2", "-sS --max-redirs -2 {B}/cl", err=r"max-redirs"),
    row("--retry -1", "-sS --retry -1 {B}/cl", err=r"retry"),
    # unsupported options: usage errors on purpose (README)
    row("-G", "-sS -G -d a=1 {B}/echo", cmp="", fetch_rc=2, err=r"-G"),
    row("-F", "-sS -F a=1 {B}/echo", cmp="", fetch_rc=2, err=r"-F"),
    row("-b", "-sS -b a=1 {B}/echo", cmp="", fetch_rc=2, err=r"-b"),
    row("-c", "-sS -c jar {B}/cl", cmp="", fetch_rc=2, err=r"-c"),
    row("-D", "-sS -D - {B}/cl", cmp="", fetch_rc=2, err=r"-D"),
    row("--http1.1", "-sS --http1.1 {B}/cl", cmp="", fetch_rc=2, err=r"http1"),
    row("-k", "-sS -k {B}/cl", cmp="", fetch_rc=2, err=r"-k"),
    row("--compressed", "-sS --compressed {B}/gzip", cmp="", fetch_rc=2, err=r"compressed"),
    row("-r 206", "-sS -r 2-5 {B}/range", err=""),
    row("-r -i 206", "-sS -i -r 0-3 {B}/range", err=""),
    row("-r ignored by server", "-sS -r 0-3 {B}/cl", err=""),
    row("-r sends Range", "-sS -r 10- {B}/echo", norm="echo", err=""),
    row("-C -", "-sS -C - -o got {B}/cl", cmp="", fetch_rc=2, err=r"-C"),
    row("Content-Encoding passed on", "-sS {B}/gzip", err=""),
]

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


def main():
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

    rows = [r for r in ROWS if (not only or re.search(only, r["name"]))
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


if __name__ == "__main__":
    sys.exit(main())

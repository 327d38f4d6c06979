#!/usr/bin/env python3
"""llhttp_diff.py - bareawait's HTTP parsers against llhttp (Node.js's).

    llhttp_diff.py DIFF_PARSE LLHTTP_JS [--count N] [--seed S] [--corpus DIR]...
                   [--allow FILE] [--show N]

Generates N streams of messages (responses and requests: every framing,
pipelining, and one mutation in most of them), adds every file of the
fuzz corpora given, and has both parsers decode each: DIFF_PARSE
(diff_parse.c, bareawait's parsers, each stream also split at every
point) and `node LLHTTP_JS` (llhttp, default strict flags).  Their lines
are compared; a disagreement is "explained" only when a rule of the
allowlist (allowlist.txt beside this file) matches it.  Prints

    N messages, N agree, N explained, N unexplained

and the count per rule; exits 1 on any unexplained disagreement (the
first --show of them are printed, both sides), 77 without node.
"""
import argparse
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

# ---- the generator ----

TOKEN = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~"
VALUE = TOKEN + " \t\"(),/:;<=>?@[\\]{}"
NAMES = ["Server", "Date", "Content-Type", "X-Trace", "Cache-Control", "Set-Cookie",
         "ETag", "Vary", "Location", "Accept", "User-Agent", "X-Empty"]


def rand_token(r, lo=1, hi=12):
    return "".join(r.choice(TOKEN) for _ in range(r.randint(lo, hi)))


def rand_value(r, hi=30):
    v = "".join(r.choice(VALUE) for _ in range(r.randint(0, hi)))
    return v.strip(" \t") if r.random() < 0.8 else v


def chunked_body(r, payload, mut):
    """payload encoded in chunks; mut names a way to get it wrong."""
    out, i = [], 0
    eol = "\n" if mut == "chunk-bare-lf" else "\r\n"
    while i < len(payload) or not out:
        n = min(len(payload) - i, r.randint(1, 40))
        if n == 0:
            break
        size = "%x" % n
        if mut == "chunk-upper" or r.random() < 0.2:
            size = size.upper()
        if mut == "chunk-leading-zeros":
            size = "0" * r.randint(1, 20) + size
        ext = ""
        if mut == "chunk-ext":
            ext = r.choice([";a=b", ";a", ';a="q;x"', "; a=b", ";a=b;c=d", ";a =b", ";\x01",
                            ';a="\\"q"', ";" + "x" * 5000])
        if mut == "chunk-space-after-size":
            ext = r.choice([" ", "\t", "  "]) + r.choice(["", ";a=b"])
        if mut == "chunk-bad-size" and r.random() < 0.5:
            size = r.choice(["0x" + size, "-" + size, "+" + size, size + "g", " " + size, ""])
        out.append(size + ext + eol + payload[i:i + n])
        if mut == "chunk-missing-crlf" and r.random() < 0.5:
            pass
        elif mut == "chunk-data-overrun":
            out.append("X" + eol)
        else:
            out.append(eol)
        i += n
    last = "0"
    if mut == "chunk-overflow":
        last = r.choice(["1" + "0" * 16, "f" * 17, "0" * 30 + "1" * 16, "10000000000000000"])
        return "".join(out) + last + eol + "x" * 4 + eol
    if mut == "chunk-last-ext":
        last = "0;last=1"
    if mut == "chunk-last-zeros":
        last = "000"
    out.append(last + eol)
    if mut == "trailers":
        out.append("".join(rand_token(r) + ": " + rand_value(r) + eol for _ in range(r.randint(1, 3))))
    if mut == "bad-trailer":
        out.append(r.choice(["No colon", " fold: x", "A : b", "A:\x01b", "A(b: c", "A: b\rc"]) + eol)
    out.append(eol)
    return "".join(out)


def header_lines(r, mut, eol):
    lines = []
    for _ in range(r.randint(0, 6)):
        lines.append((r.choice(NAMES) if r.random() < 0.6 else rand_token(r), rand_value(r)))
    text = [n + ": " + v for n, v in lines]
    pos = r.randint(0, len(text))
    bad = {
        "ws-before-colon": lambda: rand_token(r) + r.choice([" ", "\t"]) + ": x",
        "obs-fold": lambda: rand_token(r) + ": a" + eol + r.choice([" ", "\t", "  "]) + "b",
        "fold-first": None,
        "ctl-in-value": lambda: rand_token(r) + ": a" + chr(r.choice([0, 1, 8, 11, 12, 27, 127])) + "b",
        "obs-text-value": lambda: rand_token(r) + ": a" + chr(r.randint(0x80, 0xff)) + "b",
        "bad-name-char": lambda: rand_token(r, 1, 3) + r.choice('()<>@,;\\"/[]?={} \x01\x7f\x80') + "x: v",
        "empty-name": lambda: ": v",
        "no-colon": lambda: rand_token(r),
        "bare-cr": lambda: rand_token(r) + ": a\rb",
        "ws-value": lambda: rand_token(r) + ":" + r.choice([" ", "\t", "  "]) + "v" + r.choice([" ", "\t", " \t "]),
        "empty-value": lambda: rand_token(r) + ":" + r.choice(["", " ", "\t"]),
        "tab-value": lambda: rand_token(r) + ": a\tb",
        "many-headers": None,
    }
    if mut in bad and bad[mut]:
        text.insert(pos, bad[mut]())
    if mut == "fold-first":
        text.insert(0, " " + rand_value(r) + "x")
    if mut == "many-headers":
        text += ["X-%d: %d" % (i, i) for i in range(r.randint(30, 300))]
    return text


RESP_MUTS = ["ws-before-colon", "obs-fold", "fold-first", "ctl-in-value", "obs-text-value",
             "bad-name-char", "empty-name", "no-colon", "bare-cr", "ws-value", "empty-value",
             "tab-value", "many-headers", "bare-lf", "mixed-lf", "chunk-upper",
             "chunk-leading-zeros", "chunk-ext", "chunk-space-after-size", "chunk-bad-size",
             "chunk-missing-crlf", "chunk-data-overrun", "chunk-overflow", "chunk-last-ext",
             "chunk-last-zeros", "trailers", "bad-trailer", "chunk-bare-lf", "cl-leading-zeros",
             "cl-plus", "cl-negative", "cl-space", "cl-list-same", "cl-list-differ",
             "cl-twice-same", "cl-twice-differ", "cl-overflow", "cl-huge", "cl-empty", "cl-te",
             "te-gzip", "te-gzip-chunked", "te-chunked-gzip", "te-identity", "te-chunked-twice",
             "te-two-lines", "te-case", "connection-close", "connection-keepalive",
             "connection-list", "truncate", "status-line", "crlf-between", "lower-http"]


def status_line(r, mut, eol):
    minor = r.choice("1111110")
    code = r.choice([200, 200, 200, 201, 204, 206, 301, 302, 304, 400, 404, 500, 503, 100, 103,
                     102, 299, 599, 999])
    reason = r.choice(["OK", "Not Found", "", "A reason with spaces", "x"])
    line = "HTTP/1.%s %d %s" % (minor, code, reason)
    if mut == "status-line":
        line = r.choice([
            "HTTP/1.%s %d" % (minor, code), "HTTP/1.1  200 OK", "HTTP/1.1 20 OK",
            "HTTP/1.1 2000 OK", "HTTP/1.1 099 OK", "HTTP/1.1 000 OK", "HTTP/2.0 200 OK",
            "HTTP/1.2 200 OK", "HTTP/0.9 200 OK", "HTTP/1.1 200 O\x01K", "HTTP/1.1 200 \x80\xff",
            "HTTP/1.1 200 a\tb", "HTTP/1.1 2x0 OK", "HTTP/1.1 200OK", "HTTP/11 200 OK",
            "HTTP/1.1 200 OK ", "HTTP/1.1\t200 OK", "SSH-2.0-OpenSSH", "HTTP/1.1 -200 OK"])
    if mut == "lower-http":
        line = "http/1.1 200 OK"
    return line, code, minor


def framing_headers(r, mut, body_len):
    """(header lines, body encoding): 'cl', 'chunked' or 'close'."""
    cl = "Content-Length: %d" % body_len
    table = {
        "cl-leading-zeros": ([("Content-Length: 000%d" % body_len)], "cl"),
        "cl-plus": (["Content-Length: +%d" % body_len], "cl"),
        "cl-negative": (["Content-Length: -1"], "cl"),
        "cl-space": (["Content-Length: %d %d" % (body_len, body_len)], "cl"),
        "cl-list-same": (["Content-Length: %d, %d" % (body_len, body_len)], "cl"),
        "cl-list-differ": (["Content-Length: %d, %d" % (body_len, body_len + 1)], "cl"),
        "cl-twice-same": ([cl, cl], "cl"),
        "cl-twice-differ": ([cl, "Content-Length: %d" % (body_len + 1)], "cl"),
        "cl-overflow": (["Content-Length: " + r.choice(["18446744073709551616",
                                                         "9223372036854775808",
                                                         "99999999999999999999999"])], "cl"),
        "cl-huge": (["Content-Length: 9223372036854775807"], "cl"),
        "cl-empty": (["Content-Length:"], "cl"),
        "cl-te": ([cl, "Transfer-Encoding: chunked"], "chunked"),
        "te-gzip": (["Transfer-Encoding: gzip"], "close"),
        "te-gzip-chunked": (["Transfer-Encoding: gzip, chunked"], "chunked"),
        "te-chunked-gzip": (["Transfer-Encoding: chunked, gzip"], "close"),
        "te-identity": (["Transfer-Encoding: identity"], "close"),
        "te-chunked-twice": (["Transfer-Encoding: chunked, chunked"], "chunked"),
        "te-two-lines": (["Transfer-Encoding: gzip", "Transfer-Encoding: chunked"], "chunked"),
        "te-case": (["transfer-encoding: " + r.choice(["Chunked", "CHUNKED", " chunked ", "chunked,"])],
                    "chunked"),
    }
    if mut in table:
        return table[mut]
    if mut.startswith("chunk") or mut in ("trailers", "bad-trailer"):
        return ["Transfer-Encoding: chunked"], "chunked"
    return r.choice([([cl], "cl"), ([cl], "cl"), (["Transfer-Encoding: chunked"], "chunked"),
                     ([], "close")])


def connection_headers(r, mut):
    if mut == "connection-close":
        return ["Connection: close"]
    if mut == "connection-keepalive":
        return ["Connection: keep-alive"]
    if mut == "connection-list":
        return ["Connection: " + r.choice(["Upgrade, close", "keep-alive, close", "CLOSE",
                                            "foo,  keep-alive", "close, keep-alive"])]
    return []


def encode_body(r, kind, payload, mut, eol):
    if kind == "chunked":
        return chunked_body(r, payload, mut)
    return payload


def finish_message(r, first, headers, body, mut, eol):
    if mut == "mixed-lf":
        lines = [first] + headers
        return "".join(l + r.choice(["\r\n", "\n"]) for l in lines) + r.choice(["\r\n", "\n"]) + body
    return first + eol + "".join(h + eol for h in headers) + eol + body


def gen_response(r, mut, head):
    eol = "\n" if mut == "bare-lf" else "\r\n"
    line, code, minor = status_line(r, mut, eol)
    payload = "".join(r.choice(VALUE + "\r\n") for _ in range(r.choice([0, 1, 5, 30, 100, 400])))
    fh, kind = framing_headers(r, mut, len(payload))
    hs = header_lines(r, mut, eol) + connection_headers(r, mut)
    hs[r.randint(0, len(hs)):0] = fh
    no_body = head or code // 100 == 1 or code in (204, 304)
    body = "" if no_body else encode_body(r, kind, payload, mut, eol)
    if kind == "close" and not no_body:
        hs = [h for h in hs if not h.lower().startswith("connection: keep")]
    return finish_message(r, line, hs, body, mut, eol), kind == "close" and not no_body


REQ_MUTS = RESP_MUTS[:26] + ["chunk-bare-lf", "cl-leading-zeros", "cl-plus", "cl-negative",
                              "cl-list-same", "cl-twice-same", "cl-twice-differ", "cl-overflow",
                              "cl-te", "te-gzip", "te-gzip-chunked", "te-chunked-gzip",
                              "te-identity", "te-chunked-twice", "te-case", "connection-close",
                              "connection-keepalive", "truncate", "request-line", "method",
                              "target", "host", "crlf-before", "version"]

METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "CONNECT"]


def request_line(r, mut):
    method = r.choice(METHODS)
    target = r.choice(["/", "/index.html", "/a/b?c=d&e", "/%41%42", "/x#frag", "/~user/a.b;c"])
    if method == "CONNECT":
        target = r.choice(["example.com:443", "127.0.0.1:8080", "[::1]:443"])
    if method == "OPTIONS" and r.random() < 0.5:
        target = "*"
    version = "HTTP/1.1" if r.random() < 0.85 else "HTTP/1.0"
    if mut == "method":
        method = r.choice(["FOO", "get", "Get", "G(T", "PROPFIND", "MKCOL", "SEARCH", "PURGE",
                           "LINK", "QUERY", "M-SEARCH", "REPORT", "X" * 30, "G\x01T", "POST/"])
    if mut == "target":
        target = r.choice(["http://example.com/x", "https://h:8443/", "*", "example.com:80",
                           "/a\x80b", "/\xff", "/a b", "/a\tb", "", "a/b", "//x", "/a\x7fb",
                           "/?" + "q" * 3000, "HTTP://X/", "/a\"b", "/a{b}", "/a|b", "/a\\b"])
    if mut == "version":
        version = r.choice(["HTTP/2.0", "HTTP/1.2", "HTTP/0.9", "HTTP/1", "http/1.1", "HTTP/1.1 ",
                            "HTTP/3.0", "HTTP/1.10", "HTTP/9.9", "HTTX/1.1"])
    line = "%s %s %s" % (method, target, version)
    if mut == "request-line":
        line = r.choice(["GET  / HTTP/1.1", "GET /  HTTP/1.1", " GET / HTTP/1.1", "GET / ",
                         "GET\t/ HTTP/1.1", "GET /", "GET", "GET / HTTP/1.1 x"])
    return line, method, version


def gen_request(r, mut):
    eol = "\n" if mut == "bare-lf" else "\r\n"
    line, method, version = request_line(r, mut)
    payload = "".join(r.choice(VALUE) for _ in range(r.choice([0, 0, 3, 20, 200])))
    fh, kind = framing_headers(r, mut, len(payload))
    if kind == "close":
        fh, kind = ([], "none") if not payload else (["Content-Length: %d" % len(payload)], "cl")
    hs = header_lines(r, mut, eol) + connection_headers(r, mut)
    hs[r.randint(0, len(hs)):0] = fh
    host = ["Host: example.com"]
    if mut == "host":
        host = r.choice([[], ["Host: a", "Host: b"], ["Host:"], ["host: a"], ["Host: a, b"]])
    hs[r.randint(0, len(hs)):0] = host
    body = encode_body(r, kind, payload, mut, eol) if kind != "none" else ""
    msg = finish_message(r, line, hs, body, mut, eol)
    if mut == "crlf-before":
        msg = r.choice(["\r\n", "\r\n\r\n", "\n", "\r"]) + msg
    return msg


def gen_stream(r):
    """(kind, flags, bytes) of one generated stream."""
    kind = "R" if r.random() < 0.55 else "Q"
    muts = RESP_MUTS if kind == "R" else REQ_MUTS
    head = kind == "R" and r.random() < 0.08
    out, tags = [], []
    for i in range(r.choice([1, 1, 1, 2, 3])):
        mut = r.choice(muts) if r.random() < 0.7 else ""
        tags.append(mut or "-")
        if kind == "R":
            msg, closes = gen_response(r, mut, head)
        else:
            msg, closes = gen_request(r, mut), False
        if mut == "crlf-between" and out:
            msg = r.choice(["\r\n", "\n", "\r\n\r\n"]) + msg
        out.append(msg)
        if closes:
            break
    data = "".join(out).encode("latin1")
    if "truncate" in tags and data:
        data = data[:r.randint(0, len(data) - 1)]
    return kind, 1 if head else 0, data, " ".join(tags)


# ---- the corpora ----

def corpus_streams(dirs):
    """Records from fuzz corpus directories (tests/fuzz's layouts)."""
    out = []
    for d in dirs:
        if not os.path.isdir(d):
            continue
        kind = os.path.basename(os.path.normpath(d))
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name), "rb") as f:
                data = f.read()
            if kind in ("parse", "client"):   # flags, 4 seed bytes, a reply
                out.append(("R", data[0] & 1 if data else 0, data[5:], "corpus"))
            elif kind == "request":           # 4 seed bytes, requests
                out.append(("Q", 0, data[4:], "corpus"))
            elif kind == "chunked":           # a chunked body: in a response, a request
                out.append(("R", 0, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + data, "corpus"))
                out.append(("Q", 0, b"POST / HTTP/1.1\r\nHost: a\r\n"
                                    b"Transfer-Encoding: chunked\r\n\r\n" + data, "corpus"))
    return out


# ---- the comparison ----

def load_rules(path):
    """allowlist.txt: id | side | bareawait | llhttp | bytes | why."""
    rules = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = [p.strip() for p in line.split(" | ")]
            if len(parts) != 6:
                sys.exit("allowlist: bad line: " + line)
            rid, side, ba, ll, data, _why = parts
            rules.append((rid, side, re.compile(ba), re.compile(ll),
                          re.compile(data.encode("latin1"), re.S)))
    return rules


def messages(line):
    return line.partition("\t")[0].split(" ; ")[:-1]


def at_parting(ba, ll):
    """What each side said about the first message where they part: "E:ok"
    if it completed it (and, if both did, "diff=" the first letters of the
    fields that differ: K keep-alive, B body, H headers...), how its
    stream ended if that was its last message (or it did not complete
    it), and its note."""
    a, b = messages(ba), messages(ll)
    i = 0
    while i < len(a) and i < len(b) and a[i] == b[i]:
        i += 1

    diff = ""
    if i < len(a) and i < len(b):   # both completed it: which fields differ
        fa, fb = a[i].split(" "), b[i].split(" ")
        diff = "diff=" + "".join(sorted({x[0] for x, y in zip(fa, fb) if x != y})) + " "
        if len(fa) != len(fb):
            diff = "diff=H "

    def word(line, msgs):
        canon, _, note = line.partition("\t")
        said = "E:ok " + diff if len(msgs) > i else ""
        if len(msgs) <= i + 1:
            said += canon.rsplit(" ", 1)[-1]
        return said + " " + note
    return word(ba, a), word(ll, b)


def explain(rules, kind, data, ba, ll):
    if ba.startswith("SPLIT-MISMATCH"):
        return None
    sa, sl = at_parting(ba, ll)
    for rid, side, rba, rll, rdata in rules:
        if side in ("*", kind) and rba.search(sa) and rll.search(sl) and rdata.search(data):
            return rid
    return None


def run(cmd, path):
    p = subprocess.run(cmd + [path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)
    if p.returncode != 0:
        sys.exit("%s failed (%d): %s" % (cmd[0], p.returncode, p.stderr.decode()[-2000:]))
    return p.stdout.decode("latin1").split("\n")[:-1]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    ap.add_argument("diff_parse")
    ap.add_argument("llhttp_js")
    ap.add_argument("--count", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus", action="append", default=[])
    ap.add_argument("--allow", default=os.path.join(HERE, "allowlist.txt"))
    ap.add_argument("--show", type=int, default=10)
    ap.add_argument("--filter", help="show only unexplained ones matching this regex")
    ap.add_argument("--groups", action="store_true",
                    help="unexplained ones grouped by generator tags and ends")
    ap.add_argument("--node", default=os.environ.get("NODE", "node"))
    a = ap.parse_args()
    node = shutil.which(a.node)
    if not node:
        print("llhttp_diff: skipped: node is not installed (llhttp is Node.js's parser)")
        return 77
    r = random.Random(a.seed)
    records = corpus_streams(a.corpus) + [gen_stream(r) for _ in range(a.count)]
    rules = load_rules(a.allow)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "streams.bin")
        with open(path, "wb") as f:
            for kind, flags, data, _tags in records:
                f.write(kind.encode() + bytes([flags]) + struct.pack(">I", len(data)) + data)
        ours = run([a.diff_parse], path)
        theirs = run([node, "--no-deprecation", a.llhttp_js], path)
    if len(ours) != len(records) or len(theirs) != len(records):
        sys.exit("llhttp_diff: %d records, %d and %d lines" % (len(records), len(ours), len(theirs)))
    agree = explained = 0
    unexplained, per_rule = [], {}
    groups = {}
    for (kind, _flags, data, tags), ba, ll in zip(records, ours, theirs):
        if ba.partition("\t")[0] == ll.partition("\t")[0]:
            agree += 1
            continue
        rid = explain(rules, kind, data, ba, ll)
        if rid:
            explained += 1
            per_rule[rid] = per_rule.get(rid, 0) + 1
        else:
            if not a.filter or re.search(a.filter, tags + " || " + ba + " || " + ll):
                unexplained.append((kind, data, ba, ll))
            key = (kind, tags) + tuple(w[:70] for w in at_parting(ba, ll))
            groups[key] = groups.get(key, 0) + 1
    for kind, data, ba, ll in unexplained[:a.show]:
        print("UNEXPLAINED %s %r\n  bareawait: %s\n  llhttp:    %s" % (kind, data[:600], ba[:600], ll[:600]))
    if a.groups:
        for key, n in sorted(groups.items(), key=lambda kv: -kv[1]):
            print("%6d %s" % (n, " || ".join(key)))
    for rid in sorted(per_rule):
        print("  %-28s %d" % (rid, per_rule[rid]))
    held = sum(1 + tags.count(" ") for _k, _f, _d, tags in records if tags != "corpus")
    print("(each stream is compared as one: %d generated streams hold %d messages,"
          " %d come from the corpora)" % (a.count, held, len(records) - a.count))
    print("%d messages, %d agree, %d explained, %d unexplained"
          % (len(records), agree, explained, len(unexplained)))
    return 1 if unexplained else 0


if __name__ == "__main__":
    sys.exit(main())

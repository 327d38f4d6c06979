// llhttp_parse.js - llhttp's side of the differential test: the records
// of diff_parse.c (argv[2] or stdin), one line each in the same canonical
// form, parsed by the llhttp inside Node.js with its default (strict)
// flags.  Run as: node llhttp_parse.js FILE
'use strict';
const fs = require('fs');
// _http_common is the route Node's own http module takes to llhttp (the
// process.binding one is deprecated).
const { HTTPParser, methods } = require('_http_common');

function fnv(buf, state) {
  let h = state;
  for (let i = 0; i < buf.length; i++) h = Math.imul(h ^ buf[i], 16777619) >>> 0;
  return h;
}

// The method is llhttp's enum value; Node's list is in enum order up to
// SOURCE (33) and then has QUERY, whose value is 46.
const methodName = (n) => (n === 46 ? 'QUERY' : n < 34 ? methods[n] : `method#${n}`);
const hex = (s) => Buffer.from(s, 'latin1').toString('hex');
const hex8 = (n) => n.toString(16).padStart(8, '0');

function parseStream(kind, head, bytes) {
  const p = new HTTPParser();
  p.initialize(kind === 'Q' ? HTTPParser.REQUEST : HTTPParser.RESPONSE, {},
               0x7fffffff, HTTPParser.kLenientNone);
  let out = '', cur = null, lastKeepAlive = true, upgraded = false;
  let pending = [], url = '';
  p[HTTPParser.kOnMessageBegin] = () => { pending = []; url = ''; cur = null; };
  p[HTTPParser.kOnHeaders] = (h, u) => {
    if (cur) return;                    // trailers: bareawait skips them too
    pending.push(...h);
    url += u;
  };
  p[HTTPParser.kOnHeadersComplete] = (maj, min, h, method, u, status, reason, upgrade, ka) => {
    if (h) pending.push(...h);
    if (u) url += u;
    cur = { maj, min, method, status, upgrade, ka, headers: pending, blen: 0, fnv: 2166136261 };
    lastKeepAlive = ka;
    return head && kind === 'R' ? 1 : 0;
  };
  p[HTTPParser.kOnBody] = (b) => { cur.blen += b.length; cur.fnv = fnv(b, cur.fnv); };
  p[HTTPParser.kOnMessageComplete] = () => {
    const m = cur;
    let line = kind === 'Q'
      ? `Q${hex(methodName(m.method))} ${hex(url)}`
      : `S${m.status}`;
    // A HEAD response: llhttp computes keep-alive before Node's callback
    // says "no body", so its answer is not the one it acts on: not compared.
    const ka = head && kind === 'R' ? '-' : m.ka ? 1 : 0;
    line += ` V${m.maj}.${m.min} K${ka} H${m.headers.length / 2}`;
    for (let i = 0; i < m.headers.length; i += 2)
      line += ` ${hex(m.headers[i])}=${hex(m.headers[i + 1])}`;
    out += `${line} B${m.blen}:${hex8(m.fnv)} ; `;
    if (m.upgrade) upgraded = true;
  };
  const buf = Buffer.from(bytes);
  const r = p.execute(buf);
  let end, note = '';
  if (r instanceof Error) {
    end = r.code === 'HPE_CLOSED_CONNECTION' ? 'closed' : 'reject';
    note = `${r.code} ${r.reason}`;
  } else if (upgraded) {
    end = 'upgrade';
  } else {
    const f = p.finish();
    end = f instanceof Error ? 'eof' : 'ok';
    if (f instanceof Error) note = `${f.code} ${f.reason}`;
  }
  p.close();
  return `${out}E:${end}\t${note}`;
}

const data = fs.readFileSync(process.argv[2] || 0);
const lines = [];
for (let at = 0; at + 6 <= data.length;) {
  const kind = String.fromCharCode(data[at]);
  const head = (data[at + 1] & 1) !== 0;
  const len = data.readUInt32BE(at + 2);
  lines.push(parseStream(kind, head, data.subarray(at + 6, at + 6 + len)));
  at += 6 + len;
  if (lines.length >= 4096) { process.stdout.write(lines.join('\n') + '\n'); lines.length = 0; }
}
if (lines.length) process.stdout.write(lines.join('\n') + '\n');

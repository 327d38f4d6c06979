/* fetch.h - the pieces of the fetch command, a small curl on bareawait.
 *
 *   fetch_main.c    main(), -h, -V; the command line is in fetch_cli.h
 *                   (fetch_args.c, fetch_cli.c, fetch_glob.c)
 *   fetch_request.c the request the options ask for one URL
 *   fetch_writeout.c -w FORMAT for one URL
 *   fetch_run.c     the coroutines: open the client, one request per URL
 *                   (at most --parallel-max at once), close; exit codes
 *   fetch_output.c  bytes to stdout in URL order or to -o files, the -i and
 *                   -v heads, the progress bar
 *   fetch_spill.c   a body waiting for its turn: a small window in memory,
 *                   the rest in an unlinked temporary file
 *   fetch_notes.c   what a job learns as it goes: hops, heads, peer, times
 *   fetch_report.c  how a URL ended: its exit code, its error line, -w
 *   fetch_trace.c   --trace: the seed's execution table, as it happens
 *   fetch_trace_rt.c --trace: the runtime's events, one line each
 *   fetch_tev.c     the event stream (fetch_tev.h) and the lanes and bars
 *                   --timeline and --trace-json draw from it
 *   fetch_timeline.c --timeline FILE.svg
 *   fetch_tracejson.c --trace-json FILE; opening and writing both files
 *   fetch_url.c     URLs as shown: passwords masked
 *   fetch_demo.c    no URL: a demo server in this process, fetched with --trace
 *
 * Internal to the fetch program; nothing here is a library API.
 */
#ifndef BAREAWAIT_FETCH_H
#define BAREAWAIT_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <bareawait/client.h>
#include <bareawait/coro.h>

/* Exit codes: curl's numbers, so scripts written for curl keep working. */
enum {
    FETCH_EXIT_OK = 0,
    FETCH_EXIT_UNSUPPORTED = 1,  /* https:// and other schemes */
    FETCH_EXIT_USAGE = 2,
    FETCH_EXIT_URL = 3,          /* malformed URL */
    FETCH_EXIT_PROXY = 5,        /* malformed proxy URL (-x, http_proxy...) */
    FETCH_EXIT_RESOLVE = 6,
    FETCH_EXIT_CONNECT = 7,
    FETCH_EXIT_MALFORMED = 8,    /* bad or over-limit response */
    FETCH_EXIT_TRUNCATED = 18,   /* body shorter than announced */
    FETCH_EXIT_HTTP_ERROR = 22,  /* status >= 400 with -f */
    FETCH_EXIT_WRITE = 23,       /* stdout or -o file could not be written,
                                    binary body refused on a terminal */
    FETCH_EXIT_READ = 26,        /* the request body (-T FILE) could not be read */
    FETCH_EXIT_NOMEM = 27,
    FETCH_EXIT_TIMEOUT = 28,
    FETCH_EXIT_ABORTED = 42,     /* stopped for no reason of ours (cancelled) */
    FETCH_EXIT_REDIRECTS = 47,
    FETCH_EXIT_EMPTY_REPLY = 52,
    FETCH_EXIT_RECV = 56,        /* connection reset while receiving */
    FETCH_EXIT_CODING = 61,      /* a Transfer-Encoding fetch cannot decode */
    FETCH_EXIT_REWIND = 65       /* a 307/308 needs the streamed body again */
};

/* What the command line asked for. */
typedef struct fetch_opts {
    const char **urls;          /* in command-line order, globs expanded in
                                   curl's order, "http://" added where the
                                   argument had no scheme */
    size_t n_urls;
    const char **outfiles;      /* -o FILE: the k-th names the k-th URL's file
                                   ("-" is stdout, as in curl), "#1" already
                                   replaced; FETCH_REMOTE_NAME for -O; NULL:
                                   stdout */
    size_t n_outfiles;
    const char **headers;       /* the lines to send: -H's in order ("Name:"
                                   and "Name;" forms too), then User-Agent
                                   (-A) and Referer (-e) where -H did not
                                   name them (-d's type: data_type) */
    size_t n_headers;
    bool include_head;          /* -i (and -I): status line and headers first */
    bool head_only;             /* -I: a HEAD request */
    bool follow;                /* -L */
    int max_redirs;             /* --max-redirs; 50 unless given (curl's
                                   default); INT_MAX = no limit (-1) */
    int64_t max_time_ms;        /* -m; 0 = no limit */
    int64_t connect_timeout_ms; /* --connect-timeout; 0 = the client's default */
    bool fail;                  /* -f: status >= 400 is an error (exit 22) */
    bool silent;                /* -s: no progress bar (errors still print) */
    bool verbose;               /* -v: request and response heads on stderr */
    bool trace;                 /* --trace: the execution table on stderr */
    const char *timeline;       /* --timeline FILE: an SVG of the run, or NULL */
    const char *trace_json;     /* --trace-json FILE: Chrome Trace Event JSON */
    int parallel_max;           /* --parallel-max: requests at once (50) */
    /* ---- curl's habits (fetch_main.c fills them) ---- */
    const char *user_agent;     /* -A; NULL = the client's default (already
                                   in headers as "User-Agent: ...") */
    const char *referer;        /* -e: sent as Referer (already in headers) */
    const char *userpwd;        /* -u user:password (Basic) */
    const char *method;         /* -X; NULL = GET, or HEAD (-I), POST (-d),
                                   PUT (-T) */
    const char *data;           /* -d/--data/--data-binary: the request body
                                   (several -d joined with '&', @file read in) */
    size_t data_len;
    bool has_data;              /* -d was given (even an empty one) */
    const char *data_type;      /* -d's Content-Type (form-urlencoded) unless
                                   -H names one: http_request.body_type, so
                                   that a redirect to GET drops it */
    const char *upload_file;    /* -T FILE: PUT its contents, streamed, to
                                   every URL ("-": stdin, one URL only) */
    const char *write_out;      /* -w FORMAT, after each URL (@FILE read in) */
    bool fail_with_body;        /* --fail-with-body: -f but the body is written
                                   (fail is false then: curl refuses both) */
    int retry;                  /* --retry N: transient failures tried again */
    const char *proxy;          /* -x, or http_proxy, all_proxy, ALL_PROXY from
                                   the environment, as "http://host:port";
                                   NULL = none */
    const char *proxy_host;     /* proxy's host (no brackets), port: to tell */
    int proxy_port;             /* a proxy's failure from an origin's */
    const char *no_proxy;       /* --noproxy, or no_proxy / NO_PROXY */
    int64_t read_timeout_ms;    /* silence allowed while reading; 0 = none, as
                                   curl (-m and --connect-timeout bound a
                                   transfer) */
} fetch_opts;

/* Where -O put a URL's file name: outfiles[k] == FETCH_REMOTE_NAME means
 * "the last segment of the k-th URL's path", as curl's -O. */
extern const char FETCH_REMOTE_NAME[];

/* What -w/--write-out may print about one URL (its %{...} variables). */
typedef struct fetch_writeout {
    int http_code;              /* %{http_code}: final status, 0 if none */
    const char *url_effective;  /* %{url_effective}: the last URL asked */
    uint64_t size_download;     /* %{size_download}: body bytes received */
    uint64_t size_header;       /* %{size_header}: head bytes received */
    int num_redirects;          /* %{num_redirects} */
    double time_namelookup;     /* %{time_namelookup}: seconds from the start */
    double time_connect;        /* %{time_connect} */
    double time_starttransfer;  /* %{time_starttransfer}: first reply byte */
    double time_total;          /* %{time_total} */
    int exitcode;               /* %{exitcode} */
    const char *errormsg;       /* %{errormsg}: the error line's reason, or "" */
    const char *content_type;   /* %{content_type}, or NULL */
    const char *method;         /* %{method}: the last request's */
    const char *redirect_url;   /* %{redirect_url}: a final 3xx's Location,
                                   absolute, or NULL */
    const char *filename_effective; /* %{filename_effective}: -o/-O's, or NULL */
    const char *remote_ip;      /* %{remote_ip}: the last connection's peer */
    int remote_port;            /* %{remote_port}: 0 if none */
    const char *http_version;   /* %{http_version}: "1.1", "1.0"; "0" none */
    const char *scheme;         /* %{scheme}: "HTTP" (curl's spelling) */
    uint64_t size_request;      /* %{size_request}: request head bytes sent */
    uint64_t size_upload;       /* %{size_upload}: the last request's body */
    int urlnum;                 /* %{urlnum}: the URL's index, from 0 */
    const char *url;            /* %{url}: the URL as given */
    int num_connects;           /* %{num_connects}: new connections made */
    int num_headers;            /* %{num_headers}: the final head's fields */
    double time_pretransfer;    /* %{time_pretransfer}: request about to go;
                                   with no TLS, the connect time */
    uint64_t speed_download;    /* %{speed_download}: bytes/s, whole */
    const char *referer;        /* %{referer}: -e's, or NULL */
    double time_appconnect;     /* %{time_appconnect}: always 0 (no TLS) */
    int no_tls;                 /* always 0: the TLS and CONNECT results
                                   (fetch has neither) */
    const char *headers;        /* the final head's fields, "Name: value\n"
                                   each, for %header{name}; NULL: none */
} fetch_writeout;

struct fetch_run;

/* Why one of our callbacks stopped a request (http_send then returns
 * HTTP_E_ABORTED), or why it was never sent; a write error is told by
 * fetch_job.write_errno. */
typedef enum fetch_abort {
    FETCH_ABORT_NONE,
    FETCH_ABORT_STATUS,    /* -f and a status >= 400 */
    FETCH_ABORT_REDIRECTS, /* -L --max-redirs 0 and a redirect */
    FETCH_ABORT_BINARY,    /* a body with NUL bytes for a terminal, no -o - */
    FETCH_ABORT_RETRY,     /* --retry and a transient status: try again */
    FETCH_ABORT_NO_NAME    /* -O and a URL without a file name: not sent */
} fetch_abort;

/* Where a request was when it stopped: what a timeout interrupted. */
typedef enum fetch_phase {
    FETCH_PHASE_CONNECT,   /* resolving and connecting */
    FETCH_PHASE_HEAD,      /* request sent, waiting for the response head */
    FETCH_PHASE_BODY       /* head in, receiving the body */
} fetch_phase;

/* Stdout bytes of one URL that wait for earlier URLs (fetch_spill.c):
 * the first FETCH_SPILL_WINDOW bytes in memory, and once they overflow,
 * all of them in an unlinked temporary file.  Bounded memory whatever
 * the body's size. */
typedef struct fetch_spill {
    char *mem;               /* the window (also the copy buffer), or NULL */
    size_t mem_len;          /* bytes in it, while fd < 0 */
    int fd;                  /* the temporary file, or -1 */
    uint64_t file_len;       /* bytes in it */
} fetch_spill;

/* What -w reports about the timing of a URL: coro_now() values, 0 = not
 * reached. */
typedef struct fetch_times {
    int64_t start_ns;        /* the (last) try began */
    int64_t resolved_ns;     /* HTTP_EV_RESOLVED (or a reused connection) */
    int64_t connected_ns;    /* HTTP_EV_CONNECTED (or a reused connection) */
    int64_t first_byte_ns;   /* HTTP_EV_FIRST_BYTE, else the final head */
    int64_t end_ns;          /* http_send returned */
} fetch_times;

/* One URL: its request, where its bytes go, and how it ended. */
typedef struct fetch_job {
    struct fetch_run *run;
    size_t index;            /* position among the URLs, from 0 */
    const char *url;         /* as given */
    char *last_url;          /* where redirects led (malloc'd), NULL: url */
    int redirects;           /* hops followed (HTTP_EV_REDIRECT) */
    const char *method;      /* the method sent (fetch_request_init's) */
    const char *outfile;     /* -o FILE (or -O's name), or NULL for stdout */
    char *remote_name;       /* -O's name, malloc'd (outfile points here) */
    bool explicit_stdout;    /* -o -: a binary body may go to a terminal */
    int out_fd;              /* the open -o file, else -1 */
    const coro_t *co;        /* the coroutine doing the request */
    bool head_unshown;       /* -v: a head arrived whose "<" lines are not out
                                yet (a redirect's come only with on_redirect) */
    char body_done[32];      /* -v: its "* Body complete" detail, held back
                                until then; "" none */
    fetch_spill pending;     /* stdout bytes waiting for earlier URLs */
    uint64_t stdout_bytes;   /* this try's bytes already written to stdout */
    int64_t content_length;  /* announced body size, -1 unknown */
    uint64_t received;       /* body bytes so far */
    uint64_t head_bytes;     /* bytes of every head received (-w) */
    char *content_type;      /* the final head's, malloc'd, or NULL */
    fetch_phase phase;       /* what the request was doing */
    fetch_times t;
    int tries;               /* requests sent so far (--retry) */
    int64_t retry_after_ms;  /* the last head's Retry-After, -1 none */
    bool not_retried;        /* transient, but bytes were out: no retry */
    bool done;               /* http_send has returned */
    int err;                 /* what http_send returned: 0 or HTTP_E_* */
    int err_errno;           /* errno just after http_send */
    fetch_abort aborted;     /* our reason when err is HTTP_E_ABORTED */
    int write_errno;         /* != 0: writing the output failed with this */
    bool spill_failed;       /* ... and it was the temporary file */
    int status;              /* final status, 0 if no head arrived */
    char reason[64];         /* its reason phrase */
    int minor_version;       /* of the final head (-w %{http_version}) */
    char *fields;            /* the final head's fields, "Name: value\n"
                                each (malloc'd; -w %header{}), or NULL */
    char *redirect_url;      /* a final 3xx's Location, absolute (malloc'd) */
    char method_sent[32];    /* the last request's method (-w %{method}) */
    uint64_t request_bytes;  /* request head bytes sent, every hop */
    uint64_t uploaded;       /* -T bytes read for the last request */
    int upload_fd;           /* -T's descriptor while sending, else -1 */
    char remote_ip[64];      /* the last connection's peer, "" none */
    int remote_port;
    int connects;            /* new connections made (HTTP_EV_CONNECTED) */
    bool to_proxy;           /* the last lookup and connect were the proxy's */
} fetch_job;

/* The whole command: one client, every job, the output's turn. */
typedef struct fetch_run {
    const fetch_opts *o;
    http_client *client;
    fetch_job *jobs;         /* one per URL, in URL order */
    size_t n_jobs;
    size_t running;          /* jobs spawned and not yet done */
    size_t finished;         /* jobs done */
    size_t turn;             /* first job not yet retired: it alone may write
                                to stdout; later ones keep their bytes */
    coro_t *waiter;          /* the fetch coroutine, parked for a free slot */
    int64_t start_ns;        /* coro_now() at the start, for the progress bar */
    bool progress;           /* draw the progress bar */
    bool stdout_tty;         /* stdout is a terminal: no binary bodies */
    int64_t progress_last_ns;/* when it was last drawn; 0 = not on screen */
} fetch_run;

/* ---- fetch_run.c ---- */

/* Spawns the "fetch" coroutine, which fetches every URL of o and stores
 * the exit code in *exit_code when it ends.  With --trace, this is the
 * table's step 1.  Returns the coroutine (to be joined if `joinable`, else
 * detached) or NULL/errno.  Does not suspend. */
coro_t *fetch_spawn(const fetch_opts *o, bool joinable, int *exit_code);

/* ---- fetch_notes.c (what a job learns as its request goes) ---- */

/* A redirect was followed to next_url: the error line names it. */
void note_hop(fetch_job *j, const char *next_url);

/* The final head (on_head): status, reason, fields, timing, type. */
void note_head(fetch_job *j, const http_response *r);

/* After http_send: a head on_head never saw (a redirect not followed)
 * still counts for -w; a redirect that failed before its hop (https,
 * bad Location, body not replayable) is named with its absolute URL. */
void note_failed_hop(fetch_job *j, const http_response *resp);

/* A client event of j's: the phase a timeout interrupts, the moments -w
 * reports, hops, connections and the peer. */
void note_event(fetch_job *j, http_event ev, int fd, const char *detail);

/* Forgets what a failed try left in j (but not its -o file). */
void note_reset(fetch_job *j);

/* ---- fetch_request.c ---- */

/* Fills *req with the request the options ask for j's URL: method (-X,
 * -I, -d, -T), URL, headers (-H, -A, -e), body (-d, -T) and credentials
 * (-u); every callback and the sink are left NULL for the caller.  -T's
 * body_source counts its bytes in j->uploaded (-w %{size_upload}).
 * Whatever it points to lives as long as j and its options, except -T's
 * file: fetch_request_init opens it (a body_source reading it) and
 * fetch_request_done closes it.  If the file cannot be opened, the body
 * source fails and http_send returns HTTP_E_SEND_BODY. */
void fetch_request_init(fetch_job *j, http_request *req);

/* Releases what fetch_request_init took for req (-T's file); call it
 * once after http_send, on every path. */
void fetch_request_done(fetch_job *j, http_request *req);

/* ---- fetch_output.c (the functions return -1 with errno on write errors) ---- */

/* Makes sure fds 0-2 are open (on /dev/null if they were closed), so that
 * no socket lands on them; a stdout that was closed keeps failing with
 * EBADF.  Called first thing in main(). */
void output_guard_stdio(void);

/* Writes all of data to fd, looping over short writes.  0 or -1/errno.
 * Blocks the whole thread if fd is a full pipe: simple on purpose, since
 * making stdout non-blocking would change it for whoever shares it. */
int output_write_all(int fd, const char *data, size_t len);

/* Where j's bytes go, from its -o name: a file, -O's name (the last
 * segment of the URL's path; none: j->aborted = FETCH_ABORT_NO_NAME), or
 * stdout (NULL, or "-", which also lets a binary body to a terminal). */
void output_init_job(fetch_job *j, const char *outfile);

/* Sends bytes of job j to its -o file, or to stdout if it is j's turn,
 * or else keeps them until it is.  0 or -1/errno. */
int output_bytes(fetch_job *j, const char *data, size_t len);

/* Writes j's kept bytes to stdout (it is j's turn now).  0 or -1/errno. */
int output_flush(fetch_job *j);

/* Writes the head of r as the server sent it, 1xx heads before it
 * included, for -i (each hop's, with -L, then the final one's); nothing
 * when r has no raw_head (its request did not keep it).  0 or -1/errno. */
int output_head(fetch_job *j, const http_response *r);

/* -i after a chunked body: r's trailer lines, each ended by CR LF, as
 * curl writes them; nothing if it had none.  0 or -1/errno. */
int output_trailer(fetch_job *j, const http_response *r);

/* The size of r's head as received, 1xx heads included (-w
 * %{size_header}). */
size_t output_head_size(const http_response *r);

/* -v: the request head as "> " lines, the response head as "< " lines
 * (each with its line end as sent; r's raw_head, nothing without it),
 * and the client's events as "* " lines, all on stderr; with several
 * URLs each line starts with its URL's "[#n] " (j may be NULL: none). */
void output_verbose_request(const fetch_job *j, const char *head, size_t len);
void output_verbose_response(const fetch_job *j, const http_response *r);
void output_verbose_event(const fetch_job *j, http_event ev, int fd, const char *detail);

/* The progress bar on stderr: redrawn at most 10 times a second once the
 * run is older than half a second; output_progress_end ends its line. */
void output_progress(fetch_run *run);
void output_progress_end(fetch_run *run);

/* ---- fetch_spill.c (a body waiting for its turn; -1 with errno) ---- */

/* Where the temporary files go: $TMPDIR, else /tmp. */
const char *spill_dir(void);

void spill_init(fetch_spill *s);

/* Keeps len more bytes: 0 or -1/errno (no memory, no temporary file,
 * disk full). */
int spill_add(fetch_spill *s, const char *data, size_t len);

bool spill_empty(const fetch_spill *s);

/* Writes every kept byte to fd, in order, and empties s: 0 or -1/errno;
 * *reading tells whether reading the temporary file failed (else it was
 * writing fd). */
int spill_drain(fetch_spill *s, int fd, bool *reading);

/* Forgets the kept bytes (a retry starts the body again); frees the file. */
void spill_discard(fetch_spill *s);

/* spill_discard, and frees the window. */
void spill_free(fetch_spill *s);

/* ---- fetch_retry.c (--retry) ---- */

/* A head with a transient status, while a try is left and its bytes could
 * still be taken back: on_head stops the try and it is sent again. */
bool retry_this_head(const fetch_job *j, const http_response *r);

/* r's Retry-After in milliseconds (whole seconds only), -1 if none. */
int64_t retry_after_header(const http_response *r);

/* How long to wait before trying j again after a failed try, or -1: no
 * retry (not transient, or no try left). */
int64_t retry_wait_ms(const fetch_job *j);

/* Throws away what the failed try wrote; false if it cannot (bytes
 * already on stdout: j->not_retried; a file that cannot be cut:
 * j->write_errno). */
bool retry_rewind(fetch_job *j);

/* "fetch: URL: why; trying again in 1 s (2 retries left)" on stderr, unless -s
 * (the count includes the try about to start, as curl's). */
void retry_announce(fetch_job *j, int64_t wait_ms);

/* ---- fetch_report.c (how a URL ended) ---- */

/* curl's exit code for j. */
int report_exit_code(const fetch_job *j);

/* Why j failed, as its error line says it after the URLs ("could not
 * connect: Connection refused"), into out; "" if it did not. */
void report_reason(const fetch_job *j, char *out, size_t size);

/* The one error line of a failed j on stderr ("fetch: URL: reason"; after
 * redirects "fetch: URL -> LAST: reason"; long URLs shortened). */
void report_error(fetch_job *j);

/* url as error lines show it: its password masked (fetch_masked), and
 * if long, its start and end around a note of what was left out; out
 * holds FETCH_SHOWN_URL_SIZE bytes. */
#define FETCH_SHOWN_URL_SIZE 264
void report_shown_url(const char *url, char *out, size_t size);

/* -w: j's values (fetch_writeout) through fetch_write_out on stdout, at
 * j's turn.  Times are seconds from the start of j's last try.  0 or
 * -1/errno. */
int report_write_out(fetch_job *j);

/* ---- fetch_trace.c (no-ops unless fetch_trace_begin was called) ---- */

/* Starts the clock and installs the runtime's trace hook, which records
 * every event (fetch_tev.h: what --timeline and --trace-json draw).
 * print: also print the table on stderr (--trace); colour: ANSI colours.
 * fetch_trace_end removes the hook (the recorded stream stays until
 * fetch_tev_reset). */
void fetch_trace_begin(bool print, bool colour);
void fetch_trace_end(void);
bool fetch_trace_printing(void);

/* The seven steps of the seed's table. */
void fetch_trace_spawned(const coro_t *co, size_t n_urls);          /* 1 */
void fetch_trace_client_opened(void);                                /* 2 */
void fetch_trace_awaiting(const fetch_job *j, size_t n_jobs);        /* 3 */
void fetch_trace_received(const fetch_job *j, size_t n_jobs);        /* 4 */
void fetch_trace_client_closed(void);                                /* 5 */
void fetch_trace_returned(const fetch_run *run);                     /* 6 */
/* Step 7 is printed by the runtime hook when the coroutine exits. */

/* An indented event line: the client's events, the demo server's notes. */
void fetch_trace_http_event(const fetch_job *j, size_t n_jobs, http_event ev,
                            int fd, const char *detail);
void fetch_trace_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void fetch_trace_note_at(int64_t at_ns, const char *text); /* at a given time */

/* fetch_trace_rt.c: the line for a runtime event (called with --trace on
 * only); fetch_trace_rt_reset forgets the coroutines it has seen. */
void fetch_trace_rt_event(const coro_event *ev);
void fetch_trace_rt_reset(void);

/* ---- fetch_timeline.c, fetch_tracejson.c (fetch_tev.h): the files ---- */

/* Opens o's --timeline and --trace-json files (before anything runs, so
 * that a bad path costs nothing): FETCH_EXIT_OK, or FETCH_EXIT_WRITE after
 * saying which file and why.  fetch_trace_files_write draws the recorded
 * stream into them and closes them (FETCH_EXIT_WRITE on a write error). */
typedef struct fetch_trace_files {
    FILE *timeline;   /* or NULL */
    FILE *json;       /* or NULL */
    const char *timeline_path, *json_path;
} fetch_trace_files;
int fetch_trace_files_open(const fetch_opts *o, fetch_trace_files *tf);
int fetch_trace_files_write(fetch_trace_files *tf);

/* ---- fetch_writeout.c ---- */

/* Writes the -w FORMAT for one URL to out: %{name} variables (unknown ones
 * print nothing, and the first call of the run names each on stderr,
 * once), %header{name}, "\n", "\r", "\t" and "%%", as curl 7.88's -w ("\\"
 * stays two backslashes, as there); "%{stdout}"/"%{stderr}" switch the stream; "@FILE"
 * reads the format from FILE ("@-" stdin) at parse time, not here.
 * Returns 0 or -1/errno on a write error. */
int fetch_write_out(const char *format, const fetch_writeout *v, FILE *out);

/* ---- fetch_url.c ---- */

/* Copies text into out (size bytes, always NUL-terminated, cut to fit)
 * with the password of every URL in it ("scheme://user:password@", or a
 * text that starts "user:password@") written as "***": what fetch prints
 * never shows one. */
void fetch_masked(const char *text, char *out, size_t size);

/* fetch_masked into a new string (free it), long enough for all of it;
 * NULL when out of memory. */
char *fetch_masked_dup(const char *text);

/* -T FILE to a URL whose path is empty or ends in '/': the URL with
 * FILE's base name (percent-encoded) appended to the path, before any
 * query, as curl does ("http://h/up/" + "a b.txt" is
 * "http://h/up/a%20b.txt"); else a copy of url.  New string, NULL when
 * out of memory. */
char *fetch_upload_url(const char *url, const char *file);

/* "fetch: WHERE: bad proxy URL 'PROXY': WHY" on stderr, the password
 * masked; returns FETCH_EXIT_PROXY.  where and why may be NULL. */
int fetch_bad_proxy(const char *where, const char *proxy, const char *why);

/* ---- fetch_demo.c ---- */

/* No URL: serves a page from a coroutine in this process and fetches it
 * with --trace on.  Returns the exit code. */
int fetch_demo(fetch_opts *o);

#endif

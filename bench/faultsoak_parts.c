/* faultsoak_parts.c - faultsoak's upstream, gateway child, /proc sampling,
 * command line and report (faultsoak.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <bareawait/coro.h>
#include "faultsoak.h"

static int64_t stall_ms = 1500; /* 3x the gateway's timeout: soak_gateway_start sets it */

/* ---- kinds ---- */

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ULL;
    return x ^ (x >> 29);
}

soak_kind soak_kind_of(uint64_t seq)
{
    static const struct { int below; soak_kind k; } shares[] = {
        {40, SOAK_WHOLE}, {55, SOAK_CHUNKED}, {70, SOAK_TRICKLE},
        {77, SOAK_STALL}, {89, SOAK_CUT}, {100, SOAK_RESET},
    };
    int r = (int)(mix(seq) % 100);
    size_t i = 0;
    while (r >= shares[i].below)
        i++;
    return shares[i].k;
}

const char *soak_kind_name(soak_kind k)
{
    static const char *names[SOAK_KINDS] = {"whole", "chunked", "trickle", "stall", "cut",
                                            "reset"};
    return names[k];
}

uint64_t soak_body_len(uint64_t seq)
{
    if (soak_kind_of(seq) == SOAK_TRICKLE)
        return 1024 + mix(seq + 1) % 8192;
    return mix(seq + 1) % 65536;
}

unsigned char soak_byte(uint64_t seq, uint64_t i)
{
    return (unsigned char)(i * 131 + seq * 17 + (i >> 9));
}

/* ---- the upstream ---- */

/* Each connection's socket, by the id of its coroutine (a reset needs it:
 * SO_LINGER 0, then the server's close sends an RST).  One thread. */
#define CONN_SLOTS 4096
static struct { uint64_t id; int fd; } conns[CONN_SLOTS];

static void on_event(void *user, http_server_event ev, int fd, const char *detail)
{
    (void)user, (void)detail;
    uint64_t id = coro_id(coro_self());
    if (ev == HTTP_SERVER_EV_ACCEPTED)
        conns[id % CONN_SLOTS].id = id, conns[id % CONN_SLOTS].fd = fd;
}

/* Sends body bytes [from, to) of seq in pieces of `piece`, `gap_ms` apart. */
static int send_body(http_server_reply *reply, uint64_t seq, uint64_t from, uint64_t to,
                     size_t piece, int64_t gap_ms)
{
    char buf[16384];
    while (from < to) {
        size_t n = 0;
        for (; n < piece && n < sizeof buf && from + n < to; n++)
            buf[n] = (char)soak_byte(seq, from + n);
        if (http_reply_write(reply, buf, n) < 0)
            return -1;
        from += n;
        if (gap_ms && coro_sleep_until(coro_deadline_in(gap_ms)) < 0)
            return -1;
    }
    return 0;
}

static int handle(const http_server_request *req, http_server_reply *reply, void *user)
{
    (void)user;
    char *end;
    if (strncmp(req->path, "/k/", 3) != 0)
        return http_reply(reply, 404, "text/plain", "no\n", 3);
    uint64_t seq = strtoull(req->path + 3, &end, 10);
    uint64_t len = soak_body_len(seq);
    soak_kind k = soak_kind_of(seq);
    if (k == SOAK_STALL && coro_sleep_until(coro_deadline_in(stall_ms)) < 0)
        return -1;
    int64_t announced = k == SOAK_CHUNKED ? -1 : (int64_t)len;
    if (http_reply_start(reply, 200, "application/octet-stream", announced) < 0)
        return -1;
    uint64_t upto = k == SOAK_CUT || k == SOAK_RESET ? len / 2 : len;
    if (send_body(reply, seq, 0, upto, k == SOAK_TRICKLE ? 512 : 16384,
                  k == SOAK_TRICKLE ? 1 : 0) < 0)
        return -1;
    if (upto == len)
        return http_reply_end(reply);
    uint64_t id = coro_id(coro_self());
    if (k == SOAK_RESET && conns[id % CONN_SLOTS].id == id) {
        struct linger hard = {.l_onoff = 1, .l_linger = 0};
        setsockopt(conns[id % CONN_SLOTS].fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    }
    return -1; /* a stream under way: the server closes the connection */
}

http_server *soak_upstream_open(void)
{
    http_server_opts o = {.on_event = on_event, .conn_name = "upstream-conn"};
    return http_server_open(&o, handle, NULL);
}

/* ---- the gateway ---- */

/* The gateway binary: c->gateway, or ../examples/gateway from argv0's dir. */
static const char *gateway_path(const soak_config *c, char *buf, size_t size)
{
    if (c->gateway)
        return c->gateway;
    const char *slash = strrchr(c->argv0, '/');
    int dir = slash ? (int)(slash - c->argv0) : 1;
    snprintf(buf, size, "%.*s/../examples/gateway", dir, slash ? c->argv0 : ".");
    return buf;
}

pid_t soak_gateway_start(soak_config *c, int upstream_port)
{
    stall_ms = 3 * c->timeout_ms;
    char path[4096], up[64], tmo[32], log[] = "/tmp/faultsoak-gateway.XXXXXX";
    const char *bin = gateway_path(c, path, sizeof path);
    snprintf(up, sizeof up, "http://127.0.0.1:%d", upstream_port);
    snprintf(tmo, sizeof tmo, "%" PRId64, c->timeout_ms);
    int fd = mkstemp(log);
    if (fd < 0) {
        perror("faultsoak: mkstemp");
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd, 2);
        execl(bin, "gateway", "--upstream", up, "--listen", "127.0.0.1:0", "--timeout", tmo,
              (char *)NULL);
        fprintf(stderr, "faultsoak: cannot run %s: %s\n", bin, strerror(errno));
        _exit(127);
    }
    for (int i = 0; pid > 0 && i < 1000 && c->gateway_port <= 0; i++) {
        char said[512] = {0};
        ssize_t n = pread(fd, said, sizeof said - 1, 0);
        const char *p = n > 0 ? strstr(said, "(port ") : NULL;
        if (p)
            c->gateway_port = atoi(p + 6);
        else if (n > 0 && strstr(said, "faultsoak:"))
            break;
        nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    if (pid < 0 || c->gateway_port <= 0) {
        char said[512] = {0};
        ssize_t n = pread(fd, said, sizeof said - 1, 0);
        fprintf(stderr, "faultsoak: the gateway (%s) did not start%s%s", bin,
                n > 0 ? ": " : "\n", n > 0 ? said : "");
        if (pid > 0)
            kill(pid, SIGKILL);
        pid = -1;
    }
    close(fd);
    unlink(log);
    return pid;
}

/* ---- /proc ---- */

long soak_rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kib = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

int soak_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* inject.c - a fault injector, preloaded (LD_PRELOAD) into one program
 * under test: it counts the calls the program makes to the allocator and
 * to the system calls the runtime and the client use, and fails just one
 * of them -- the Nth eligible call of one function, in one mode:
 *
 *   fail    the error that call really gives when the system is short
 *           (malloc NULL/ENOMEM, socket EMFILE, connect ECONNREFUSED,
 *           epoll_ctl ENOMEM, read ECONNRESET, pthread_create EAGAIN...)
 *   eintr   -1/EINTR, as a signal would (socket I/O, connect, accept4,
 *           epoll_wait)
 *   eagain  a spurious -1/EAGAIN (socket I/O on a non-blocking socket)
 *   short   a short read or write (1 byte read, half the bytes written)
 *
 * Controlled by the environment (read once, at load):
 *   BA_FAULT_FN    the function to fault ("malloc", "epoll_ctl"...);
 *                  unset: count only
 *   BA_FAULT_MODE  fail | eintr | eagain | short (default fail)
 *   BA_FAULT_N     which eligible call, from 1; "all": every one
 *   BA_FAULT_TRACE set: the stack of the faulted call on stderr (for
 *                  addr2line), to find which line met the fault
 *   BA_FAULT_OUT   a file the report goes to at exit:
 *                    count FN MODE CALLS   for every function and mode
 *                    injected FN MODE N    when the fault was made
 *                    live BLOCKS           heap blocks not freed at exit
 *                    fd N TARGET           an fd open at exit that was not
 *                                          open at load (inherited ones are
 *                                          not the program's)
 * Only socket fds get I/O faults: a blocking stdout or a regular file
 * does not give EAGAIN or short reads, and stdio treats EINTR there as an
 * error by design.
 *
 * Why a preload and the plain build: ASan must come first in the library
 * list and replaces malloc itself, so nothing can stand in front of it.
 * Leaks are seen by this file's count of live heap blocks at exit against
 * the fault-free run's (the same program frees the same blocks), which
 * run.py has memcheck confirm, or memcheck alone with run.py --valgrind.
 * The allocator is glibc's __libc_malloc family: dlsym itself allocates.
 *
 * Allocations made inside getaddrinfo are neither counted nor failed:
 * glibc's NSS code does not survive them (an assertion in
 * nss_database_reload, a SIGSEGV after __nss_database_get's allocation
 * fails -- glibc's, not bareawait's, seen as malloc #18 and #20 of the
 * resolve scenario); getaddrinfo itself is failed as a whole instead.
 *
 * clock_gettime is counted, never failed: with a valid clock it cannot.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t k, size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

/* The functions counted; names as BA_FAULT_FN spells them. */
enum fn {
    F_MALLOC, F_CALLOC, F_REALLOC, F_SOCKET, F_CONNECT, F_ACCEPT4, F_EPOLL_CREATE1,
    F_EPOLL_CTL, F_EPOLL_WAIT, F_READ, F_RECV, F_RECVFROM, F_WRITE, F_SEND, F_WRITEV,
    F_SENDMSG, F_EVENTFD, F_MMAP, F_MADVISE, F_MPROTECT, F_PTHREAD_CREATE, F_GETADDRINFO,
    F_CLOCK_GETTIME, F_COUNT
};
static const char *const fn_names[F_COUNT] = {
    "malloc", "calloc", "realloc", "socket", "connect", "accept4", "epoll_create1",
    "epoll_ctl", "epoll_wait", "read", "recv", "recvfrom", "write", "send", "writev",
    "sendmsg", "eventfd", "mmap", "madvise", "mprotect", "pthread_create", "getaddrinfo",
    "clock_gettime"};

enum mode { M_FAIL, M_EINTR, M_EAGAIN, M_SHORT, M_COUNT };
static const char *const mode_names[M_COUNT] = {"fail", "eintr", "eagain", "short"};

/* What a wrapper is told to do. */
enum act { ACT_NONE, ACT_FAIL, ACT_EINTR, ACT_EAGAIN, ACT_SHORT };

#define FD_SEEN 4096 /* fds above this at load are not tracked */

static struct {
    int armed;                       /* counting (set up, not yet reporting) */
    int trace;                       /* BA_FAULT_TRACE */
    int target;                      /* enum fn, or -1: count only */
    int mode;                        /* enum mode of the fault */
    long n;                          /* the eligible call to fault; -1: all */
    const char *out;                 /* BA_FAULT_OUT */
    long calls[F_COUNT][M_COUNT];    /* eligible calls so far */
    long injected;                   /* faults made */
    long live;                       /* heap blocks allocated minus freed */
    unsigned char open_at_load[FD_SEEN / 8];
} st = {.target = -1};

/* Inside getaddrinfo on this thread: its allocations are glibc's (top). */
static _Thread_local int in_lookup;

/* ---- deciding ---- */

static int is_socket(int fd)
{
    struct stat sb;
    return fd >= 0 && fstat(fd, &sb) == 0 && S_ISSOCK(sb.st_mode);
}

/* The faulted call's stack, on stderr.  Disarmed meanwhile: backtrace()
 * loads libgcc_s the first time, which allocates. */
static void show_stack(void)
{
    void *frames[32];
    __atomic_store_n(&st.armed, 0, __ATOMIC_RELAXED);
    int n = backtrace(frames, 32);
    backtrace_symbols_fd(frames, n, 2);
    __atomic_store_n(&st.armed, 1, __ATOMIC_RELAXED);
}

/* Counts one call of f in every mode it is eligible for (a bit per mode in
 * `modes`) and says what to do with it. */
static enum act decide(enum fn f, unsigned modes)
{
    if (!__atomic_load_n(&st.armed, __ATOMIC_RELAXED))
        return ACT_NONE;
    enum act act = ACT_NONE;
    for (int m = 0; m < M_COUNT; m++) {
        if (!(modes & (1u << m)))
            continue;
        long c = __atomic_add_fetch(&st.calls[f][m], 1, __ATOMIC_RELAXED);
        if ((int)f == st.target && m == st.mode && (st.n < 0 || c == st.n)) {
            __atomic_add_fetch(&st.injected, 1, __ATOMIC_RELAXED);
            act = (enum act)(ACT_FAIL + m);
            if (st.trace)
                show_stack();
        }
    }
    return act;
}

#define ALL_MODES (1u << M_FAIL) /* every call can fail; nothing else */

/* Socket I/O: fail, EINTR, a spurious EAGAIN when non-blocking, short. */
static unsigned io_modes(int fd, size_t len)
{
    if (!__atomic_load_n(&st.armed, __ATOMIC_RELAXED) || !is_socket(fd))
        return 0;
    unsigned m = (1u << M_FAIL) | (1u << M_EINTR);
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK))
        m |= 1u << M_EAGAIN;
    if (len > 1)
        m |= 1u << M_SHORT;
    return m;
}

/* Turns an act into errno and -1; 0 when the call is to go on. */
static int refuse(enum act a, int fail_errno)
{
    switch (a) {
    case ACT_FAIL: errno = fail_errno; return -1;
    case ACT_EINTR: errno = EINTR; return -1;
    case ACT_EAGAIN: errno = EAGAIN; return -1;
    default: return 0;
    }
}

#define REAL(name) \
    static __typeof__(name) *real_##name; \
    if (!real_##name) \
        real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

/* ---- the allocator ---- */

void *malloc(size_t n)
{
    if (!in_lookup && decide(F_MALLOC, ALL_MODES) == ACT_FAIL) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __libc_malloc(n);
    if (p)
        __atomic_add_fetch(&st.live, 1, __ATOMIC_RELAXED);
    return p;
}

void *calloc(size_t k, size_t n)
{
    if (!in_lookup && decide(F_CALLOC, ALL_MODES) == ACT_FAIL) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __libc_calloc(k, n);
    if (p)
        __atomic_add_fetch(&st.live, 1, __ATOMIC_RELAXED);
    return p;
}

void *realloc(void *old, size_t n)
{
    if (!in_lookup && decide(F_REALLOC, ALL_MODES) == ACT_FAIL) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = __libc_realloc(old, n);
    if (!old && p)
        __atomic_add_fetch(&st.live, 1, __ATOMIC_RELAXED);
    else if (old && !p && n == 0)
        __atomic_sub_fetch(&st.live, 1, __ATOMIC_RELAXED);
    return p;
}

void free(void *p)
{
    if (p)
        __atomic_sub_fetch(&st.live, 1, __ATOMIC_RELAXED);
    __libc_free(p);
}

/* ---- sockets and epoll ---- */

int socket(int domain, int type, int proto)
{
    REAL(socket);
    if (refuse(decide(F_SOCKET, ALL_MODES), EMFILE))
        return -1;
    return real_socket(domain, type, proto);
}

int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
    REAL(connect);
    unsigned m = is_socket(fd) ? (1u << M_FAIL) | (1u << M_EINTR) : 0;
    if (refuse(decide(F_CONNECT, m), ECONNREFUSED))
        return -1;
    return real_connect(fd, sa, len);
}

int accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
    REAL(accept4);
    unsigned m = io_modes(fd, 0);
    if (refuse(decide(F_ACCEPT4, m), EMFILE))
        return -1;
    return real_accept4(fd, sa, len, flags);
}

int epoll_create1(int flags)
{
    REAL(epoll_create1);
    if (refuse(decide(F_EPOLL_CREATE1, ALL_MODES), EMFILE))
        return -1;
    return real_epoll_create1(flags);
}

int epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
    REAL(epoll_ctl);
    if (refuse(decide(F_EPOLL_CTL, ALL_MODES), ENOMEM))
        return -1;
    return real_epoll_ctl(epfd, op, fd, ev);
}

/* epoll_wait's only failure that is not a bug is EINTR: fail = eintr. */
int epoll_wait(int epfd, struct epoll_event *ev, int max, int ms)
{
    REAL(epoll_wait);
    if (refuse(decide(F_EPOLL_WAIT, (1u << M_FAIL) | (1u << M_EINTR)), EINTR))
        return -1;
    return real_epoll_wait(epfd, ev, max, ms);
}

int eventfd(unsigned int initval, int flags)
{
    REAL(eventfd);
    if (refuse(decide(F_EVENTFD, ALL_MODES), EMFILE))
        return -1;
    return real_eventfd(initval, flags);
}

/* ---- socket I/O ---- */

ssize_t read(int fd, void *buf, size_t n)
{
    REAL(read);
    enum act a = decide(F_READ, io_modes(fd, n));
    if (refuse(a, ECONNRESET))
        return -1;
    return real_read(fd, buf, a == ACT_SHORT ? 1 : n);
}

ssize_t recv(int fd, void *buf, size_t n, int flags)
{
    REAL(recv);
    enum act a = decide(F_RECV, io_modes(fd, n));
    if (refuse(a, ECONNRESET))
        return -1;
    return real_recv(fd, buf, a == ACT_SHORT ? 1 : n, flags);
}

ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *sa, socklen_t *len)
{
    REAL(recvfrom);
    enum act a = decide(F_RECVFROM, io_modes(fd, n));
    if (refuse(a, ECONNRESET))
        return -1;
    return real_recvfrom(fd, buf, a == ACT_SHORT ? 1 : n, flags, sa, len);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    REAL(write);
    enum act a = decide(F_WRITE, io_modes(fd, n));
    if (refuse(a, ECONNRESET))
        return -1;
    return real_write(fd, buf, a == ACT_SHORT ? n / 2 : n);
}

ssize_t send(int fd, const void *buf, size_t n, int flags)
{
    REAL(send);
    enum act a = decide(F_SEND, io_modes(fd, n));
    if (refuse(a, ECONNRESET))
        return -1;
    return real_send(fd, buf, a == ACT_SHORT ? n / 2 : n, flags);
}

static size_t iov_total(const struct iovec *iov, int n)
{
    size_t t = 0;
    while (n-- > 0)
        t += iov[n].iov_len;
    return t;
}

/* A short writev: only the first half of the first non-empty piece. */
static int short_iov(const struct iovec *iov, int n, struct iovec *one)
{
    for (int i = 0; i < n; i++) {
        if (iov[i].iov_len > 0) {
            one->iov_base = iov[i].iov_base;
            one->iov_len = iov[i].iov_len > 1 ? iov[i].iov_len / 2 : 1;
            return 1;
        }
    }
    return 0;
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
    REAL(writev);
    enum act a = decide(F_WRITEV, io_modes(fd, iov_total(iov, n)));
    if (refuse(a, ECONNRESET))
        return -1;
    struct iovec one;
    if (a == ACT_SHORT && short_iov(iov, n, &one))
        return real_writev(fd, &one, 1);
    return real_writev(fd, iov, n);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
    REAL(sendmsg);
    enum act a = decide(F_SENDMSG, io_modes(fd, iov_total(msg->msg_iov, (int)msg->msg_iovlen)));
    if (refuse(a, ECONNRESET))
        return -1;
    struct iovec one;
    if (a == ACT_SHORT && short_iov(msg->msg_iov, (int)msg->msg_iovlen, &one)) {
        struct msghdr m = *msg;
        m.msg_iov = &one;
        m.msg_iovlen = 1;
        return real_sendmsg(fd, &m, flags);
    }
    return real_sendmsg(fd, msg, flags);
}

/* ---- memory maps, threads, names, the clock ---- */

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    REAL(mmap);
    if (decide(F_MMAP, ALL_MODES) == ACT_FAIL) {
        errno = ENOMEM;
        return MAP_FAILED;
    }
    return real_mmap(addr, len, prot, flags, fd, off);
}

int madvise(void *addr, size_t len, int advice)
{
    REAL(madvise);
    if (refuse(decide(F_MADVISE, ALL_MODES), ENOMEM))
        return -1;
    return real_madvise(addr, len, advice);
}

int mprotect(void *addr, size_t len, int prot)
{
    REAL(mprotect);
    if (refuse(decide(F_MPROTECT, ALL_MODES), ENOMEM))
        return -1;
    return real_mprotect(addr, len, prot);
}

int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    REAL(pthread_create);
    if (decide(F_PTHREAD_CREATE, ALL_MODES) == ACT_FAIL)
        return EAGAIN; /* pthreads return the error, errno untouched */
    return real_pthread_create(t, attr, fn, arg);
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
                struct addrinfo **res)
{
    REAL(getaddrinfo);
    if (decide(F_GETADDRINFO, ALL_MODES) == ACT_FAIL)
        return EAI_AGAIN;
    in_lookup = 1;
    int rc = real_getaddrinfo(node, service, hints, res);
    in_lookup = 0;
    return rc;
}

int clock_gettime(clockid_t clk, struct timespec *ts)
{
    REAL(clock_gettime);
    decide(F_CLOCK_GETTIME, 0); /* counted only: see the top */
    return real_clock_gettime(clk, ts);
}

/* ---- load and exit ---- */

static void report(void)
{
    __atomic_store_n(&st.armed, 0, __ATOMIC_RELAXED);
    long live = __atomic_load_n(&st.live, __ATOMIC_RELAXED);
    if (!st.out)
        return;
    FILE *f = fopen(st.out, "w");
    if (!f)
        return;
    for (int i = 0; i < F_COUNT; i++)
        for (int m = 0; m < M_COUNT; m++)
            if (st.calls[i][m])
                fprintf(f, "count %s %s %ld\n", fn_names[i], mode_names[m], st.calls[i][m]);
    if (st.injected)
        fprintf(f, "injected %s %s %ld\n", fn_names[st.target], mode_names[st.mode], st.n);
    fprintf(f, "live %ld\n", live);
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    while (d && (e = readdir(d))) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] == '.' || fd == dirfd(d) || fd == fileno(f))
            continue;
        if (fd < FD_SEEN && (st.open_at_load[fd / 8] & (1u << (fd % 8))))
            continue;
        char path[64], target[256] = "?";
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t k = readlink(path, target, sizeof target - 1);
        target[k > 0 ? k : 1] = '\0';
        fprintf(f, "fd %d %s\n", fd, target);
    }
    if (d)
        closedir(d);
    fclose(f);
}

static int lookup(const char *const *names, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

__attribute__((constructor)) static void inject_init(void)
{
    const char *fn = getenv("BA_FAULT_FN"), *mode = getenv("BA_FAULT_MODE");
    const char *n = getenv("BA_FAULT_N");
    st.out = getenv("BA_FAULT_OUT");
    st.trace = getenv("BA_FAULT_TRACE") != NULL;
    st.target = fn && *fn ? lookup(fn_names, F_COUNT, fn) : -1;
    st.mode = mode && *mode ? lookup(mode_names, M_COUNT, mode) : M_FAIL;
    st.n = n && strcmp(n, "all") == 0 ? -1 : n ? atol(n) : 0;
    if ((fn && *fn && st.target < 0) || st.mode < 0) {
        fprintf(stderr, "inject: unknown BA_FAULT_FN or BA_FAULT_MODE\n");
        _exit(125);
    }
    for (int fd = 0; fd < FD_SEEN; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            st.open_at_load[fd / 8] |= (unsigned char)(1u << (fd % 8));
    atexit(report); /* registered first, so it runs after the program's */
    __atomic_store_n(&st.armed, 1, __ATOMIC_RELAXED);
}

/* misuse_child.h - running API-misuse cases, each in a child process.
 *
 * A case's `run` must stop the program through ba_misuse: the child must
 * die of SIGABRT, and its stderr must hold the line
 * "bareawait: CALL: WHAT (API misuse)".  A child that lives on (the misuse
 * went unnoticed) exits 0, and the case fails.  Header-only, for
 * test_misuse.c and test_sync_misuse.c: `return misuse_run(cases, n);`.
 */
#ifndef BAREAWAIT_MISUSE_CHILD_H
#define BAREAWAIT_MISUSE_CHILD_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define HANG_GUARD_S 60  /* a child still alive after this is killed (SIGALRM) */

typedef struct misuse_case {
    const char *name;
    void (*run)(void);   /* in the child: must never get back here */
    const char *call;    /* the line's CALL; NULL: any */
    const char *what;    /* the line's WHAT; NULL: any */
} misuse_case;

#define OUTSIDE "called outside any coroutine"
#define IN_HOOK "called from the trace hook, which must not suspend"

/* Runs c in a child; fills `said` with its stderr.  Returns its wait status. */
static int run_child(const misuse_case *c, char *said, size_t size)
{
    int p[2];
    if (pipe(p) < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        struct rlimit no_core = {0, 0};
        setrlimit(RLIMIT_CORE, &no_core); /* an expected abort: no core file */
        dup2(p[1], 2);
        close(p[0]);
        close(p[1]);
        alarm(HANG_GUARD_S);
        c->run();
        _exit(0); /* the misuse went unnoticed */
    }
    close(p[1]);
    size_t got = 0;
    ssize_t n;
    while (got + 1 < size && (n = read(p[0], said + got, size - 1 - got)) > 0)
        got += (size_t)n;
    said[got] = '\0';
    close(p[0]);
    int status = -1;
    if (pid < 0 || waitpid(pid, &status, 0) != pid)
        return -1;
    return status;
}

/* True if one line of `said` is "bareawait: CALL: WHAT (API misuse)" with
 * the case's call and what (NULL matching anything). */
static int holds_line(const misuse_case *c, const char *said)
{
    char head[128], tail[256];
    snprintf(head, sizeof head, "bareawait: %s%s", c->call ? c->call : "", c->call ? ": " : "");
    /* with no CALL to match, the WHAT must follow some call's ": " */
    snprintf(tail, sizeof tail, "%s%s (API misuse)", c->what && !c->call ? ": " : "",
             c->what ? c->what : "");
    size_t hn = strlen(head), tn = strlen(tail);
    for (const char *line = said; *line; line += strcspn(line, "\n") + (strchr(line, '\n') != NULL)) {
        size_t len = strcspn(line, "\n");
        bool whole = c->call && c->what; /* then nothing may come in between */
        if ((whole ? len == hn + tn : len >= hn + tn) && strncmp(line, head, hn) == 0 &&
            strncmp(line + len - tn, tail, tn) == 0)
            return 1;
    }
    return 0;
}

/* Did the child stop as it should?  0 if so; else says why on stderr. */
static int verdict(const misuse_case *c, int status, const char *said)
{
    int ok = 1;
    if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
        fprintf(stderr, "  %s: child %s %d, want killed by SIGABRT (%d)\n", c->name,
                WIFSIGNALED(status) ? "killed by signal" : "exited with",
                WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), SIGABRT);
        ok = 0;
    }
    if (!holds_line(c, said)) {
        fprintf(stderr, "  %s: want a line \"bareawait: %s: %s (API misuse)\"\n"
                        "  got stderr: \"%s\"\n",
                c->name, c->call ? c->call : "<any call>", c->what ? c->what : "<anything>",
                said);
        ok = 0;
    }
    return ok ? 0 : -1;
}

/* Runs every case; what main() returns. */
static int misuse_run(const misuse_case *cases, size_t n)
{
    static char said[16384];
    int failures = 0;
    for (size_t i = 0; i < n; i++) {
        const misuse_case *c = &cases[i];
        int status = run_child(c, said, sizeof said);
        int bad = status == -1 ? (perror("fork/pipe/waitpid"), -1) : verdict(c, status, said);
        printf("%s %s\n", bad ? "FAIL" : "ok  ", c->name);
        failures += bad != 0;
    }
    if (failures)
        fprintf(stderr, "%d case(s) failed\n", failures);
    return failures ? 1 : 0;
}

#endif

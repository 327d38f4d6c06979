/* fetch_rss.c - runs a command and reports its peak resident memory.
 *
 *     fetch_rss COMMAND [ARGS...]
 *
 * Runs COMMAND, waits for it with wait4(), and prints "maxrss_kib N" (the
 * kernel's ru_maxrss: the peak resident set, in KiB) as a last line on
 * stderr.  Exits with COMMAND's exit status, or 128 + the signal that
 * killed it.  For test_fetch.sh, which has no /usr/bin/time to count on.
 */
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: fetch_rss COMMAND [ARGS...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fetch_rss: fork");
        return 2;
    }
    if (pid == 0) {
        execv(argv[1], argv + 1);
        perror("fetch_rss: exec");
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) {
        perror("fetch_rss: wait4");
        return 2;
    }
    fprintf(stderr, "maxrss_kib %ld\n", ru.ru_maxrss);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

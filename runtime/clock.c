/* clock.c - the monotonic clock every deadline is measured on. */
#include <time.h>

#include <bareawait/coro.h>

int64_t coro_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t coro_deadline_in(int64_t ms)
{
    if (ms < 0)
        return CORO_NEVER;
    int64_t now = coro_now();
    if (ms > (CORO_NEVER - now) / 1000000)
        return CORO_NEVER; /* further than the clock goes: never */
    return now + ms * 1000000;
}

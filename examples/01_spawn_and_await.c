/* 01_spawn_and_await.c - spawn a coroutine, then await its result.
 *
 *     import asyncio
 *
 *     async def slow_add(a, b):
 *         await asyncio.sleep(0.1)     # parks here; others could run
 *         return a + b
 *
 *     async def main():
 *         task = asyncio.create_task(slow_add(2, 3))
 *         result = await task
 *         print(f"slow_add(2, 3) = {result}")
 *
 *     asyncio.run(main())
 *
 * coro_spawn is create_task, coro_join is `await task`, coro_run is
 * asyncio.run.  A coroutine's function takes and returns a void *.
 */
#include <stdint.h>
#include <stdio.h>

#include <bareawait/coro.h>
#include "tutorial_trace.h"

typedef struct add_args {
    int a, b;
} add_args;

static int answer; /* what main_coro printed, for the smoke test */

static void *slow_add(void *arg)
{
    add_args *x = arg;
    coro_sleep_until(coro_deadline_in(100));   /* await asyncio.sleep(0.1) */
    return (void *)(intptr_t)(x->a + x->b);    /* return a + b */
}

static void *main_coro(void *arg)
{
    (void)arg;
    add_args args = {2, 3};
    coro_t *task = coro_spawn(slow_add, &args, &(coro_opts){.name = "slow_add"}); /* create_task */
    void *result;
    if (!task || coro_join(task, &result) < 0)         /* result = await task */
        return NULL;
    answer = (int)(intptr_t)result;
    printf("slow_add(2, 3) = %d\n", answer);
    return NULL;
}

int main(int argc, char **argv)
{
    tutorial_trace_args(argc, argv);                   /* --trace: every event on stderr */
    if (!coro_spawn(main_coro, NULL, &(coro_opts){.name = "main"})) /* asyncio.run(main()) */
        return 1;
    coro_run();
    return answer == 5 ? 0 : 1;
}

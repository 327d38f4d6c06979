// test_cxx_headers.cpp - the public headers compile as C++ and link from
// C++ (extern "C"), and none of their names is a C++ keyword.
#include <bareawait/client.h>
#include <bareawait/coro.h>
#include <bareawait/io.h>
#include <bareawait/offload.h>
#include <bareawait/sync.h>
#include "parse.h"
#include <bareawait/url.h>

#include <cstdio>

static void *body(void *arg)
{
    *static_cast<int *>(arg) = 42;
    return nullptr;
}

int main()
{
    int value = 0;
    coro_t *c = coro_spawn(body, &value, nullptr);
    if (!c || coro_run() != 0 || value != 42) {
        std::fprintf(stderr, "coroutine from C++: got %d, want 42\n", value);
        return 1;
    }
    coro_sem *sem = coro_sem_new(1);
    coro_chan *ch = coro_chan_new(sizeof(int), 1);
    coro_select_case sc = {CORO_SELECT_RECV, ch, &value, -1, 0};
    if (!sem || !ch || coro_sem_value(sem) != 1 || sc.op != CORO_SELECT_RECV) {
        std::fprintf(stderr, "sync.h from C++ failed\n");
        return 1;
    }
    coro_chan_free(ch);
    coro_sem_free(sem);
    http_url u;
    if (http_url_parse("http://[::1]:8080/x", &u) != HTTP_URL_OK || u.port != 8080) {
        std::fprintf(stderr, "http_url_parse from C++ failed\n");
        return 1;
    }
    std::printf("%s\n", http_strerror(HTTP_E_RESET));
    return 0;
}

// bench/peers/stackless.cpp - the floor of a stackless await: C++20
// coroutines handing control to each other by symmetric transfer.
//
//   stackless [--quick]   prints one "name value" line per measure:
//     yield_ns       two coroutines, each co_await-ing a hand-off to the
//                    other (await_suspend returns the other's handle, so
//                    the compiler emits a tail jump, no scheduler), per
//                    hand-off
//     spawn_join_ns  a task that returns at once, created (its frame from
//                    operator new) and co_await-ed by a parent, per task
// Each is the median of five rounds.  A comparison program only.
#include <algorithm>
#include <chrono>
#include <coroutine>
#include <cstdio>
#include <cstring>
#include <exception>
#include <vector>

using clk = std::chrono::steady_clock;

static double since_ns(clk::time_point t0)
{
    return std::chrono::duration<double, std::nano>(clk::now() - t0).count();
}

static double median(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

// A lazily started task whose awaiter resumes it and is resumed by it on
// completion (symmetric transfer both ways).
struct task {
    struct promise_type {
        std::coroutine_handle<> waiter = std::noop_coroutine();
        task get_return_object() { return task{std::coroutine_handle<promise_type>::from_promise(*this)}; }
        std::suspend_always initial_suspend() noexcept { return {}; }
        struct final_awaiter {
            bool await_ready() noexcept { return false; }
            std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept
            {
                return h.promise().waiter;
            }
            void await_resume() noexcept {}
        };
        final_awaiter final_suspend() noexcept { return {}; }
        void return_void() {}
        void unhandled_exception() { std::terminate(); }
    };
    std::coroutine_handle<promise_type> h;
    explicit task(std::coroutine_handle<promise_type> h_) : h(h_) {}
    task(task &&o) noexcept : h(o.h) { o.h = nullptr; }
    ~task()
    {
        if (h)
            h.destroy();
    }
    bool await_ready() noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<> w) noexcept
    {
        h.promise().waiter = w;
        return h;
    }
    void await_resume() noexcept {}
};

// Ping-pong: each side suspends and transfers straight to the other.
static std::coroutine_handle<> side[2];
static long left[2];

struct hand_off {
    int to;
    bool await_ready() noexcept { return false; }
    std::coroutine_handle<> await_suspend(std::coroutine_handle<>) noexcept { return side[to]; }
    void await_resume() noexcept {}
};

static task bouncer(int me)
{
    while (left[me]-- > 0)
        co_await hand_off{1 - me};
    // a runs out first: its final_suspend transfers to its waiter, the
    // no-op coroutine, and a.h.resume() in main returns
}

static double yield_ns(long n)
{
    task a = bouncer(0), b = bouncer(1);
    side[0] = a.h;
    side[1] = b.h;
    left[0] = left[1] = n;
    auto t0 = clk::now();
    a.h.resume();
    return since_ns(t0) / (2.0 * static_cast<double>(n)); // b is destroyed parked
}

static task empty() { co_return; }

static task parent(long n)
{
    for (long i = 0; i < n; i++)
        co_await empty();
}

static double spawn_join_ns(long n)
{
    task p = parent(n);
    auto t0 = clk::now();
    p.h.resume();
    return since_ns(t0) / static_cast<double>(n);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    if (argc > 1 && !quick) {
        std::fprintf(stderr, "usage: stackless [--quick]\n");
        return 2;
    }
    long y = quick ? 10000 : 5000000, sp = quick ? 1000 : 2000000;
    std::vector<double> a, b;
    for (int r = 0; r < 5; r++) {
        a.push_back(yield_ns(y));
        b.push_back(spawn_join_ns(sp));
    }
    std::printf("yield_ns %.2f\nspawn_join_ns %.2f\n", median(a), median(b));
    return 0;
}

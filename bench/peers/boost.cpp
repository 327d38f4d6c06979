// bench/peers/boost.cpp - Boost.Context and Boost.Fiber, the stackful peers.
//
//   boost [--quick]    prints one "name value" line per measure:
//     switch_ns      boost::context::continuation::resume, one way (a round
//                    trip is two resumes), fcontext's asm switch, no scheduler
//     yield_ns       two Boost.Fiber fibers, boost::this_fiber::yield()
//                    through the default round-robin scheduler, per yield
//     spawn_join_ns  boost::fibers::fiber that returns at once + join()
// Each is the median of five rounds.  A comparison program only.
#include <boost/context/continuation.hpp>
#include <boost/fiber/all.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

namespace ctx = boost::context;
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

static double switch_ns(long n)
{
    ctx::continuation peer = ctx::callcc([](ctx::continuation &&back) {
        for (;;)
            back = back.resume();
        return std::move(back);
    });
    auto t0 = clk::now();
    for (long i = 0; i < n; i++)
        peer = peer.resume();
    return since_ns(t0) / (2.0 * static_cast<double>(n));
}

static double yield_ns(long n)
{
    auto t0 = clk::now();
    auto loop = [n] {
        for (long i = 0; i < n; i++)
            boost::this_fiber::yield();
    };
    boost::fibers::fiber a(loop), b(loop);
    a.join();
    b.join();
    return since_ns(t0) / (2.0 * static_cast<double>(n));
}

static double spawn_join_ns(long n)
{
    for (long i = 0; i < 1000; i++) // warm the allocator, as ours warms its pool
        boost::fibers::fiber([] {}).join();
    auto t0 = clk::now();
    for (long i = 0; i < n; i++)
        boost::fibers::fiber([] {}).join();
    return since_ns(t0) / static_cast<double>(n);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    if (argc > 1 && !quick) {
        std::fprintf(stderr, "usage: boost [--quick]\n");
        return 2;
    }
    long sw = quick ? 10000 : 2000000, y = quick ? 10000 : 1000000, sp = quick ? 100 : 200000;
    std::vector<double> a, b, c;
    for (int r = 0; r < 5; r++) {
        a.push_back(switch_ns(sw));
        b.push_back(yield_ns(y));
        c.push_back(spawn_join_ns(sp));
    }
    std::printf("switch_ns %.2f\nyield_ns %.2f\nspawn_join_ns %.2f\n", median(a), median(b),
                median(c));
    return 0;
}

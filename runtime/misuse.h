/* misuse.h - stopping the program when the API is used wrongly.
 *
 * A contract the headers state ("needs a coroutine", "one reader per fd",
 * "no request in flight") is checked in every build type, NDEBUG or not:
 * breaking it is a bug in the caller that would otherwise show up later,
 * elsewhere, as a crash or a silent wrong answer.  Internal invariants of
 * the library itself stay assert().  Internal to bareawait (runtime/ and
 * http/); not installed.
 */
#ifndef BAREAWAIT_MISUSE_H
#define BAREAWAIT_MISUSE_H

/* Prints one line, "bareawait: CALL: WHAT (API misuse)", on stderr and
 * calls abort().  `call` is the public function that was misused
 * ("coro_join"), `what` says how ("a second joiner for coroutine 3" is
 * better than "bad state").  Never returns. */
_Noreturn void ba_misuse(const char *call, const char *what);

/* ba_misuse with `what` made by printf(fmt, ...) (cut at ~400 bytes). */
_Noreturn void ba_misusef(const char *call, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif

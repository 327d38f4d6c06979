/* client_test.h - what the client test programs split in two share.
 *
 * test_client_pool.c and test_client_redirects.c (keep-alive, the pool,
 * redirects), test_client_load.c and test_client_cancel.c (load,
 * cancellation): a short reply, and a client whose read and total
 * timeouts default to what each pair of programs wants.  Header-only,
 * like check.h.
 */
#ifndef BAREAWAIT_CLIENT_TEST_H
#define BAREAWAIT_CLIENT_TEST_H

#include <stdint.h>

#include <bareawait/client.h>

#define OK_2 "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

/* http_client_open(&o), with o's read and total timeouts set to read_ms
 * and total_ms where o leaves them 0. */
static inline http_client *client_open_defaults(http_client_opts o, int64_t read_ms,
                                                int64_t total_ms)
{
    if (!o.read_timeout_ms)
        o.read_timeout_ms = read_ms;
    if (!o.total_timeout_ms)
        o.total_timeout_ms = total_ms;
    return http_client_open(&o);
}

#endif

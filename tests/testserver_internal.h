/* testserver_internal.h - internal to the testserver library (testserver.c
 * and testserver_helpers.c): what one of its files uses of the other.
 * Tests include testserver.h, never this.
 */
#ifndef BAREAWAIT_TESTSERVER_INTERNAL_H
#define BAREAWAIT_TESTSERVER_INTERNAL_H

/* A socket bound to the loopback address of `family`, port 0 (the kernel
 * picks), non-blocking and close-on-exec, not yet listening; *port
 * receives the port.  Returns the fd or -1/errno.  Does not suspend.
 * (In testserver_helpers.c.) */
int ts_bound_socket(int family, int *port);

#endif

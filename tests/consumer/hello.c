/* hello.c - a program that uses the installed bareawait, as its users do:
 * only <bareawait/...> headers, linked with what pkg-config (or meson's
 * dependency('bareawait')) says.  scripts/test-consumers builds it both ways.
 *
 * One coroutine serves one HTTP response on 127.0.0.1 (io_accept, io_read,
 * io_write); another GETs it with the client.  Prints one line and exits
 * 0 only if the body came back.
 */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <bareawait/client.h>
#include <bareawait/coro.h>
#include <bareawait/io.h>
#include <bareawait/offload.h>
#include <bareawait/url.h>

#define WAIT_MS 5000 /* for anything at all: a loopback answer takes far less */

static const char reply[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n";

/* Serves one connection: reads the request head, answers, closes. */
static void *serve_one(void *arg)
{
    int lfd = *(int *)arg;
    int fd = io_accept(lfd, NULL, NULL, coro_deadline_in(WAIT_MS));
    if (fd < 0)
        return NULL;
    char head[4096];
    size_t len = 0;
    ssize_t n;
    while (len < sizeof head - 1 &&
           (n = io_read(fd, head + len, sizeof head - 1 - len, coro_deadline_in(WAIT_MS))) > 0) {
        len += (size_t)n;
        head[len] = '\0';
        if (strstr(head, "\r\n\r\n")) {
            io_send(fd, reply, sizeof reply - 1, coro_deadline_in(WAIT_MS));
            break;
        }
    }
    coro_close(fd);
    return NULL;
}

/* A listening socket on 127.0.0.1, on a port the kernel picks. */
static int listen_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t alen = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 1) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) < 0) {
        perror("hello: listen");
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

static int ok;

static void *hello(void *arg)
{
    (void)arg;
    int port, lfd = listen_loopback(&port);
    if (lfd < 0)
        return NULL;
    coro_t *server = coro_spawn(serve_one, &lfd, NULL);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    http_url u;
    http_client *client = http_client_open(NULL);
    http_response *r = NULL;
    int err = http_url_parse(url, &u) != HTTP_URL_OK ? HTTP_E_URL
            : client ? http_get(client, url, &r) : HTTP_E_NOMEM;
    ok = err == HTTP_OK && r->status == 200 && strcmp(r->body, "hello\n") == 0;
    if (err != HTTP_OK)
        printf("hello: GET %s failed: %s\n", url, http_strerror(err));
    else if (ok)
        printf("hello: GET %s -> 200, body \"hello\\n\"\n", url);
    else
        printf("hello: GET %s -> %d with %zu bytes of body; want 200 and \"hello\\n\"\n",
               url, r->status, r->body_len);
    http_response_free(r);
    http_client_close(client);
    if (server)
        coro_join(server, NULL);
    coro_close(lfd);
    return NULL;
}

int main(void)
{
    if (!coro_spawn(hello, NULL, NULL) || coro_run() < 0)
        return 1;
    return ok ? 0 : 1;
}

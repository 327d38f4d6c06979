/* fetch_notes.c - what a job learns while its request goes: where the
 * redirects led, the last head (status, version, fields, Location), the
 * peer, the moments -w times.  The error line and -w read it; fetch_run.c's
 * callbacks write it.
 */
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <bareawait/url.h>

#include "fetch.h"

/* A redirect was followed: the error line names where it led. */
void note_hop(fetch_job *j, const char *next_url)
{
    j->phase = FETCH_PHASE_CONNECT;
    if (j->last_url && strcmp(j->last_url, next_url) == 0)
        return; /* told twice: by on_redirect and by HTTP_EV_REDIRECT */
    char *copy = strdup(next_url);
    if (!copy)
        return; /* the line names an older URL; nothing else is lost */
    free(j->last_url);
    j->last_url = copy;
}

/* The final head's fields as "Name: value\n" lines, for -w %header{}. */
static char *fields_text(const http_response *r)
{
    size_t size = 1;
    for (size_t i = 0; i < r->n_headers; i++)
        size += strlen(r->headers[i].name) + strlen(r->headers[i].value) + 3;
    char *text = malloc(size);
    size_t used = 0;
    for (size_t i = 0; text && i < r->n_headers; i++)
        used += (size_t)snprintf(text + used, size - used, "%s: %s\n", r->headers[i].name,
                                 r->headers[i].value);
    if (text)
        text[used] = '\0';
    return text;
}

/* What -w wants of the last head (the final one, or the redirect that
 * was not followed): status, version, fields, where a 3xx points. */
static void note_last_head(fetch_job *j, const http_response *r)
{
    j->status = r->status;
    snprintf(j->reason, sizeof j->reason, "%s", r->reason);
    j->minor_version = r->minor_version;
    free(j->fields);
    j->fields = fields_text(r);
    free(j->redirect_url);
    j->redirect_url = NULL;
    const char *loc = http_response_header(r, "Location");
    int code;
    if (r->status / 100 == 3 && loc && loc[0])
        j->redirect_url = http_url_join(j->last_url ? j->last_url : j->url, loc, &code);
}

/* Records what -w and the error line want of the final head. */
void note_head(fetch_job *j, const http_response *r)
{
    note_last_head(j, r);
    j->content_length = r->content_length;
    j->phase = FETCH_PHASE_BODY;
    j->head_bytes += output_head_size(r);
    j->retry_after_ms = retry_after_header(r);
    if (!j->t.first_byte_ns)
        j->t.first_byte_ns = coro_now();
    const char *type = http_response_header(r, "Content-Type");
    free(j->content_type);
    j->content_type = type ? strdup(type) : NULL;
}

/* A redirect that failed before it was followed (to https://, to an
 * unusable URL, or wanting a streamed body again): the client told no
 * callback where it led, but the redirect's response is in resp.  The
 * error line names its status and the Location, made absolute where it
 * can be (a malformed one as the server sent it). */
void note_failed_hop(fetch_job *j, const http_response *resp)
{
    const char *loc = resp ? http_response_header(resp, "Location") : NULL;
    bool before_hop = j->err == HTTP_E_SCHEME || j->err == HTTP_E_URL ||
                      j->err == HTTP_E_NOT_REPLAYABLE;
    if (resp && !j->status) { /* on_head never saw it: -L --max-redirs N, 65... */
        note_last_head(j, resp);
        j->head_bytes += output_head_size(resp); /* curl counts it too */
    }
    if (!j->run->o->follow || !loc || !loc[0] || !before_hop || resp->status / 100 != 3)
        return;
    int code;
    char *next = http_url_join(j->last_url ? j->last_url : j->url, loc, &code);
    note_hop(j, next ? next : loc);
    free(next);
}

/* -w %{remote_ip} and %{remote_port}: whom fd is connected to (asked of
 * the socket, so that a reused connection answers too). */
static void note_peer(fetch_job *j, int fd)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    char port[16];
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&sa, &len) < 0 ||
        getnameinfo((struct sockaddr *)&sa, len, j->remote_ip, sizeof j->remote_ip, port,
                    sizeof port, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
        return;
    j->remote_port = atoi(port);
}

/* Is the name being looked up the proxy's?  (The client says which host
 * it resolves; a no_proxy match resolves the origin instead.) */
static bool is_proxy_host(const fetch_job *j, const char *host)
{
    const char *proxy = j->run->o->proxy_host;
    return proxy && host && strcasecmp(proxy, host) == 0;
}

/* The port of "address:port", 0 if none. */
static int port_of(const char *address)
{
    const char *colon = address ? strrchr(address, ':') : NULL;
    return colon ? atoi(colon + 1) : 0;
}

/* What an event tells about j: the phase a timeout would interrupt, the
 * moments -w reports, the redirects followed. */
void note_event(fetch_job *j, http_event ev, int fd, const char *detail)
{
    int64_t now = coro_now();
    switch (ev) {
    case HTTP_EV_RESOLVING:
        j->phase = FETCH_PHASE_CONNECT;
        j->to_proxy = is_proxy_host(j, detail);
        break;
    case HTTP_EV_CONNECTING:
        j->phase = FETCH_PHASE_CONNECT;
        j->to_proxy = j->to_proxy && port_of(detail) == j->run->o->proxy_port;
        break;
    case HTTP_EV_RESOLVED: j->t.resolved_ns = now; break;
    case HTTP_EV_CONNECTED:
        j->t.connected_ns = now;
        j->connects++;
        note_peer(j, fd);
        break;
    case HTTP_EV_REUSED:
        j->t.resolved_ns = j->t.connected_ns = now;
        note_peer(j, fd);
        break;
    case HTTP_EV_REQUEST_SENT: j->phase = FETCH_PHASE_HEAD; break;
    case HTTP_EV_FIRST_BYTE: j->t.first_byte_ns = now; break;
    case HTTP_EV_REDIRECT:
        j->redirects++;
        if (detail)
            note_hop(j, detail);
        break;
    case HTTP_EV_HEAD_RECEIVED:
    case HTTP_EV_BODY_DONE: break;
    }
}

/* Forgets what a failed try left in j (but not its -o file). */
void note_reset(fetch_job *j)
{
    free(j->last_url);
    free(j->content_type);
    free(j->fields);
    free(j->redirect_url);
    j->last_url = j->content_type = j->fields = j->redirect_url = NULL;
    j->method_sent[0] = '\0';
    j->request_bytes = j->uploaded = 0;
    j->connects = 0;
    j->to_proxy = false;
    j->redirects = 0;
    j->received = j->head_bytes = j->stdout_bytes = 0;
    j->content_length = j->retry_after_ms = -1;
    j->phase = FETCH_PHASE_CONNECT;
    j->err = j->err_errno = j->status = 0;
    j->reason[0] = '\0';
    j->aborted = FETCH_ABORT_NONE;
    j->t = (fetch_times){.start_ns = coro_now()};
}


/* fetch_cli.c - what the command line means once every option is read:
 * which URLs (globs expanded, "http://" guessed), which file each goes
 * to, the header lines to send, the proxy.  All of it lands in fetch_opts
 * for fetch_run.c; the strings made here belong to the fetch_cli.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <bareawait/url.h>

#include "fetch_cli.h"

#define FORM_TYPE "application/x-www-form-urlencoded"
#define READ_CHUNK 65536

int fetch_no_memory(void)
{
    fputs("fetch: out of memory\n", stderr);
    return FETCH_EXIT_NOMEM;
}

char *fetch_cli_keep(fetch_cli *c, char *s)
{
    if (!s)
        return NULL;
    if (c->n_owned == c->owned_cap) {
        size_t cap = c->owned_cap ? c->owned_cap * 2 : 16;
        char **owned = realloc(c->owned, cap * sizeof *owned);
        if (!owned) {
            free(s);
            return NULL;
        }
        c->owned = owned;
        c->owned_cap = cap;
    }
    c->owned[c->n_owned++] = s;
    return s;
}

void fetch_cli_free(fetch_cli *c)
{
    for (size_t i = 0; i < c->n_owned; i++)
        free(c->owned[i]);
    free(c->owned);
    free(c->args);
    free(c->names);
    free(c->data);
    free(c->o.urls);
    free(c->o.outfiles);
    free(c->o.headers);
}

/* Reads fd to its end into a growing buffer. */
static char *read_all(int fd, size_t *len)
{
    char *buf = NULL;
    size_t have = 0, cap = 0;
    for (;;) {
        if (cap - have < READ_CHUNK) {
            char *b = realloc(buf, cap + READ_CHUNK + 1);
            if (!b)
                break;
            buf = b;
            cap += READ_CHUNK;
        }
        ssize_t n = read(fd, buf + have, cap - have);
        if (n == 0) {
            buf[have] = '\0';
            *len = have;
            return buf;
        }
        if (n < 0 && errno != EINTR)
            break;
        have += n > 0 ? (size_t)n : 0;
    }
    int saved = errno;
    free(buf);
    errno = saved;
    return NULL;
}

char *fetch_read_file(const char *path, size_t *len)
{
    if (strcmp(path, "-") == 0)
        return read_all(STDIN_FILENO, len);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = read_all(fileno(f), len);
    int saved = errno;
    fclose(f);
    errno = saved;
    return buf;
}

/* ---- the URLs ---- */

/* "127.0.0.1:8080/x" is http://127.0.0.1:8080/x: curl's guess, without
 * its ftp./dict. host-name rules (fetch speaks http only). */
static char *with_scheme(const char *url)
{
    const char *prefix = strstr(url, "://") ? "" : "http://";
    size_t len = strlen(prefix) + strlen(url) + 1;
    char *s = malloc(len);
    if (s)
        snprintf(s, len, "%s%s", prefix, url);
    return s;
}

/* A bad glob, as curl shows it: the URL and a caret under the place. */
static int glob_error(const char *url, const fetch_glob_error *e)
{
    char *shown = fetch_masked_dup(url); /* no password on the screen */
    if (!shown || strcmp(e->why, "out of memory") == 0) {
        free(shown);
        return fetch_no_memory();
    }
    /* The caret moves with what the mask changed before it. */
    size_t same = 0, pos = e->pos;
    while (url[same] && url[same] == shown[same])
        same++;
    if (pos > same)
        pos = pos + strlen(shown) - strlen(url);
    fprintf(stderr, "fetch: %s in URL position %zu (-g turns globbing off):\n%s\n%*s^\n",
            e->why, pos + 1, shown, (int)pos, "");
    free(shown);
    return FETCH_EXIT_URL;
}

/* The file for one expansion: -o's name with #N replaced, -O, or none. */
static const char *name_for(fetch_cli *c, const fetch_glob *g, size_t k, const char *name)
{
    if (!name || name == FETCH_REMOTE_NAME || strcmp(name, "-") == 0 || !g)
        return name;
    return fetch_cli_keep(c, fetch_glob_name(g, k, name));
}

/* Makes room in o.urls and o.outfiles for n more. */
static int grow(fetch_cli *c, size_t n)
{
    size_t need = c->o.n_urls + n;
    if (need <= c->url_cap)
        return 0;
    size_t cap = need > 2 * c->url_cap ? need : 2 * c->url_cap;
    const char **urls = realloc(c->o.urls, cap * sizeof *urls);
    if (urls)
        c->o.urls = urls;
    const char **files = urls ? realloc(c->o.outfiles, cap * sizeof *files) : NULL;
    if (!files)
        return fetch_no_memory();
    c->o.outfiles = files;
    c->url_cap = cap;
    return 0;
}

/* The k-th URL of argument a (of its glob g, if any) and its file. */
static int add_url(fetch_cli *c, size_t a, const fetch_glob *g, size_t k)
{
    const char *name = a < c->n_names ? c->names[a] : NULL;
    char *url = g ? fetch_glob_url(g, k) : NULL;
    char *full = fetch_cli_keep(c, with_scheme(g ? (url ? url : "") : c->args[a]));
    const char *file = name_for(c, g, k, name);
    bool ok = full && (!g || url) && (!name || file);
    free(url);
    if (!ok)
        return fetch_no_memory();
    c->o.urls[c->o.n_urls] = full;
    c->o.outfiles[c->o.n_urls++] = file;
    return 0;
}

/* Adds the URLs of argument a (itself, or its glob's) to o.urls and
 * o.outfiles. */
static int add_urls(fetch_cli *c, size_t a)
{
    fetch_glob *g = NULL;
    fetch_glob_error e;
    if (!c->globoff && fetch_glob_parse(c->args[a], &g, &e) < 0)
        return glob_error(c->args[a], &e);
    size_t n = g ? fetch_glob_count(g) : 1;
    int rc = 0;
    if (n > FETCH_GLOB_MAX_URLS - c->o.n_urls) {
        fprintf(stderr, "fetch: the URLs expand to more than %d in all: split the command, "
                "or -g for a URL with [ ] { } in it\n", FETCH_GLOB_MAX_URLS);
        rc = FETCH_EXIT_URL;
    }
    if (!rc)
        rc = grow(c, n);
    for (size_t k = 0; !rc && k < n; k++)
        rc = add_url(c, a, g, k);
    fetch_glob_free(g);
    return rc;
}

/* Every URL argument, expanded; the -o names paired with them in order. */
static int expand_urls(fetch_cli *c)
{
    if (c->n_names > c->n_args)
        return fetch_usage_error("%zu -o/-O options for %zu URL%s: one -o per URL at most",
                                 c->n_names, c->n_args, c->n_args == 1 ? "" : "s");
    for (size_t a = 0; a < c->n_args; a++) {
        int rc = add_urls(c, a);
        if (rc)
            return rc;
    }
    c->o.n_outfiles = c->o.n_urls;
    return 0;
}

/* -T FILE: a URL ending in '/' gets FILE's name, as curl's. */
static int upload_names(fetch_cli *c)
{
    for (size_t i = 0; i < c->o.n_urls; i++) {
        char *url = fetch_cli_keep(c, fetch_upload_url(c->o.urls[i], c->o.upload_file));
        if (!url)
            return fetch_no_memory();
        c->o.urls[i] = url;
    }
    return 0;
}

/* ---- headers, proxy ---- */

/* Did -H name this header ("Name: v", "Name:" or "Name;")? */
static bool header_given(const fetch_opts *o, const char *name)
{
    size_t len = strlen(name);
    for (size_t i = 0; i < o->n_headers; i++)
        if (strncasecmp(o->headers[i], name, len) == 0 &&
            (o->headers[i][len] == ':' || o->headers[i][len] == ';'))
            return true;
    return false;
}

/* Appends "Name: value" after the -H lines unless -H has the name.  The
 * array has room: fetch_args_parse sized it for these. */
static int add_header(fetch_cli *c, const char *name, const char *value)
{
    if (!value || header_given(&c->o, name))
        return 0;
    size_t len = strlen(name) + 2 + strlen(value) + 1;
    char *line = fetch_cli_keep(c, malloc(len));
    if (!line)
        return fetch_no_memory();
    snprintf(line, len, "%s: %s", name, value);
    c->o.headers[c->o.n_headers++] = line;
    return 0;
}

static int add_headers(fetch_cli *c)
{
    int rc = add_header(c, "User-Agent", c->o.user_agent);
    if (!rc)
        rc = add_header(c, "Referer", c->o.referer);
    if (c->o.has_data && !header_given(&c->o, "Content-Type"))
        c->o.data_type = FORM_TYPE;
    return rc;
}

/* A proxy as the client takes it, "http://host:port"; a bare "host:port"
 * is http://, as curl takes it. */
static int set_proxy(fetch_cli *c, const char *where, const char *proxy)
{
    if (!proxy || !proxy[0]) {
        c->o.proxy = NULL; /* -x "": no proxy, whatever the environment says */
        return 0;
    }
    const char *sep = strstr(proxy, "://");
    if (sep && !((size_t)(sep - proxy) == 4 && strncasecmp(proxy, "http", 4) == 0))
        return fetch_usage_error("%s: fetch speaks to plain http:// proxies only, not \"%s\"",
                                 where, proxy);
    c->o.proxy = fetch_cli_keep(c, with_scheme(proxy));
    if (!c->o.proxy)
        return fetch_no_memory();
    /* Checked here, so that the client's EINVAL never has to be guessed
     * at; its path or query is ignored, as the client ignores it. */
    char *authority = fetch_cli_keep(c, strndup(c->o.proxy, strcspn(c->o.proxy + 7, "/?#") + 7));
    http_url u;
    int code = authority ? http_url_parse(authority, &u) : HTTP_URL_OK;
    if (!authority)
        return fetch_no_memory();
    if (code != HTTP_URL_OK)
        return fetch_bad_proxy(where, proxy, http_url_strerror(code));
    c->o.proxy_host = fetch_cli_keep(c, strdup(u.host));
    c->o.proxy_port = u.port;
    return c->o.proxy_host ? 0 : fetch_no_memory();
}

/* -x, else http_proxy: lowercase only, as curl reads it (HTTP_PROXY can be
 * set by a web server's client through a "Proxy:" header: httpoxy), else
 * all_proxy, else ALL_PROXY, as curl.  --noproxy, else no_proxy, else
 * NO_PROXY, applies to all of them. */
static int proxy_settings(fetch_cli *c)
{
    if (!c->o.no_proxy)
        c->o.no_proxy = getenv("no_proxy");
    if (!c->o.no_proxy)
        c->o.no_proxy = getenv("NO_PROXY");
    if (c->o.proxy)
        return set_proxy(c, "-x", c->o.proxy);
    static const char *const vars[] = {"http_proxy", "all_proxy", "ALL_PROXY"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *value = getenv(vars[i]);
        if (value && value[0])
            return set_proxy(c, vars[i], value);
    }
    return 0;
}

/* ---- the whole ---- */

/* Options that cannot go together, as curl refuses them. */
static int conflicts(const fetch_cli *c)
{
    const fetch_opts *o = &c->o;
    if (o->fail && o->fail_with_body)
        return fetch_usage_error("-f and --fail-with-body: one or the other");
    if (o->head_only && (o->has_data || o->upload_file))
        return fetch_usage_error("-I with %s: one request method at a time (-X to force one)",
                                 o->has_data ? "-d" : "-T");
    if (o->has_data && o->upload_file)
        return fetch_usage_error("-d with -T: one request body at a time");
    return 0;
}

/* No URL: the demo, if every option was about showing it; else curl's
 * "no URL specified".  An empty argument (an unset $URL) is no URL. */
static int check_urls(const fetch_cli *c)
{
    for (size_t a = 0; a < c->n_args; a++)
        if (!c->args[a][0])
            return fetch_usage_error("no URL specified: an empty argument (an unset variable?)");
    if (c->n_args == 0 && c->transfer_option && !c->help && !c->version)
        return fetch_usage_error("no URL specified");
    return 0;
}

int fetch_cli_finish(fetch_cli *c)
{
    int rc = conflicts(c);
    if (!rc)
        rc = check_urls(c);
    if (!rc)
        rc = expand_urls(c);
    if (!rc && c->o.upload_file && strcmp(c->o.upload_file, "-") == 0 && c->o.n_urls > 1)
        rc = fetch_usage_error("-T - reads stdin once: one URL only");
    if (!rc && c->o.upload_file && strcmp(c->o.upload_file, "-") != 0)
        rc = upload_names(c);
    if (!rc)
        rc = add_headers(c);
    if (!rc)
        rc = proxy_settings(c);
    c->o.data = c->data;
    c->o.data_len = c->data_len;
    return rc;
}

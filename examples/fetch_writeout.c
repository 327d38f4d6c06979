/* fetch_writeout.c - -w/--write-out: curl's report line after a URL.
 *
 *     fetch -s -o /dev/null -w '%{http_code} %{time_total}\n' URL
 *
 * The format is copied to the output with three kinds of substitutions:
 * "%{name}" is a value of the transfer (the table below), "%%" is "%",
 * "%header{name}" is a field of the final response head, and "\n", "\r",
 * "\t" are what they mean in C.  Anything else, including a lone "%", "\\"
 * or an unknown "\x", is copied as it stands, as curl 7.88 does.  "%{stdout}" and "%{stderr}" send what follows elsewhere.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fetch.h"

/* How a variable prints: curl's formats. */
typedef enum value_kind {
    VALUE_CODE,   /* an int as three digits: 000 when there was no answer */
    VALUE_INT,
    VALUE_SIZE,   /* a uint64_t */
    VALUE_TIME,   /* a double of seconds, 6 decimals: 0.012345 */
    VALUE_STRING  /* a const char *; NULL prints nothing */
} value_kind;

typedef struct variable {
    const char *name;
    value_kind kind;
    size_t offset;  /* of the value in fetch_writeout */
} variable;

#define VAR(name, kind, field) {name, kind, offsetof(fetch_writeout, field)}

static const variable variables[] = {
    VAR("http_code", VALUE_CODE, http_code),
    VAR("response_code", VALUE_CODE, http_code),
    VAR("url_effective", VALUE_STRING, url_effective),
    VAR("size_download", VALUE_SIZE, size_download),
    VAR("size_header", VALUE_SIZE, size_header),
    VAR("num_redirects", VALUE_INT, num_redirects),
    VAR("time_namelookup", VALUE_TIME, time_namelookup),
    VAR("time_connect", VALUE_TIME, time_connect),
    VAR("time_starttransfer", VALUE_TIME, time_starttransfer),
    VAR("time_total", VALUE_TIME, time_total),
    VAR("exitcode", VALUE_INT, exitcode),
    VAR("errormsg", VALUE_STRING, errormsg),
    VAR("content_type", VALUE_STRING, content_type),
    VAR("method", VALUE_STRING, method),
    VAR("redirect_url", VALUE_STRING, redirect_url),
    VAR("filename_effective", VALUE_STRING, filename_effective),
    VAR("remote_ip", VALUE_STRING, remote_ip),
    VAR("remote_port", VALUE_INT, remote_port),
    VAR("http_version", VALUE_STRING, http_version),
    VAR("scheme", VALUE_STRING, scheme),
    VAR("size_request", VALUE_SIZE, size_request),
    VAR("size_upload", VALUE_SIZE, size_upload),
    VAR("urlnum", VALUE_INT, urlnum),
    VAR("url", VALUE_STRING, url),
    VAR("num_connects", VALUE_INT, num_connects),
    VAR("num_headers", VALUE_INT, num_headers),
    VAR("time_pretransfer", VALUE_TIME, time_pretransfer),
    VAR("speed_download", VALUE_SIZE, speed_download),
    VAR("referer", VALUE_STRING, referer),
    /* Plain HTTP without CONNECT: what curl prints for it. */
    VAR("time_appconnect", VALUE_TIME, time_appconnect),
    VAR("ssl_verify_result", VALUE_INT, no_tls),
    VAR("proxy_ssl_verify_result", VALUE_INT, no_tls),
    VAR("http_connect", VALUE_CODE, no_tls),
};

static const variable *find_variable(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof variables / sizeof variables[0]; i++)
        if (strlen(variables[i].name) == len && memcmp(variables[i].name, name, len) == 0)
            return &variables[i];
    return NULL;
}

/* The field at var's offset, read with memcpy: the table knows its type. */
static void print_value(const variable *var, const fetch_writeout *v, FILE *out)
{
    const char *at = (const char *)v + var->offset;
    int i;
    uint64_t size;
    double seconds;
    const char *s;
    switch (var->kind) {
    case VALUE_CODE:
    case VALUE_INT:
        memcpy(&i, at, sizeof i);
        fprintf(out, var->kind == VALUE_CODE ? "%03d" : "%d", i);
        break;
    case VALUE_SIZE:
        memcpy(&size, at, sizeof size);
        fprintf(out, "%llu", (unsigned long long)size);
        break;
    case VALUE_TIME:
        memcpy(&seconds, at, sizeof seconds);
        fprintf(out, "%.6f", seconds);
        break;
    case VALUE_STRING:
        memcpy(&s, at, sizeof s);
        fputs(s ? s : "", out);
        break;
    }
}

/* The format is the same for every URL: its unknown variables are named
 * by the first fetch_write_out of the run, each once, and never again. */
static bool unknown_said;

/* Names the unknown "%{name}" at s unless format named it before s. */
static void unknown_variable(const char *format, const char *s, size_t len)
{
    if (unknown_said)
        return;
    for (const char *p = strstr(format, "%{"); p && p < s; p = strstr(p + 1, "%{"))
        if (memcmp(p, s, len + 3) == 0)
            return;
    fprintf(stderr, "fetch: unknown --write-out variable: '%.*s'\n", (int)len, s + 2);
}

/* %header{name}: every value of the final head's field `name` (case-
 * insensitive), joined with ", " as curl joins repeats. */
static void print_header(const char *headers, const char *name, size_t len, FILE *out)
{
    bool first = true;
    for (const char *line = headers; line && *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        if (n > len + 1 && strncasecmp(line, name, len) == 0 && line[len] == ':') {
            const char *value = line + len + 1 + strspn(line + len + 1, " ");
            fprintf(out, "%s%.*s", first ? "" : ", ", (int)(line + n - value), value);
            first = false;
        }
        line += n + (nl ? 1 : 0);
    }
}

/* "%header{name}" at s: how many bytes it took, 0 if it is not one. */
static size_t header_at(const char *s, const fetch_writeout *v, FILE *out)
{
    static const char prefix[] = "%header{";
    const char *name = s + strlen(prefix), *end;
    if (strncmp(s, prefix, strlen(prefix)) != 0 || !(end = strchr(name, '}')))
        return 0;
    print_header(v->headers, name, (size_t)(end - name), out);
    return (size_t)(end + 1 - s);
}

/* "%{name}" at s (s[1] == '{'): prints it or switches *out; how many
 * bytes it took, 0 if there is no closing brace (then it is plain text). */
static size_t variable_at(const char *format, const char *s, const fetch_writeout *v,
                          FILE **out)
{
    const char *name = s + 2, *end = strchr(name, '}');
    if (!end)
        return 0;
    size_t len = (size_t)(end - name);
    const variable *var = find_variable(name, len);
    if (len == 6 && memcmp(name, "stdout", 6) == 0)
        *out = stdout;
    else if (len == 6 && memcmp(name, "stderr", 6) == 0)
        *out = stderr;
    else if (var)
        print_value(var, v, *out);
    else
        unknown_variable(format, s, len);
    return len + 3;
}

/* "\n" and its kin; 0 if s does not start one.  "\\" is not one: curl
 * 7.88 prints a backslash and the byte after it as they stand. */
static char escaped(const char *s)
{
    switch (s[1]) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return 0;
    }
}

int fetch_write_out(const char *format, const fetch_writeout *v, FILE *out)
{
    FILE *const first = out;
    for (const char *s = format; *s;) {
        size_t took = 0;
        if (s[0] == '%' && s[1] == '%') {
            fputc('%', out);
            took = 2;
        } else if (s[0] == '%' && s[1] == '{') {
            took = variable_at(format, s, v, &out);
        } else if (s[0] == '%' && s[1] == 'h') {
            took = header_at(s, v, out);
        } else if (s[0] == '\\' && escaped(s)) {
            fputc(escaped(s), out);
            took = 2;
        } else if (s[0] == '\\' && s[1]) {
            fwrite(s, 1, 2, out); /* "\\n" is a backslash and "\n", as curl */
            took = 2;
        }
        if (took == 0) {
            fputc(*s, out);
            took = 1;
        }
        s += took;
    }
    unknown_said = true;
    /* Flushed now: fetch writes bodies with write(2), and the report
     * must come after the body it reports on. */
    errno = 0;
    bool failed = fflush(first) != 0 || ferror(first);
    if (first != stdout)
        failed = fflush(stdout) != 0 || ferror(stdout) || failed; /* %{stdout} */
    if (failed && errno == 0)
        errno = EIO;
    return failed ? -1 : 0;
}

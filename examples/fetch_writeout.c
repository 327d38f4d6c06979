/* fetch_writeout.c - -w/--write-out: curl's report line after a URL.
 *
 *     fetch -s -o /dev/null -w '%{http_code} %{time_total}\n' URL
 *
 * The format is copied to the output with three kinds of substitutions:
 * "%{name}" is a value of the transfer (the table below), "%%" is "%",
 * and "\n", "\r", "\t", "\\" are what they mean in C.  Anything else,
 * including a lone "%" or an unknown "\x", is copied as it stands, as
 * curl does.  "%{stdout}" and "%{stderr}" send what follows elsewhere.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

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
};

static const variable *find_variable(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof variables / sizeof variables[0]; i++)
        if (strlen(variables[i].name) == len && memcmp(variables[i].name, name, len) == 0)
            return &variables[i];
    return NULL;
}

static void print_value(const variable *var, const fetch_writeout *v, FILE *out)
{
    const char *at = (const char *)v + var->offset;
    switch (var->kind) {
    case VALUE_CODE: fprintf(out, "%03d", *(const int *)at); break;
    case VALUE_INT: fprintf(out, "%d", *(const int *)at); break;
    case VALUE_SIZE: fprintf(out, "%llu", (unsigned long long)*(const uint64_t *)at); break;
    case VALUE_TIME: fprintf(out, "%.6f", *(const double *)at); break;
    case VALUE_STRING: {
        const char *s = *(const char *const *)at;
        fputs(s ? s : "", out);
        break;
    }
    }
}

/* Said once per run: a format is the same for every URL. */
static void unknown_variable(const char *name, size_t len)
{
    static bool said;
    if (!said)
        fprintf(stderr, "fetch: unknown --write-out variable: '%.*s'\n", (int)len, name);
    said = true;
}

/* "%{name}" at s (s[1] == '{'): prints it or switches *out; how many
 * bytes it took, 0 if there is no closing brace (then it is plain text). */
static size_t variable_at(const char *s, const fetch_writeout *v, FILE **out)
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
        unknown_variable(name, len);
    return len + 3;
}

/* "\n" and its kin; 0 if s does not start one. */
static char escaped(const char *s)
{
    switch (s[1]) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case '\\': return '\\';
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
            took = variable_at(s, v, &out);
        } else if (s[0] == '\\' && escaped(s)) {
            fputc(escaped(s), out);
            took = 2;
        }
        if (took == 0) {
            fputc(*s, out);
            took = 1;
        }
        s += took;
    }
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

/* test_fetch_writeout.c - fetch's -w formatter (examples/fetch_writeout.c),
 * table-driven: each row is a format and what it must print for one
 * fixed set of values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "fetch.h"

static const fetch_writeout values = {
    .http_code = 200,
    .url_effective = "http://127.0.0.1:8080/ok",
    .size_download = 28,
    .size_header = 75,
    .num_redirects = 2,
    .time_namelookup = 0.000123,
    .time_connect = 0.0005,
    .time_starttransfer = 0.25,
    .time_total = 1.5,
    .exitcode = 0,
    .errormsg = "",
    .content_type = "text/plain; charset=utf-8",
    .method = "POST",
    .redirect_url = "http://127.0.0.1:8080/next",
    .filename_effective = "out.txt",
    .remote_ip = "127.0.0.1",
    .remote_port = 8080,
    .http_version = "1.1",
    .scheme = "HTTP",
    .size_request = 93,
    .size_upload = 7,
    .urlnum = 3,
    .url = "http://127.0.0.1:8080/ok?x",
    .num_connects = 1,
    .headers = "Content-Type: text/plain\nSet-Cookie: a=1\nset-cookie: b=2\n",
};

static const fetch_writeout nothing = {.exitcode = 7, .errormsg = "could not connect"};

typedef struct row {
    const char *format;
    const fetch_writeout *v;
    const char *want;
} row;

static const row rows[] = {
    {"%{http_code}", &values, "200"},
    {"%{response_code}", &values, "200"},
    {"%{http_code}", &nothing, "000"},
    {"%{url_effective}", &values, "http://127.0.0.1:8080/ok"},
    {"%{size_download} %{size_header}", &values, "28 75"},
    {"%{num_redirects}", &values, "2"},
    {"%{time_namelookup}", &values, "0.000123"},
    {"%{time_connect}", &values, "0.000500"},
    {"%{time_starttransfer}", &values, "0.250000"},
    {"%{time_total}", &values, "1.500000"},
    {"%{exitcode} %{errormsg}", &nothing, "7 could not connect"},
    {"[%{errormsg}]", &values, "[]"},
    {"%{content_type}", &values, "text/plain; charset=utf-8"},
    {"[%{content_type}]", &nothing, "[]"},
    {"%{method}", &values, "POST"},
    {"[%{url_effective}]", &nothing, "[]"},
    {"a\\nb\\rc\\td", &values, "a\nb\rc\td"},
    /* curl 7.88: a backslash before anything but n, r, t stays, and so
     * does the byte after it ("\\\\n" is not a newline) */
    {"a\\\\b", &values, "a\\\\b"},
    {"\\\\n", &values, "\\\\n"},
    {"%{redirect_url} %{filename_effective}", &values, "http://127.0.0.1:8080/next out.txt"},
    {"[%{redirect_url}][%{filename_effective}]", &nothing, "[][]"},
    {"%{remote_ip}:%{remote_port}", &values, "127.0.0.1:8080"},
    {"%{http_version} %{scheme}", &values, "1.1 HTTP"},
    {"%{size_request} %{size_upload}", &values, "93 7"},
    {"%{urlnum} %{url} %{num_connects}", &values, "3 http://127.0.0.1:8080/ok?x 1"},
    {"%header{content-type}", &values, "text/plain"},
    {"%header{Set-Cookie}", &values, "a=1, b=2"},
    {"[%header{nope}]", &values, "[]"},
    {"[%header{content-type}]", &nothing, "[]"},
    {"%header{x", &values, "%header{x"},
    {"%hello", &values, "%hello"},
    {"100%%", &values, "100%"},
    {"%", &values, "%"},
    {"50% off", &values, "50% off"},
    {"%{http_code", &values, "%{http_code"},
    {"\\x\\", &values, "\\x\\"},
    {"%%{http_code}", &values, "%{http_code}"},
    {"code=%{http_code}\\n", &values, "code=200\n"},
    {"", &values, ""},
    {"%{}", &values, ""},
    {"a%{stderr}b", &values, "a"}, /* b went to stderr */
    {"%{stderr}x%{stdout}", &values, ""},
};

/* Runs one format into a memory stream; what it printed. */
static char *format_into_memory(const char *format, const fetch_writeout *v, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    if (!out)
        return NULL;
    *rc = fetch_write_out(format, v, out);
    fclose(out);
    return buf;
}

static void test_rows(void)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int rc = -1;
        char *got = format_into_memory(rows[i].format, rows[i].v, &rc);
        if (!CHECK_STR(got, rows[i].want))
            fprintf(stderr, "   row %zu: format \"%s\"\n", i, rows[i].format);
        CHECK_INT(rc, 0);
        free(got);
    }
}

/* Runs f with stderr going to a temporary file; what stderr got. */
static char *capture_stderr(void (*f)(void))
{
    FILE *tmp = tmpfile();
    if (!tmp)
        return NULL;
    fflush(stderr);
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    f();
    fflush(stderr);
    dup2(saved, STDERR_FILENO);
    close(saved);
    off_t n = lseek(fileno(tmp), 0, SEEK_END); /* fd 2 shared its offset */
    char *text = calloc(n > 0 ? (size_t)n + 1 : 1, 1);
    if (text && n > 0 && pread(fileno(tmp), text, (size_t)n, 0) != n)
        text[0] = '\0';
    fclose(tmp);
    return text;
}

static void unknown_twice(void)
{
    int rc;
    free(format_into_memory("[%{bogus}][%{bogus}][%{other}]", &values, &rc));
    free(format_into_memory("%{bogus}", &values, &rc));
}

static void stderr_switch(void)
{
    int rc;
    free(format_into_memory("a%{stderr}to-stderr\\n", &values, &rc));
}

/* An unknown variable prints nothing, and is named by the first format
 * of the run only (each one once), not once per use or per URL. */
static void test_unknown_said_once(void)
{
    int rc = -1;
    char *got = format_into_memory("[%{bogus}]", &values, &rc);
    CHECK_STR(got, "[]");
    free(got);
    char *err = capture_stderr(unknown_twice);
    CHECK_STR(err, "");  /* said already, by the format above */
    free(err);
}

static void test_stderr_switch(void)
{
    char *err = capture_stderr(stderr_switch);
    CHECK_STR(err, "to-stderr\n");
    free(err);
}

/* The first run of the process: the unknown variable is named. */
static void test_unknown_named(void)
{
    char *err = capture_stderr(unknown_twice);
    CHECK_STR(err, "fetch: unknown --write-out variable: 'bogus'\n"
                   "fetch: unknown --write-out variable: 'other'\n");
    free(err);
}

int main(void)
{
    test_unknown_named(); /* first: the warning is once per process */
    test_unknown_said_once();
    test_rows();
    test_stderr_switch();
    return check_summary();
}

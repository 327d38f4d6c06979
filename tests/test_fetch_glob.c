/* test_fetch_glob.c - fetch's URL globs (examples/fetch_glob.c), as curl
 * expands them: each row is a pattern and every URL it must give, in
 * order, or the error and the position it must point at. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fetch_cli.h"

typedef struct row {
    const char *pattern;
    const char *want;  /* the URLs, joined with ' ' */
} row;

static const row expansions[] = {
    {"http://h/", "http://h/"},
    {"h/[1-3]", "h/1 h/2 h/3"},
    {"h/[01-10]", "h/01 h/02 h/03 h/04 h/05 h/06 h/07 h/08 h/09 h/10"},
    {"h/[001-3]", "h/001 h/002 h/003"},
    {"h/[0-2]", "h/0 h/1 h/2"},
    {"h/[8-11]", "h/8 h/9 h/10 h/11"},
    {"h/[a-c]", "h/a h/b h/c"},
    {"h/[X-Z]", "h/X h/Y h/Z"},
    {"h/[1-10:3]", "h/1 h/4 h/7 h/10"},
    {"h/[a-e:2]", "h/a h/c h/e"},
    {"h/[5-5]", "h/5"},
    {"h/{x,y,z}", "h/x h/y h/z"},
    {"h/{one}", "h/one"},
    {"h/{,a}", "h/ h/a"},
    {"h/{a\\,b,c}", "h/a,b h/c"},
    {"h/{a,b}/[1-2]", "h/a/1 h/a/2 h/b/1 h/b/2"},     /* rightmost fastest */
    {"{a,b}[1-2]{x,y}", "a1x a1y a2x a2y b1x b1y b2x b2y"},
    {"h/\\[1-2\\]", "h/[1-2]"},
    {"h/\\{a\\}", "h/{a}"},
    {"h/a\\b", "h/a\\b"},
    {"http://[::1]:8080/[1-2]", "http://[::1]:8080/1 http://[::1]:8080/2"},
    {"http://[fe80::1%25eth0]/", "http://[fe80::1%25eth0]/"},
    {"http://h/?q=a,b", "http://h/?q=a,b"},
};

typedef struct bad {
    const char *pattern;
    const char *why;
    size_t pos;
} bad;

static const bad errors[] = {
    {"h/[1-", "bad range", 5},
    {"h/[3-1]", "bad range", 2},
    {"h/[1-3:0]", "bad range", 2},
    {"h/[1-3:5]", "bad range", 2},
    {"h/[a-Z]", "bad range", 2},
    {"h/[a-]", "bad range", 2},
    {"h/[]", "bad range", 3},
    {"h/[", "bad range", 2},
    {"h/[1-2", "bad range", 6},
    {"h/[x]", "bad range", 2},
    {"h/[1-9999999999999]", "bad range", 18},
    {"h/{a,b", "unmatched brace", 2},
    {"h/{}", "empty braces {} (nothing to choose from)", 3},
    {"h/{a,{b}}", "nested brace", 5},
    {"h/{a,[1-2]}", "nested brace", 5},
    {"h/a]", "unmatched close brace/bracket", 3},
    {"h/a}", "unmatched close brace/bracket", 3},
    {"h/[1-200000]", "expands to more than " FETCH_GLOB_MAX_URLS_TEXT " URLs", 2},
    {"h/[1-1000][1-1000]", "expands to more than " FETCH_GLOB_MAX_URLS_TEXT " URLs", 10},
};

/* Every URL of pattern, joined with ' '. */
static char *expand_all(const char *pattern, fetch_glob_error *e)
{
    fetch_glob *g;
    if (fetch_glob_parse(pattern, &g, e) < 0)
        return NULL;
    size_t cap = 4096, len = 0;
    char *all = calloc(cap, 1);
    for (size_t k = 0; all && k < fetch_glob_count(g); k++) {
        char *url = fetch_glob_url(g, k);
        if (url && len + strlen(url) + 2 < cap)
            len += (size_t)snprintf(all + len, cap - len, "%s%s", k ? " " : "", url);
        free(url);
    }
    fetch_glob_free(g);
    return all;
}

static void test_expansions(void)
{
    for (size_t i = 0; i < sizeof expansions / sizeof expansions[0]; i++) {
        fetch_glob_error e = {0, ""};
        char *got = expand_all(expansions[i].pattern, &e);
        if (!CHECK_STR(got, expansions[i].want))
            fprintf(stderr, "   pattern \"%s\" (error: %s at %zu)\n", expansions[i].pattern,
                    e.why, e.pos);
        free(got);
    }
}

static void test_errors(void)
{
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        fetch_glob_error e = {0, ""};
        char *got = expand_all(errors[i].pattern, &e);
        int ok = CHECK(got == NULL) && CHECK_STR(e.why, errors[i].why) &&
                 CHECK_INT(e.pos, errors[i].pos);
        if (!ok)
            fprintf(stderr, "   pattern \"%s\" gave \"%s\"\n", errors[i].pattern,
                    got ? got : "(error)");
        free(got);
    }
}

typedef struct name_row {
    const char *pattern;
    size_t k;
    const char *name;
    const char *want;
} name_row;

static const name_row names[] = {
    {"h/[1-3]", 1, "file_#1.txt", "file_2.txt"},
    {"h/{a,b}/[01-10]", 12, "#1-#2", "b-03"},
    {"h/{a,b}/[1-2]", 3, "#2#1", "2b"},
    {"h/[1-2]", 0, "#2", "#2"},          /* no 2nd glob: kept */
    {"h/[1-2]", 0, "#0#", "#0#"},
    {"h/x", 0, "#1.html", "#1.html"},    /* no glob at all */
    {"h/{a,b}", 1, "plain", "plain"},
};

static void test_names(void)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        fetch_glob *g;
        fetch_glob_error e;
        if (!CHECK(fetch_glob_parse(names[i].pattern, &g, &e) == 0))
            continue;
        char *got = fetch_glob_name(g, names[i].k, names[i].name);
        if (!CHECK_STR(got, names[i].want))
            fprintf(stderr, "   pattern \"%s\" #%zu, name \"%s\"\n", names[i].pattern,
                    names[i].k, names[i].name);
        free(got);
        fetch_glob_free(g);
    }
}

int main(void)
{
    test_expansions();
    test_errors();
    test_names();
    return check_summary();
}

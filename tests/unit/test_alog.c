/*
 * test_alog.c — the access log's lines (accesslog.c), written through
 * the real writer thread to a file and parsed back: whatever bytes the client
 * (URL, Host, method) or the origin (Content-Type) sent, every line is
 * printable ASCII, a JSON line is valid JSON (python3's json.loads too, when
 * python3 is installed) whose strings decode back to the exact bytes, and a
 * Squid line has exactly its 10 space-separated fields, each %XX-decoding back.
 */
#include "remora-config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accesslog.h"
#include "unit.h"

#define N_CASES 5

/* Nasty field values: bytes 0x80-0xff, C1 controls, quotes, backslashes,
 * C0 controls, DEL, spaces. */
static void make_cases(char url[N_CASES][600], char host[N_CASES][128], char type[N_CASES][64])
{
	int i, c;

	memset(url, 0, sizeof(url[0]) * N_CASES); /* bytes are appended below */
	for (i = 0; i < N_CASES; i++) {
		snprintf(url[i], 600, "http://h%d/p", i);
		snprintf(host[i], 128, "h%d", i);
		snprintf(type[i], 64, "text/plain");
	}
	/* 0: every byte 0x80..0xff in the URL */
	for (c = 0x80; c <= 0xff; c++)
		url[0][strlen(url[0])] = (char)c;
	/* 1: C1 CSI, NEL, quotes, backslash in URL, Host and type */
	strcat(url[1], "\x9b\x85\"q\\b\"");
	strcat(host[1], "\x9b\"x\\");
	snprintf(type[1], 64, "te\x9bxt/\x85h\"t\\ml");
	/* 2: every C0 control and DEL */
	for (c = 1; c < 0x20; c++)
		url[2][strlen(url[2])] = (char)c;
	strcat(url[2], "\x7f");
	snprintf(type[2], 64, "a\x0b\x0c\x1c\x1f/b");
	/* 3: spaces (a Squid field separator) */
	strcat(url[3], "a b  c");
	snprintf(host[3], 128, "h o s t");
	/* 4: high bytes in the Host and the type */
	snprintf(host[4], 128, "\xc3\xa9t\xe9\xff");
	snprintf(type[4], 64, "\xff\xfe/\xa0");
}

/* Writes the cases through a real log (writer thread, file) and returns the
 * file's contents (malloc'd). */
static char *log_cases(enum alog_format fmt, char url[N_CASES][600], char host[N_CASES][128],
		       char type[N_CASES][64])
{
	char dir[] = "/tmp/remora-test-alog-XXXXXX", path[64], err[512];
	struct alog al;
	char *text;
	long len;
	FILE *f;
	int i;

	/* a directory of our own: as root, the log is refused in /tmp itself */
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/access.log", dir);
	ck_assert_msg(alog_open(&al, path, fmt, 1, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(alog_start(&al, err, sizeof(err)) == 0, "%s", err);
	for (i = 0; i < N_CASES; i++) {
		struct alog_entry e = {
			.elapsed_ms = 7,
			.client = "198.18.1.2",
			.code = "TCP_MISS",
			.status = 200,
			.bytes = 123,
			.method = i == 1 ? "G\"E\x9bT" : "GET",
			.url = url[i],
			.peer = "198.18.2.2",
			.type = type[i],
			.orig_dst = "198.18.2.2:80",
			.host = host[i],
			.close_reason = "done",
			.worker = 0,
		};
		alog_line(&al, 0, &e);
	}
	alog_stop(&al);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	ck_assert_uint_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	if (fmt == ALOG_JSON && system("command -v python3 >/dev/null 2>&1") == 0) {
		char cmd[512];

		snprintf(cmd, sizeof(cmd),
			 "python3 -c 'import json,sys\nfor l in open(sys.argv[1],\"rb\"): "
			 "json.loads(l)' %s",
			 path);
		ck_assert_msg(system(cmd) == 0, "python3 json.loads failed on a line:\n%s", text);
	}
	unlink(path);
	rmdir(dir);
	return text;
}

static void assert_printable(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		ck_assert_msg((unsigned char)line[i] >= 0x20 && (unsigned char)line[i] < 0x7f,
			      "byte 0x%02x at %zu in: %.*s", (unsigned char)line[i], i, (int)len,
			      line);
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c - 'A' + 10;
}

/* The decoded value of JSON string key in line (a flat object), into out. */
static void json_get(const char *line, const char *key, char *out, size_t cap)
{
	char pat[64];
	const char *p;
	size_t n = 0;

	snprintf(pat, sizeof(pat), "\"%s\":\"", key);
	p = strstr(line, pat);
	ck_assert_msg(p != NULL, "no string %s in %s", key, line);
	for (p += strlen(pat); *p != '"'; p++) {
		ck_assert_msg(*p != '\0' && *p != '\n', "unterminated %s in %s", key, line);
		ck_assert_uint_lt(n, cap - 1);
		if (*p != '\\') {
			out[n++] = *p;
			continue;
		}
		p++;
		if (*p == '"' || *p == '\\' || *p == '/') {
			out[n++] = *p;
		} else {
			ck_assert_msg(*p == 'u' && p[1] == '0' && p[2] == '0', "escape in %s",
				      line);
			out[n++] = (char)(hexval(p[3]) << 4 | hexval(p[4]));
			p += 4;
		}
	}
	out[n] = '\0';
}

/* Field i (0-based) of a Squid line, %XX-decoded, into out. */
static void squid_get(const char *line, size_t len, int i, char *out, size_t cap)
{
	const char *p = line, *end = line + len - 1; /* without the '\n' */
	size_t n = 0;

	while (i-- > 0) {
		while (p < end && *p == ' ')
			p++;
		p = memchr(p, ' ', (size_t)(end - p));
		ck_assert_ptr_nonnull(p);
	}
	while (p < end && *p == ' ')
		p++;
	for (; p < end && *p != ' '; p++) {
		ck_assert_uint_lt(n, cap - 1);
		if (*p == '%' && p + 2 < end) {
			out[n++] = (char)(hexval(p[1]) << 4 | hexval(p[2]));
			p += 2;
		} else {
			out[n++] = *p;
		}
	}
	out[n] = '\0';
}

START_TEST(json_lines_valid_and_exact)
{
	char url[N_CASES][600], host[N_CASES][128], type[N_CASES][64], got[2048];
	char *text, *line, *save = NULL;
	int i = 0;

	make_cases(url, host, type);
	text = log_cases(ALOG_JSON, url, host, type);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		ck_assert_int_lt(i, N_CASES);
		assert_printable(line, strlen(line));
		ck_assert_msg(line[0] == '{' && line[strlen(line) - 1] == '}', "%s", line);
		json_get(line, "url", got, sizeof(got));
		ck_assert_msg(strcmp(got, url[i]) == 0, "url %d differs: %s", i, line);
		json_get(line, "host", got, sizeof(got));
		ck_assert_str_eq(got, host[i]);
		json_get(line, "type", got, sizeof(got));
		ck_assert_str_eq(got, type[i]);
		json_get(line, "method", got, sizeof(got));
		ck_assert_str_eq(got, i == 1 ? "G\"E\x9bT" : "GET");
	}
	ck_assert_int_eq(i, N_CASES);
	free(text);
}
END_TEST

START_TEST(squid_lines_ten_fields_exact)
{
	char url[N_CASES][600], host[N_CASES][128], type[N_CASES][64], got[2048], want[64];
	char *text, *line, *save = NULL;
	int i = 0, fields;

	make_cases(url, host, type);
	text = log_cases(ALOG_SQUID, url, host, type);
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save), i++) {
		size_t len = strlen(line) + 1; /* squid_get wants the '\n' counted */
		const char *p;

		ck_assert_int_lt(i, N_CASES);
		assert_printable(line, len - 1);
		for (fields = 0, p = line; *p; fields++) {
			while (*p == ' ')
				p++;
			while (*p && *p != ' ')
				p++;
		}
		ck_assert_msg(fields == 10, "%d fields: %s", fields, line);
		squid_get(line, len, 6, got, sizeof(got));
		ck_assert_msg(strcmp(got, url[i]) == 0, "url %d differs: %s", i, line);
		squid_get(line, len, 5, got, sizeof(got));
		ck_assert_str_eq(got, i == 1 ? "G\"E\x9bT" : "GET");
		/* Squid logs the media type only (cut at ';', space or tab) */
		snprintf(want, sizeof(want), "%.*s", (int)strcspn(type[i], "; \t"), type[i]);
		squid_get(line, len, 9, got, sizeof(got));
		ck_assert_str_eq(got, want[0] ? want : "-");
	}
	ck_assert_int_eq(i, N_CASES);
	free(text);
}
END_TEST

/* The longest URL and Host a worker can log, all escaped to 6 bytes in JSON:
 * the line is still whole, valid JSON. */
START_TEST(json_longest_line_whole)
{
	static char line[16384];
	char url[2200], host[128], got[2200];
	struct alog_entry e = {.client = "198.18.1.2",
			       .code = "TCP_MISS",
			       .method = "GET",
			       .peer = "-",
			       .type = "-",
			       .orig_dst = "-",
			       .close_reason = "done"};
	size_t n;

	memset(host, 0x9b, sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	memset(url, 0xff, sizeof(url) - 1);
	url[sizeof(url) - 1] = '\0';
	e.url = url;
	e.host = host;
	n = alog_format_line(line, sizeof(line), ALOG_JSON, 1.5, &e);
	ck_assert_uint_lt(n, sizeof(line));
	line[n] = '\0';
	ck_assert_msg(n > 2 && line[n - 1] == '\n' && line[n - 2] == '}', "cut: ...%s",
		      line + n - 40);
	json_get(line, "url", got, sizeof(got));
	ck_assert_str_eq(got, url);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("accesslog");
	TCase *tc = tcase_create("escaping");

	tcase_add_test(tc, json_lines_valid_and_exact);
	tcase_add_test(tc, squid_lines_ten_fields_exact);
	tcase_add_test(tc, json_longest_line_whole);
	suite_add_tcase(s, tc);
	return unit_run(s);
}

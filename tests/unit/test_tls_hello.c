/*
 * test_tls_hello.c — the ClientHello reader (src/tls).
 *
 * Fixtures (tests/fixtures/tls, dir in $TLS_FIXTURES): hellos captured on
 * loopback from openssl, curl, python3 ssl and gnutls-cli (make.sh); their
 * JA4 is checked against an independent computation from tshark's fields
 * (tests/tls_diff.py), and the JA4 document's worked examples are built
 * below.
 *
 * Every input is read whole, at every split into two runs, one byte at a
 * time, against a guard page, and re-framed into records of 1, 2, 3, 7,
 * 100 and 512 bytes: the results must not change. Hostile inputs are built
 * by mk_hello() from hex fragments.
 */
#include "remora-config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls.h"
#include "unit.h"

#define CAP 16384

/* ---- helpers ---- */

/* Everything the reader reports, as one string (so runs can be compared). */
static void summary(const struct tls_hello *h, int rc, char *out, size_t cap)
{
	char alpn[256] = "";
	size_t i, n = 0;

	for (i = 0; i < h->n_alpn_kept; i++)
		n += (size_t)snprintf(alpn + n, sizeof(alpn) - n, "%s%.*s", i ? "," : "",
				      h->alpn[i].len, h->alpn_buf + h->alpn[i].off);
	if (rc < 0) {
		snprintf(out, cap, "rc=%d error=%s", rc,
			 rc == TLS_INVALID ? tls_error_name(h->error) : "");
		return;
	}
	snprintf(out, cap,
		 "rc=%d sni=%s names=%u flags=%x alpn=%s n_alpn=%u version=%04x legacy=%04x "
		 "nv=%u v0=%04x ciphers=%u exts=%u ja4=%s hello=%u",
		 rc, h->sni, h->n_names, h->flags, alpn, h->n_alpn, h->version, h->legacy_version,
		 h->n_versions, h->versions[0], h->n_ciphers, h->n_extensions, h->ja4,
		 h->hello_len);
}

/* Reads p[0..len) in runs of at most step bytes (0: one run); split: read
 * p[0..split) first. Returns the final answer; *hp keeps the state. */
static int read_runs(struct tls_hello *h, const uint8_t *p, size_t len, size_t split, size_t step,
		     uint32_t cap)
{
	size_t have = split;
	int rc = TLS_NEED_MORE;

	tls_hello_init(h, cap);
	if (split)
		rc = tls_hello_parse(h, p, split);
	while (rc == TLS_NEED_MORE && have < len) {
		have = step && len - have > step ? have + step : len;
		rc = tls_hello_parse(h, p, have);
	}
	return rc;
}

/* Reads p[0..len) every way; all must agree. Writes the summary. */
static int read_all_ways(const uint8_t *p, size_t len, uint32_t cap, char *sum, size_t sumcap)
{
	struct tls_hello h;
	struct guard g = {0};
	char other[512];
	size_t split;
	int rc, rc2;
	const uint8_t *gp;

	rc = read_runs(&h, p, len, 0, 0, cap);
	summary(&h, rc, sum, sumcap);
	rc2 = read_runs(&h, p, len, 0, 1, cap);
	summary(&h, rc2, other, sizeof(other));
	ck_assert_msg(strcmp(sum, other) == 0, "byte by byte: %s\nwhole: %s", other, sum);
	for (split = 1; split < len; split++) {
		rc2 = read_runs(&h, p, len, split, 0, cap);
		summary(&h, rc2, other, sizeof(other));
		ck_assert_msg(strcmp(sum, other) == 0, "split %zu: %s\nwhole: %s", split, other,
			      sum);
	}
	gp = (const uint8_t *)guard_copy(&g, p, len);
	rc2 = read_runs(&h, gp, len, 0, 0, cap);
	summary(&h, rc2, other, sizeof(other));
	ck_assert_str_eq(sum, other);
	guard_free(&g);
	return rc;
}

static size_t load(const char *name, uint8_t *buf, size_t cap)
{
	const char *dir = getenv("TLS_FIXTURES");
	char path[512];
	FILE *f;
	size_t n;

	ck_assert_msg(dir != NULL, "TLS_FIXTURES not set");
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	n = fread(buf, 1, cap, f);
	fclose(f);
	return n;
}

/* Re-frames the handshake message in the records of in[0..len) into
 * records of at most frag bytes; returns the new length. */
static size_t reframe(const uint8_t *in, size_t len, size_t frag, uint8_t *out)
{
	uint8_t msg[65536];
	size_t m = 0, pos = 0, o = 0, r, take;

	while (pos + 5 <= len) {
		r = (size_t)in[pos + 3] << 8 | in[pos + 4];
		memcpy(msg + m, in + pos + 5, r);
		m += r;
		pos += 5 + r;
	}
	for (pos = 0; pos < m; pos += take) {
		take = m - pos < frag ? m - pos : frag;
		memcpy(out + o, in, 3);
		out[o + 3] = (uint8_t)(take >> 8);
		out[o + 4] = (uint8_t)take;
		memcpy(out + o + 5, msg + pos, take);
		o += 5 + take;
	}
	return o;
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}

/* Appends the hex digits of s (spaces ignored) to out; returns the count. */
static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;

	for (; *s; s++) {
		if (*s == ' ')
			continue;
		out[n++] = (uint8_t)(hexval(s[0]) << 4 | hexval(s[1]));
		s++;
	}
	return n;
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* A one-record ClientHello: version 0x0303, zero random, empty session id,
 * the cipher suites and extensions given in hex (exts NULL: no extensions
 * block at all). */
static size_t mk_hello(uint8_t *out, const char *ciphers, const char *exts)
{
	size_t n = 9, c, e;

	memcpy(out, "\x16\x03\x01\x00\x00\x01\x00\x00\x00", 9);
	out[n++] = 3;
	out[n++] = 3;
	memset(out + n, 0, 33); /* random, session id length 0 */
	n += 33;
	c = unhex(ciphers, out + n + 2);
	put16(out + n, c);
	n += 2 + c;
	out[n++] = 1;
	out[n++] = 0;
	if (exts) {
		e = unhex(exts, out + n + 2);
		put16(out + n, e);
		n += 2 + e;
	}
	put16(out + 3, n - 5);
	out[6] = (uint8_t)((n - 9) >> 16);
	put16(out + 7, n - 9);
	return n;
}

/* ---- fixtures ---- */

struct fixture {
	const char *file;
	const char *sni;
	const char *alpn; /* kept protocols, comma-joined */
	uint16_t version;
	uint8_t records;
	const char *ja4; /* NULL: not checked here (tests/tls_diff.sh does) */
};

/* clang-format off */
static const struct fixture fixtures[] = {
	{"openssl_tls13.bin", "example.com", "h2,http/1.1", 0x0304, 1, NULL},
	{"openssl_tls12.bin", "www.example.org", "", 0x0303, 1, NULL},
	{"openssl_nosni.bin", "", "", 0x0304, 1, NULL},
	{"openssl_multirec.bin", "big.example.net", "", 0x0304, 3, NULL},
	{"curl_h2.bin", "curl.example", "h2,http/1.1", 0x0304, 1, NULL},
	{"curl_tls12.bin", "curl12.example", "http/1.1", 0x0303, 1, NULL},
	{"python_ssl.bin", "Python.Example.COM", "http/1.1", 0x0304, 1, NULL},
	{"gnutls.bin", "gnutls.example", "h2", 0x0304, 1, NULL},
	{"gnutls_tls12.bin", "gnutls12.example", "", 0x0303, 1, NULL},
};
/* clang-format on */

START_TEST(fixture_reads)
{
	const struct fixture *fx = &fixtures[_i];
	static uint8_t buf[65536], re[65536];
	char sum[512], sum2[512], want[300];
	struct tls_hello h;
	size_t len, rlen, i;
	static const size_t frags[] = {1, 2, 3, 7, 100, 512};
	int rc;

	len = load(fx->file, buf, sizeof(buf));
	rc = read_all_ways(buf, len, CAP, sum, sizeof(sum));
	ck_assert_msg(rc == (int)len, "%s: %s", fx->file, sum);
	rc = read_runs(&h, buf, len, 0, 0, CAP);
	ck_assert_str_eq(h.sni, fx->sni);
	ck_assert_uint_eq(h.sni_len, strlen(fx->sni));
	ck_assert_uint_eq(h.n_names, fx->sni[0] ? 1 : 0);
	ck_assert_uint_eq(h.version, fx->version);
	ck_assert_uint_eq(h.n_records, fx->records);
	ck_assert_uint_eq(h.records_len, len);
	snprintf(want, sizeof(want), "alpn=%s ", fx->alpn);
	ck_assert_msg(strstr(sum, want) != NULL, "%s: %s", want, sum);
	if (fx->ja4)
		ck_assert_str_eq(h.ja4, fx->ja4);
	ck_assert_uint_eq(strlen(h.ja4), TLS_JA4_LEN);
	/* the same hello in other record sizes: same results */
	for (i = 0; i < sizeof(frags) / sizeof(frags[0]); i++) {
		rlen = reframe(buf, len, frags[i], re);
		rc = read_runs(&h, re, rlen, 0, 0, CAP);
		ck_assert_int_eq(rc, (int)rlen);
		summary(&h, rc, sum2, sizeof(sum2));
		ck_assert_str_eq(strstr(sum2, " sni="), strstr(sum, " sni="));
		if (frags[i] <= 7)
			read_all_ways(re, rlen, CAP, sum2, sizeof(sum2));
	}
	/* bytes after the hello's records are not looked at */
	memset(buf + len, 0xff, 64);
	ck_assert_int_eq(read_runs(&h, buf, len + 64, 0, 0, CAP), (int)len);
	/* a cap one byte short refuses it; a cut-off hello waits, then is truncated */
	ck_assert_int_eq(read_runs(&h, buf, len, 0, 0, (uint32_t)len - 1), TLS_INVALID);
	ck_assert_int_eq(h.error, TLS_ERR_TOO_LARGE);
	ck_assert_int_eq(read_runs(&h, buf, len - 1, 0, 0, CAP), TLS_NEED_MORE);
	ck_assert_int_eq(tls_hello_eof(&h), TLS_INVALID);
	ck_assert_int_eq(h.error, TLS_ERR_TRUNCATED);
}
END_TEST

/* ---- built and hostile inputs ---- */

#define CS     "1301 1302 c02f"		       /* cipher suites */
#define SNI_AB "0000 0008 0006 00 0003 612e62" /* server_name "a.b" */
#define SV13   "002b 0003 02 0304"	       /* supported_versions: TLS 1.3 */

struct built {
	const char *name;
	const char *ciphers;
	const char *exts; /* NULL: no extensions block */
	int rc;		  /* > 0: done; else the verdict */
	enum tls_error error;
	const char *sni;
	uint32_t flags;	  /* must be set */
	const char *ja4a; /* JA4's first part (10 characters), or NULL */
};

/* clang-format off */
static const struct built builts[] = {
	{"minimal, no extensions", CS, NULL, 1, 0, "", 0, "t12i030000"},
	{"empty extensions block", CS, "", 1, 0, "", 0, "t12i030000"},
	{"sni", CS, SNI_AB, 1, 0, "a.b", TLS_F_SNI, "t12d030100"},
	{"sni and tls 1.3", CS, SNI_AB SV13, 1, 0, "a.b", TLS_F_SNI | TLS_F_VERSIONS, "t13d030200"},
	{"two host names", CS, "0000 000e 000c 00 0003 612e62 00 0003 632e64", 1, 0, "a.b",
	 TLS_F_SNI | TLS_F_SNI_MULTIPLE, NULL},
	{"other name type first", CS, "0000 000e 000c 07 0003 787878 00 0003 632e64", 1, 0, "c.d",
	 TLS_F_SNI | TLS_F_SNI_MULTIPLE, NULL},
	{"sni with a space", CS, "0000 0008 0006 00 0003 612062", 1, 0, "",
	 TLS_F_SNI | TLS_F_SNI_INVALID, "t12d030100"},
	{"sni empty label", CS, "0000 0009 0007 00 0004 612e2e62", 1, 0, "",
	 TLS_F_SNI_INVALID, NULL},
	{"sni trailing dot", CS, "0000 0009 0007 00 0004 612e622e", 1, 0, "a.b.", TLS_F_SNI, NULL},
	{"sni two trailing dots", CS, "0000 000a 0008 00 0005 612e622e2e", 1, 0, "",
	 TLS_F_SNI_INVALID, NULL},
	{"sni only a dot", CS, "0000 0006 0004 00 0001 2e", 1, 0, "", TLS_F_SNI_INVALID, NULL},
	{"sni NUL", CS, "0000 0008 0006 00 0003 610062", 1, 0, "", TLS_F_SNI_INVALID, NULL},
	{"ech outer", CS, SNI_AB SV13 "fe0d 0004 00 0001 00", 1, 0, "a.b",
	 TLS_F_SNI | TLS_F_ECH, "t13d030300"},
	{"grease everywhere", "0a0a " CS " fafa",
	 "1a1a 0000 " SNI_AB "002b 0005 04 2a2a 0304 " "000d 0006 0004 0a0a 0403 " "4a4a 0001 00",
	 1, 0, "a.b", TLS_F_GREASE, "t13d030300"},
	{"early data", CS, SNI_AB "002a 0000", 1, 0, "a.b", TLS_F_EARLY_DATA, NULL},
	{"alpn h2", CS, "0010 0005 0003 026832", 1, 0, "", TLS_F_ALPN, "t12i0301h2"},
	{"alpn empty list", CS, "0010 0002 0000", TLS_INVALID, TLS_ERR_BAD_EXTENSION, NULL, 0, NULL},
	{"alpn empty protocol", CS, "0010 0003 0001 00", TLS_INVALID, TLS_ERR_BAD_EXTENSION, NULL, 0,
	 NULL},
	{"alpn list too long", CS, "0010 0005 0004 026832", TLS_INVALID, TLS_ERR_BAD_EXTENSION, NULL,
	 0, NULL},
	{"sni list short", CS, "0000 0008 0005 00 0003 612e62", TLS_INVALID, TLS_ERR_BAD_EXTENSION,
	 NULL, 0, NULL},
	{"sni name overruns", CS, "0000 0008 0006 00 0004 612e62", TLS_INVALID,
	 TLS_ERR_BAD_EXTENSION, NULL, 0, NULL},
	{"sni empty list", CS, "0000 0002 0000", TLS_INVALID, TLS_ERR_BAD_EXTENSION, NULL, 0, NULL},
	{"versions odd", CS, "002b 0004 03 030403", TLS_INVALID, TLS_ERR_BAD_EXTENSION, NULL, 0,
	 NULL},
	{"sigalgs odd", CS, "000d 0005 0003 040305", TLS_INVALID, TLS_ERR_BAD_EXTENSION, NULL, 0,
	 NULL},
	{"duplicate extension", CS, SNI_AB "0017 0000 0017 0000", TLS_INVALID,
	 TLS_ERR_DUP_EXTENSION, NULL, 0, NULL},
	{"duplicate sni", CS, SNI_AB SNI_AB, TLS_INVALID, TLS_ERR_DUP_EXTENSION, NULL, 0, NULL},
	{"extension overruns", CS, "0017 0004 00", TLS_INVALID, TLS_ERR_BAD_EXTENSION, NULL, 0, NULL},
	{"extensions block short", CS, "0017", TLS_INVALID, TLS_ERR_BAD_EXTENSION, NULL, 0, NULL},
	{"odd cipher bytes", "1301 13", "", TLS_INVALID, TLS_ERR_BAD_HELLO, NULL, 0, NULL},
	{"no cipher suites", "", "", TLS_INVALID, TLS_ERR_BAD_HELLO, NULL, 0, NULL},
};
/* clang-format on */

START_TEST(built_hellos)
{
	const struct built *b = &builts[_i];
	uint8_t buf[4096];
	char sum[512];
	struct tls_hello h;
	size_t len = mk_hello(buf, b->ciphers, b->exts);
	int rc = read_all_ways(buf, len, CAP, sum, sizeof(sum));

	if (b->rc > 0) {
		ck_assert_msg(rc == (int)len, "%s: %s", b->name, sum);
		read_runs(&h, buf, len, 0, 0, CAP);
		ck_assert_str_eq(h.sni, b->sni);
		ck_assert_msg((h.flags & b->flags) == b->flags, "%s: flags %x", b->name, h.flags);
		if (b->ja4a)
			ck_assert_msg(strncmp(h.ja4, b->ja4a, 10) == 0, "%s: %s", b->name, h.ja4);
	} else {
		ck_assert_msg(rc == b->rc, "%s: %s", b->name, sum);
		read_runs(&h, buf, len, 0, 0, CAP);
		ck_assert_msg(h.error == b->error, "%s: %s", b->name, sum);
	}
}
END_TEST

/* Raw inputs that are not a ClientHello (or not yet one). */
struct raw {
	const char *hex;
	int rc;
	enum tls_error error;
};

/* clang-format off */
static const struct raw raws[] = {
	{"", TLS_NEED_MORE, 0},
	{"16", TLS_NEED_MORE, 0},
	{"1603", TLS_NEED_MORE, 0},
	{"16030100", TLS_NEED_MORE, 0},
	{"160301000501", TLS_NEED_MORE, 0},
	{"47455420", TLS_INVALID, TLS_ERR_NOT_HANDSHAKE},			/* "GET " */
	{"170303", TLS_INVALID, TLS_ERR_NOT_HANDSHAKE},			/* application data */
	{"8080", TLS_NEED_MORE, 0},
	{"802e0103010015", TLS_INVALID, TLS_ERR_SSLV2},			/* SSLv2-compatible */
	{"802e02", TLS_INVALID, TLS_ERR_NOT_HANDSHAKE},
	{"1602", TLS_INVALID, TLS_ERR_BAD_RECORD},
	{"1603010000", TLS_INVALID, TLS_ERR_BAD_RECORD},			/* empty record */
	{"1603014001", TLS_INVALID, TLS_ERR_BAD_RECORD},			/* > 2^14 */
	{"1603010005ffffffffff", TLS_INVALID, TLS_ERR_NOT_CLIENT_HELLO},	/* garbage */
	{"16030100050200000100", TLS_INVALID, TLS_ERR_NOT_CLIENT_HELLO},	/* ServerHello */
	{"1603010004 01000000", TLS_INVALID, TLS_ERR_BAD_HELLO},		/* empty hello */
	{"1603010004 01ffffff", TLS_INVALID, TLS_ERR_TOO_LARGE},		/* 16 MiB declared */
	{"1603010004 01000040", TLS_NEED_MORE, 0},		/* continues */
	{"1603010006 010000010000", TLS_INVALID, TLS_ERR_TRAILING},	/* 6 bytes, hello 5 */
	{"1603010002 0100 1603010002 0000", TLS_INVALID, TLS_ERR_BAD_HELLO},	/* header split */
	{"1603010002 0100 1503010002 0000", TLS_INVALID, TLS_ERR_RECORD_TYPE},
	{"1603010002 0100 1604", TLS_INVALID, TLS_ERR_BAD_RECORD},
	{"1603010006 010000300303 1703030002 0000", TLS_INVALID, TLS_ERR_RECORD_TYPE},
	{"1603010006 010000300303 16030300", TLS_NEED_MORE, 0},
};
/* clang-format on */

START_TEST(raw_inputs)
{
	const struct raw *r = &raws[_i];
	uint8_t buf[256];
	char sum[512];
	struct tls_hello h;
	size_t len = unhex(r->hex, buf);
	int rc = read_all_ways(buf, len, CAP, sum, sizeof(sum));

	ck_assert_msg(rc == r->rc, "%s: %s", r->hex, sum);
	read_runs(&h, buf, len, 0, 0, CAP);
	if (rc == TLS_INVALID)
		ck_assert_msg(h.error == r->error, "%s: %s", r->hex, sum);
	if (rc == TLS_NEED_MORE) {
		ck_assert_int_eq(tls_hello_eof(&h), TLS_INVALID);
		ck_assert_int_eq(h.error, TLS_ERR_TRUNCATED);
	}
	/* the verdict stays */
	ck_assert_int_eq(tls_hello_parse(&h, buf, len), rc == TLS_NEED_MORE ? TLS_INVALID : rc);
}
END_TEST

/* A hello split over two records, then one in 1-byte records that the cap
 * allows only in part: TOO_LARGE when the next header cannot fit. */
START_TEST(records_and_cap)
{
	uint8_t buf[4096], re[32768];
	struct tls_hello h;
	size_t len = mk_hello(buf, CS, SNI_AB SV13), rlen;
	char sum[512];

	rlen = reframe(buf, len, (len - 5) / 2, re);
	ck_assert_int_eq(read_all_ways(re, rlen, CAP, sum, sizeof(sum)), (int)rlen);
	read_runs(&h, re, rlen, 0, 0, CAP);
	ck_assert_uint_ge(h.n_records, 2);
	ck_assert_str_eq(h.sni, "a.b");
	rlen = reframe(buf, len, 1, re);
	ck_assert_int_eq(read_runs(&h, re, rlen, 0, 0, (uint32_t)rlen), (int)rlen);
	ck_assert_int_eq(read_runs(&h, re, rlen, 0, 0, (uint32_t)rlen - 1), TLS_INVALID);
	ck_assert_int_eq(h.error, TLS_ERR_TOO_LARGE);
	/* the declared length decides as soon as the handshake header is here */
	ck_assert_int_eq(read_runs(&h, buf, 9, 0, 0, (uint32_t)len - 1), TLS_INVALID);
	ck_assert_int_eq(h.error, TLS_ERR_TOO_LARGE);
	/* a record with more than the hello */
	memcpy(re, buf, len);
	re[len] = 0;
	put16(re + 3, len - 5 + 1);
	ck_assert_int_eq(read_runs(&h, re, len + 1, 0, 0, CAP), TLS_INVALID);
	ck_assert_int_eq(h.error, TLS_ERR_TRAILING);
}
END_TEST

START_TEST(too_many)
{
	static char ciphers[5 * 1100 + 1];
	static uint8_t buf[8192];
	struct tls_hello h;
	size_t i, len;

	for (i = 0; i < 1100; i++)
		snprintf(ciphers + 5 * i, 6, "%04zx ", i + 1);
	len = mk_hello(buf, ciphers, "");
	ck_assert_int_eq(read_runs(&h, buf, len, 0, 0, CAP), TLS_INVALID);
	ck_assert_int_eq(h.error, TLS_ERR_TOO_MANY);
	ciphers[5 * 1000] = '\0';
	len = mk_hello(buf, ciphers, "");
	ck_assert_int_eq(read_runs(&h, buf, len, 0, 0, CAP), (int)len);
	ck_assert_uint_eq(h.n_ciphers, 1000);
	ck_assert_int_eq(strncmp(h.ja4, "t12i990000_", 11), 0);
}
END_TEST

START_TEST(alpn_kept)
{
	uint8_t buf[4096];
	struct tls_hello h;
	/* six protocols: a, bb, ccc, dddd, e, f */
	size_t len = mk_hello(buf, CS, "0010 0014 0012 0161 026262 03636363 0464646464 0165 0166");

	ck_assert_int_eq(read_runs(&h, buf, len, 0, 0, CAP), (int)len);
	ck_assert_uint_eq(h.n_alpn, 6);
	ck_assert_uint_eq(h.n_alpn_kept, TLS_ALPN_KEEP);
	ck_assert(h.flags & TLS_F_ALPN_TRUNC);
	ck_assert_int_eq(memcmp(h.alpn_buf + h.alpn[3].off, "dddd", 4), 0);
	ck_assert_uint_eq(h.alpn[3].len, 4);
}
END_TEST

/* JA4's ALPN characters: the examples of technical_details/JA4.md. */
START_TEST(ja4_alpn_examples)
{
	static const struct {
		const char *proto, *want;
	} ex[] = {
		{"026832", "h2"},     {"08687474702f312e31", "h1"},
		{"01ab", "ab"},	      {"0120", "20"},
		{"02abcd", "ad"},     {"022061", "21"},
		{"0230ab", "3b"},     {"026120", "60"},
		{"043031abcd", "3d"}, {"0430abcd31", "01"},
		{"0161", "aa"},
	};
	uint8_t buf[4096];
	char ext[128];
	struct tls_hello h;
	size_t i, len, n;

	for (i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		n = strlen(ex[i].proto) / 2;
		snprintf(ext, sizeof(ext), "0010 %04zx %04zx %s", n + 2, n, ex[i].proto);
		len = mk_hello(buf, CS, ext);
		ck_assert_int_eq(read_runs(&h, buf, len, 0, 0, CAP), (int)len);
		ck_assert_msg(strncmp(h.ja4 + 8, ex[i].want, 2) == 0, "%s: %s", ex[i].proto, h.ja4);
	}
}
END_TEST

/* The worked example of technical_details/JA4.md: its cipher suites, its
 * extensions in the order of its "original" raw output, its signature
 * algorithms; then the same without signature algorithms (a list of GREASE
 * only), whose hash the document also gives. */
#define DOC_CIPHERS "1301 1302 1303 c02b c02f c02c c030 cca9 cca8 c013 c014 009c 009d 002f 0035"
#define DOC_EXTS_A  "001b 0000 0000 0008 0006 00 0003 612e62 0033 0000 0010 0005 0003 026832 "
#define DOC_EXTS_B  "4469 0000 0017 0000 002d 0000 "
#define DOC_EXTS_C \
	"0005 0000 0023 0000 0012 0000 002b 0003 02 0304 ff01 0000 000b 0000 000a 0000 0015 0000"
#define DOC_SIGALGS "000d 0012 0010 0403 0804 0401 0503 0805 0501 0806 0601 "

START_TEST(ja4_doc_example)
{
	uint8_t buf[4096];
	struct tls_hello h;
	size_t len;

	len = mk_hello(buf, DOC_CIPHERS, DOC_EXTS_A DOC_EXTS_B DOC_SIGALGS DOC_EXTS_C);
	ck_assert_int_eq(read_runs(&h, buf, len, 0, 0, CAP), (int)len);
	ck_assert_str_eq(h.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
	len = mk_hello(buf, DOC_CIPHERS, DOC_EXTS_A DOC_EXTS_B "000d 0004 0002 0a0a " DOC_EXTS_C);
	ck_assert_int_eq(read_runs(&h, buf, len, 0, 0, CAP), (int)len);
	ck_assert_str_eq(h.ja4, "t13d1516h2_8daaf6152771_6d807ffa2a79");
}
END_TEST

/* The longest DNS name (253 bytes) is taken with its trailing dot too (254
 * bytes as sent): servers drop the dot and serve the name, so a reader that
 * blanked it would hide the name from [acl] deny_domains. One byte more, or a
 * second dot, is not a name. */
static size_t mk_sni_hello(uint8_t *out, const char *name)
{
	char exts[1200];
	size_t n = strlen(name), i, k;

	k = (size_t)snprintf(exts, sizeof(exts), "0000 %04zx %04zx 00 %04zx ", n + 5, n + 3, n);
	for (i = 0; i < n; i++)
		k += (size_t)snprintf(exts + k, sizeof(exts) - k, "%02x", (unsigned char)name[i]);
	return mk_hello(out, CS, exts);
}

START_TEST(sni_longest_name)
{
	char name[260];
	uint8_t buf[1024];
	struct tls_hello h;
	size_t len;

	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 bytes */
	memset(name, 'a', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	len = mk_sni_hello(buf, name);
	ck_assert_int_eq(read_runs(&h, buf, len, 0, 0, CAP), (int)len);
	ck_assert_str_eq(h.sni, name);
	ck_assert_uint_eq(h.sni_len, 253);

	strcpy(name + 253, ".");
	len = mk_sni_hello(buf, name);
	ck_assert_int_eq(read_runs(&h, buf, len, 0, 0, CAP), (int)len);
	ck_assert_msg(!(h.flags & TLS_F_SNI_INVALID), "a 253-byte name and its dot is a name");
	ck_assert_str_eq(h.sni, name);
	ck_assert_uint_eq(h.sni_len, 254);

	strcpy(name + 253, "..");
	len = mk_sni_hello(buf, name);
	ck_assert_int_eq(read_runs(&h, buf, len, 0, 0, CAP), (int)len);
	ck_assert(h.flags & TLS_F_SNI_INVALID);
	ck_assert_str_eq(h.sni, "");

	strcpy(name + 253, "a");
	len = mk_sni_hello(buf, name);
	ck_assert_int_eq(read_runs(&h, buf, len, 0, 0, CAP), (int)len);
	ck_assert(h.flags & TLS_F_SNI_INVALID);
	ck_assert_str_eq(h.sni, "");
}
END_TEST

/* ---- after the hello: the client's records that pass, the server's first
 * message (HelloRetryRequest or not) ---- */

#define HRR_RANDOM "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"
#define SH_HEAD(r) "02000046 0303 " r /* ServerHello: header, legacy_version, random */

struct srv_case {
	const char *hex;
	int rc;
};

/* clang-format off */
static const struct srv_case srv_cases[] = {
	{"160303004a " SH_HEAD(HRR_RANDOM) " 00", 1},			 /* HelloRetryRequest */
	{"160303004a " SH_HEAD("00000000000000000000000000000000000000000000000000000000000000ff"), 0},
	{"1603030010 " SH_HEAD("cf21ad74e59a6111be1d") " 1603030016 "
	 "8c021e65b891c2a211167abb8c5e079e09e2c8a8339c", 1},		 /* over 2 records */
	{"1603030010 " SH_HEAD("cf21ad74e59a6111be1d"), TLS_NEED_MORE},
	{"15030300020228", 0},					 /* an alert */
	{"160303000402000000", 0},					 /* an empty ServerHello */
	{"1603030004 0b000000", 0},					 /* not a ServerHello */
	{"485454502f312e31", 0},					 /* "HTTP/1.1" */
	{"1604", 0},							 /* not TLS */
	/* not TLS, whole records in one piece: the same answer as byte by byte */
	{"1648010002 0202", 0},
	{"1648010000", 0},
	{"1603030000 1648010002 0202", 0},
	{"", TLS_NEED_MORE},
};
/* clang-format on */

START_TEST(flight_server)
{
	const struct srv_case *sc = &srv_cases[_i];
	uint8_t buf[512];
	struct tls_flight f;
	size_t len = unhex(sc->hex, buf), i;
	int rc = TLS_NEED_MORE;

	tls_flight_init(&f);
	ck_assert_int_eq(tls_flight_server(&f, buf, len), sc->rc);
	tls_flight_init(&f); /* byte by byte: the same */
	for (i = 0; i < len; i++)
		rc = tls_flight_server(&f, buf + i, 1);
	ck_assert_msg(rc == sc->rc, "%s: byte by byte %d", sc->hex, rc);
}
END_TEST

struct cli_case {
	const char *hex;
	size_t pass; /* bytes that may go on */
	int held;
};

/* clang-format off */
static const struct cli_case cli_cases[] = {
	{"140303000101", 6, 0},					/* change_cipher_spec */
	{"140303000101 1603010004 01000000", 6, 1},		/* then a handshake record */
	{"1703030003 aabbcc 1703030000 1503030002 0100 16", 20, 1}, /* 0-RTT, alert, hello */
	{"17030300", 4, 0},						/* a header in pieces */
	{"ff", 0, 1},						/* not a record: held */
	{"1703030001 16 1803", 6, 1},				/* a 0x16 body byte passes */
};
/* clang-format on */

START_TEST(flight_client)
{
	const struct cli_case *cc = &cli_cases[_i];
	uint8_t buf[512];
	struct tls_flight f;
	size_t len = unhex(cc->hex, buf), i, pass = 0;

	tls_flight_init(&f);
	ck_assert_uint_eq(tls_flight_client(&f, buf, len), cc->pass);
	ck_assert_int_eq(f.held, cc->held);
	ck_assert_uint_eq(tls_flight_client(&f, buf, len), cc->held ? 0 : len);
	tls_flight_init(&f); /* byte by byte: the same */
	for (i = 0; i < len && !f.held; i++)
		pass += tls_flight_client(&f, buf + i, 1);
	ck_assert_uint_eq(pass, cc->pass);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(tls_error_name(TLS_ERR_SSLV2), "sslv2");
	ck_assert_str_eq(tls_error_str(TLS_ERR_TOO_LARGE), "ClientHello records exceed the cap");
	ck_assert_str_eq(tls_error_name(TLS_ERR_MAX), "unknown");
	ck_assert_str_eq(tls_version_str(0x0304), "TLSv1.3");
	ck_assert(tls_is_grease(0x0a0a) && tls_is_grease(0xfafa) && !tls_is_grease(0x0a1a));
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

int main(void)
{
	Suite *s = suite_create("tls_hello");
	TCase *tc = tcase_create("reader");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, fixture_reads, 0, N(fixtures));
	tcase_add_loop_test(tc, built_hellos, 0, N(builts));
	tcase_add_loop_test(tc, raw_inputs, 0, N(raws));
	tcase_add_test(tc, records_and_cap);
	tcase_add_test(tc, too_many);
	tcase_add_test(tc, alpn_kept);
	tcase_add_test(tc, ja4_alpn_examples);
	tcase_add_test(tc, ja4_doc_example);
	tcase_add_test(tc, sni_longest_name);
	tcase_add_test(tc, names);
	tcase_add_loop_test(tc, flight_server, 0, N(srv_cases));
	tcase_add_loop_test(tc, flight_client, 0, N(cli_cases));
	suite_add_tcase(s, tc);
	return unit_run(s);
}

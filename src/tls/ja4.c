/*
 * ja4.c — the JA4 TLS client fingerprint, written from FoxIO's description
 * (github.com/FoxIO-LLC/ja4, technical_details/JA4.md; docs/tls.md):
 *
 *   t VV S CC EE AA _ hash12(sorted ciphers) _ hash12(sorted extensions
 *   without SNI and ALPN [ "_" signature algorithms as sent ])
 *
 * GREASE values are already left out by the caller.
 */
#include <stdlib.h>
#include <string.h>

#include "tls.h"
#include "tls_int.h"

static const char hexd[] = "0123456789abcdef";

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static const char *version_code(uint16_t v)
{
	switch (v) {
	case 0x0304:
		return "13";
	case 0x0303:
		return "12";
	case 0x0302:
		return "11";
	case 0x0301:
		return "10";
	case 0x0300:
		return "s3";
	case 0x0002:
		return "s2";
	case 0xfeff:
		return "d1";
	case 0xfefd:
		return "d2";
	case 0xfefc:
		return "d3";
	default:
		return "00";
	}
}

/* Hashes v[0..n) as "xxxx,xxxx,..." (skipping the values skip1, skip2),
 * separated from what came before by sep when anything came before. Returns
 * how many values were hashed. */
static size_t hash_list(struct sha256 *s, const uint16_t *v, size_t n, int skip, char sep)
{
	size_t i, done = 0;
	char item[5];

	for (i = 0; i < n; i++) {
		if (skip && (v[i] == 0x0000 || v[i] == 0x0010))
			continue;
		item[0] = done ? ',' : sep;
		item[1] = hexd[v[i] >> 12];
		item[2] = hexd[(v[i] >> 8) & 15];
		item[3] = hexd[(v[i] >> 4) & 15];
		item[4] = hexd[v[i] & 15];
		if (item[0])
			sha256_update(s, item, 5);
		else
			sha256_update(s, item + 1, 4);
		done++;
	}
	return done;
}

/* First 12 hex digits of the digest, or "000000000000" when nothing was
 * hashed. */
static void put_hash12(char *out, struct sha256 *s, size_t hashed)
{
	uint8_t d[32];
	int i;

	if (!hashed) {
		memset(out, '0', 12);
		return;
	}
	sha256_final(s, d);
	for (i = 0; i < 6; i++) {
		out[2 * i] = hexd[d[i] >> 4];
		out[2 * i + 1] = hexd[d[i] & 15];
	}
}

static int is_alnum(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* The ALPN part: first and last character of the first protocol; its hex
 * form's first and last digit if either byte is not alphanumeric. */
static void put_alpn(char *out, const struct ja4_input *in)
{
	if (!in->alpn_len) {
		out[0] = out[1] = '0';
	} else if (is_alnum(in->alpn_first) && is_alnum(in->alpn_last)) {
		out[0] = (char)in->alpn_first;
		out[1] = (char)in->alpn_last;
	} else {
		out[0] = hexd[in->alpn_first >> 4];
		out[1] = hexd[in->alpn_last & 15];
	}
}

static void put_count(char *out, size_t n)
{
	if (n > 99)
		n = 99;
	out[0] = (char)('0' + n / 10);
	out[1] = (char)('0' + n % 10);
}

void ja4_format(char *out, const struct ja4_input *in)
{
	struct sha256 s;
	size_t n;

	out[0] = 't';
	memcpy(out + 1, version_code(in->version), 2);
	out[3] = in->has_sni ? 'd' : 'i';
	put_count(out + 4, in->n_ciphers);
	put_count(out + 6, in->n_exts);
	put_alpn(out + 8, in);
	out[10] = '_';
	qsort(in->ciphers, in->n_ciphers, sizeof(in->ciphers[0]), cmp_u16);
	sha256_init(&s);
	n = hash_list(&s, in->ciphers, in->n_ciphers, 0, 0);
	put_hash12(out + 11, &s, n);
	out[23] = '_';
	sha256_init(&s);
	n = hash_list(&s, in->exts, in->n_exts, 1, 0);
	if (n)
		hash_list(&s, in->sigalgs, in->n_sigalgs, 0, '_');
	put_hash12(out + 24, &s, n);
	out[TLS_JA4_LEN] = '\0';
}

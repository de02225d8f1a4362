/*
 * clienthello.c — the ClientHello reader (tls.h, docs/tls.md).
 *
 * Two stages. The record walk runs at every call: it validates each record
 * header as it arrives (type 22, version 3.x, 1..2^14 bytes), collects the
 * 4-byte handshake header from the first fragment bytes, and stops with a
 * verdict as soon as the bytes so far decide one (not TLS, too large, ...).
 * Once the records hold the whole message, the body is parsed once, in
 * place, by a cursor that steps over the record headers between fragments
 * (struct rd): nothing is copied but the few results.
 */
#include <stdlib.h>
#include <string.h>

#include "tls.h"
#include "tls_int.h"

#define REC_HDR		5
#define REC_MAX		16384 /* 2^14: the largest plaintext fragment */
#define HS_HDR		4
#define HS_CLIENT_HELLO 1

#define EXT_SERVER_NAME	  0x0000
#define EXT_SIG_ALGS	  0x000d
#define EXT_ALPN	  0x0010
#define EXT_EARLY_DATA	  0x002a
#define EXT_SUPP_VERSIONS 0x002b
#define EXT_ECH		  0xfe0d

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int tls_is_grease(uint16_t v)
{
	return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

/* ---- the cursor over a handshake message split into record fragments ---- */

struct rd {
	const uint8_t *buf;
	uint32_t pos;	   /* next byte */
	uint32_t frag_end; /* end of the current fragment */
	uint32_t end;	   /* end of the last record: never read at or past it */
	uint32_t left;	   /* bytes this reader may still read */
};

/* Steps to the next fragment when the current one is used up. The walk
 * validated every record up to end, so the headers are trusted; the end
 * check only guards against a bug. */
static int rd_frag(struct rd *r)
{
	if (r->pos < r->frag_end)
		return 0;
	if (r->frag_end + REC_HDR >= r->end)
		return -1;
	r->pos = r->frag_end + REC_HDR;
	r->frag_end = r->pos + be16(r->buf + r->frag_end + 3);
	return 0;
}

static int rd_u8(struct rd *r, uint32_t *v)
{
	if (!r->left || rd_frag(r))
		return -1;
	*v = r->buf[r->pos++];
	r->left--;
	return 0;
}

static int rd_u16(struct rd *r, uint32_t *v)
{
	uint32_t a, b;

	if (rd_u8(r, &a) || rd_u8(r, &b))
		return -1;
	*v = a << 8 | b;
	return 0;
}

static int rd_skip(struct rd *r, uint32_t n)
{
	uint32_t step;

	if (n > r->left)
		return -1;
	while (n) {
		if (rd_frag(r))
			return -1;
		step = r->frag_end - r->pos < n ? r->frag_end - r->pos : n;
		r->pos += step;
		r->left -= step;
		n -= step;
	}
	return 0;
}

/* sub reads the next n bytes of r; r moves past them. */
static int rd_sub(struct rd *r, struct rd *sub, uint32_t n)
{
	if (n > r->left)
		return -1;
	*sub = *r;
	sub->left = n;
	return rd_skip(r, n);
}

/* A vector with a 1- or 2-byte length that must fill what r has left. */
static int rd_vec_fills(struct rd *r, int len_bytes, uint32_t min)
{
	uint32_t n;

	if ((len_bytes == 1 ? rd_u8(r, &n) : rd_u16(r, &n)) || n != r->left || n < min)
		return -1;
	return 0;
}

/* ---- extensions ---- */

struct scratch {
	uint16_t ciphers[TLS_MAX_CIPHERS];
	uint16_t exts[TLS_MAX_EXTENSIONS];
	uint16_t sigalgs[TLS_MAX_SIGALGS];
	size_t n_sigalgs;
	uint8_t alpn_len, alpn_first, alpn_last;
	uint16_t max_version;
};

/* A DNS host name: letters, digits, '-', '_', labels of 1..63 bytes. RFC
 * 6066 3 forbids a trailing dot, but servers drop it and serve the name, so
 * one is taken (and kept: the log shows what was sent; the domain lists and
 * the resolver read "a.example." as "a.example"): refusing it would hide the
 * name from [acl] deny_domains. */
static int host_is_valid(const char *s, size_t n)
{
	size_t i, label = 0;
	char c;

	if (n > 1 && s[n - 1] == '.' && s[n - 2] != '.')
		n--;
	if (!n || n > TLS_SNI_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		c = s[i];
		if (c == '.') {
			if (!label)
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return 0;
		if (++label > 63)
			return 0;
	}
	return label != 0;
}

static int ext_server_name(struct tls_hello *h, struct rd *r)
{
	uint32_t type, n, c, i;
	int seen_host = 0;

	if (rd_vec_fills(r, 2, 1))
		return -1;
	while (r->left) {
		if (rd_u8(r, &type) || rd_u16(r, &n) || !n || n > r->left)
			return -1;
		if (h->n_names < UINT8_MAX)
			h->n_names++;
		/* the first host_name entry is the name; any other is noted (the
		 * longest name may come with its trailing dot: host_is_valid) */
		if (type != 0 || seen_host++ || n > TLS_SNI_MAX + 1) {
			if (type == 0 && seen_host == 1)
				h->flags |= TLS_F_SNI_INVALID; /* too long for a DNS name */
			if (rd_skip(r, n))
				return -1;
			continue;
		}
		for (i = 0; i < n; i++) {
			if (rd_u8(r, &c))
				return -1;
			h->sni[i] = (char)c;
		}
		h->sni[n] = '\0';
		h->sni_len = (uint16_t)n;
		if (!host_is_valid(h->sni, n)) {
			h->flags |= TLS_F_SNI_INVALID;
			h->sni[0] = '\0';
			h->sni_len = 0;
		}
	}
	if (h->n_names > 1)
		h->flags |= TLS_F_SNI_MULTIPLE;
	return 0;
}

static int ext_alpn(struct tls_hello *h, struct scratch *sc, struct rd *r)
{
	uint32_t n, c, i, used = 0;

	if (rd_vec_fills(r, 2, 2))
		return -1;
	while (r->left) {
		if (rd_u8(r, &n) || !n || n > r->left)
			return -1;
		if (h->n_alpn < UINT16_MAX)
			h->n_alpn++;
		if (h->n_alpn_kept == TLS_ALPN_KEEP || used + n > TLS_ALPN_BUF) {
			h->flags |= TLS_F_ALPN_TRUNC;
			if (h->n_alpn == 1) { /* JA4 wants its ends; n > 64 here */
				sc->alpn_len = (uint8_t)n;
				if (rd_u8(r, &c))
					return -1;
				sc->alpn_first = (uint8_t)c;
				if (rd_skip(r, n - 2) || rd_u8(r, &c))
					return -1;
				sc->alpn_last = (uint8_t)c;
			} else if (rd_skip(r, n)) {
				return -1;
			}
			continue;
		}
		h->alpn[h->n_alpn_kept].off = (uint8_t)used;
		h->alpn[h->n_alpn_kept++].len = (uint8_t)n;
		for (i = 0; i < n; i++) {
			if (rd_u8(r, &c))
				return -1;
			h->alpn_buf[used++] = (char)c;
		}
		if (h->n_alpn == 1) {
			sc->alpn_len = (uint8_t)n;
			sc->alpn_first = (uint8_t)h->alpn_buf[0];
			sc->alpn_last = (uint8_t)h->alpn_buf[n - 1];
		}
	}
	return 0;
}

static int ext_versions(struct tls_hello *h, struct scratch *sc, struct rd *r)
{
	uint32_t v;

	if (rd_vec_fills(r, 1, 2) || r->left % 2)
		return -1;
	h->flags |= TLS_F_VERSIONS;
	while (r->left) {
		if (rd_u16(r, &v))
			return -1;
		if (tls_is_grease((uint16_t)v)) {
			h->flags |= TLS_F_GREASE;
			continue;
		}
		if (v > sc->max_version)
			sc->max_version = (uint16_t)v;
		if (h->n_versions < TLS_VERSIONS_KEEP)
			h->versions[h->n_versions++] = (uint16_t)v;
		else
			h->flags |= TLS_F_VERSIONS_TRUNC;
	}
	return 0;
}

/* Reads bytes / 2 values of a uint16 list into out[*n..max), GREASE noted
 * and skipped; more than max values: TLS_ERR_TOO_MANY. 0, or -1. */
static int read_u16s(struct tls_hello *h, struct rd *r, uint32_t bytes, uint16_t *out, size_t *n,
		     size_t max)
{
	uint32_t v;

	for (; bytes >= 2; bytes -= 2) {
		if (rd_u16(r, &v))
			return -1;
		if (tls_is_grease((uint16_t)v)) {
			h->flags |= TLS_F_GREASE;
			continue;
		}
		if (*n == max) {
			h->error = TLS_ERR_TOO_MANY;
			return -1;
		}
		out[(*n)++] = (uint16_t)v;
	}
	return 0;
}

static int ext_sigalgs(struct tls_hello *h, struct scratch *sc, struct rd *r)
{
	if (rd_vec_fills(r, 2, 2) || r->left % 2)
		return -1;
	return read_u16s(h, r, r->left, sc->sigalgs, &sc->n_sigalgs, TLS_MAX_SIGALGS);
}

/* One extension of type type whose data sub holds; sets h->error on failure
 * (BAD_EXTENSION unless more precise). */
static int extension(struct tls_hello *h, struct scratch *sc, uint32_t type, struct rd *sub)
{
	int rc = 0;

	switch (type) {
	case EXT_SERVER_NAME:
		h->flags |= TLS_F_SNI;
		rc = ext_server_name(h, sub);
		break;
	case EXT_ALPN:
		h->flags |= TLS_F_ALPN;
		rc = ext_alpn(h, sc, sub);
		break;
	case EXT_SUPP_VERSIONS:
		rc = ext_versions(h, sc, sub);
		break;
	case EXT_SIG_ALGS:
		rc = ext_sigalgs(h, sc, sub);
		break;
	case EXT_ECH:
		h->flags |= TLS_F_ECH;
		break;
	case EXT_EARLY_DATA:
		h->flags |= TLS_F_EARLY_DATA;
		break;
	}
	if (rc && h->error == TLS_ERR_NONE)
		h->error = TLS_ERR_BAD_EXTENSION;
	return rc;
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* The extensions block: r holds exactly the extensions. */
static int extensions(struct tls_hello *h, struct scratch *sc, struct rd *r)
{
	uint32_t type, n, i;
	struct rd sub;

	while (r->left) {
		if (rd_u16(r, &type) || rd_u16(r, &n) || rd_sub(r, &sub, n)) {
			h->error = TLS_ERR_BAD_EXTENSION;
			return -1;
		}
		if (tls_is_grease((uint16_t)type)) {
			h->flags |= TLS_F_GREASE;
			continue;
		}
		if (h->n_extensions == TLS_MAX_EXTENSIONS) {
			h->error = TLS_ERR_TOO_MANY;
			return -1;
		}
		sc->exts[h->n_extensions++] = (uint16_t)type;
		if (extension(h, sc, type, &sub))
			return -1;
		if (sub.left && (type == EXT_SERVER_NAME || type == EXT_ALPN)) {
			h->error = TLS_ERR_BAD_EXTENSION;
			return -1;
		}
	}
	qsort(sc->exts, h->n_extensions, sizeof(sc->exts[0]), cmp_u16);
	for (i = 1; i < h->n_extensions; i++) {
		if (sc->exts[i] == sc->exts[i - 1]) {
			h->error = TLS_ERR_DUP_EXTENSION;
			return -1;
		}
	}
	return 0;
}

/* legacy_version .. compression_methods; r holds the whole body. */
static int hello_fixed(struct tls_hello *h, struct scratch *sc, struct rd *r)
{
	uint32_t v, n;
	size_t ciphers;

	if (rd_u16(r, &v) || (v >> 8) != 3 || rd_skip(r, 32))
		return -1;
	h->legacy_version = (uint16_t)v;
	if (rd_u8(r, &n) || n > 32 || rd_skip(r, n))
		return -1;
	if (rd_u16(r, &n) || n < 2 || n % 2 || n > r->left)
		return -1;
	ciphers = h->n_ciphers;
	if (read_u16s(h, r, n, sc->ciphers, &ciphers, TLS_MAX_CIPHERS) < 0)
		return -1;
	h->n_ciphers = (uint16_t)ciphers;
	if (rd_u8(r, &n) || n < 1 || rd_skip(r, n))
		return -1;
	return 0;
}

/* Parses the whole message: records [0, h->records_len) of buf. */
static int hello_body(struct tls_hello *h, const uint8_t *buf)
{
	struct scratch sc;
	struct ja4_input in;
	struct rd r = {.buf = buf,
		       .pos = REC_HDR,
		       .frag_end = REC_HDR + be16(buf + 3),
		       .end = h->records_len,
		       .left = h->hello_len};

	sc.n_sigalgs = 0;
	sc.alpn_len = 0;
	sc.max_version = 0;
	if (rd_skip(&r, HS_HDR) || hello_fixed(h, &sc, &r))
		goto bad;
	if (r.left && (rd_vec_fills(&r, 2, 0) || extensions(h, &sc, &r)))
		goto bad;
	h->version = (h->flags & TLS_F_VERSIONS) ? sc.max_version : h->legacy_version;
	in = (struct ja4_input){.ciphers = sc.ciphers,
				.n_ciphers = h->n_ciphers,
				.exts = sc.exts,
				.n_exts = h->n_extensions,
				.sigalgs = sc.sigalgs,
				.n_sigalgs = sc.n_sigalgs,
				.version = h->version,
				.has_sni = (h->flags & TLS_F_SNI) != 0,
				.alpn_len = sc.alpn_len,
				.alpn_first = sc.alpn_first,
				.alpn_last = sc.alpn_last};
	ja4_format(h->ja4, &in);
	return (int)h->records_len;
bad:
	if (h->error == TLS_ERR_NONE)
		h->error = TLS_ERR_BAD_HELLO;
	return TLS_INVALID;
}

/* ---- the record walk ---- */

void tls_hello_init(struct tls_hello *h, uint32_t max_len)
{
	memset(h, 0, sizeof(*h));
	h->max_len = max_len;
}

/* Checks the first n (< REC_HDR) bytes of the record header at p: the
 * verdict they already decide, or 0. first: the hello's first record. */
static enum tls_error record_prefix(const uint8_t *p, size_t n, int first)
{
	if (n >= 1 && p[0] != 22) {
		if (!first)
			return TLS_ERR_RECORD_TYPE;
		if (!(p[0] & 0x80))
			return TLS_ERR_NOT_HANDSHAKE;
		/* SSLv2 framing: 2-byte length with the top bit, then type 1 */
		if (n < 3)
			return TLS_ERR_NONE;
		return p[2] == HS_CLIENT_HELLO ? TLS_ERR_SSLV2 : TLS_ERR_NOT_HANDSHAKE;
	}
	if (n >= 2 && p[1] != 3)
		return TLS_ERR_BAD_RECORD;
	return TLS_ERR_NONE;
}

static int fail(struct tls_hello *h, enum tls_error e)
{
	h->error = e;
	h->done = TLS_INVALID;
	return TLS_INVALID;
}

/* The handshake header is complete: its type and length. */
static enum tls_error handshake_header(struct tls_hello *h)
{
	uint32_t len = (uint32_t)h->hdr[1] << 16 | (uint32_t)h->hdr[2] << 8 | h->hdr[3];
	uint64_t least;

	if (h->hdr[0] != HS_CLIENT_HELLO)
		return TLS_ERR_NOT_CLIENT_HELLO;
	h->hello_len = HS_HDR + len;
	/* the fewest record bytes that can carry it */
	least = h->hello_len + (uint64_t)REC_HDR * ((h->hello_len + REC_MAX - 1) / REC_MAX);
	if (least > h->max_len)
		return TLS_ERR_TOO_LARGE;
	return TLS_ERR_NONE;
}

int tls_hello_parse(struct tls_hello *h, const uint8_t *buf, size_t len)
{
	enum tls_error e;
	uint32_t rlen, avail, i;
	const uint8_t *p;

	if (h->done)
		return h->done;
	if (len > h->max_len)
		len = h->max_len; /* the records must fit in the cap anyway */
	if (len < h->pos)
		return TLS_NEED_MORE; /* fewer bytes than last time: a caller bug */
	for (;;) {
		if ((uint64_t)h->pos + REC_HDR > h->max_len)
			return fail(h, TLS_ERR_TOO_LARGE);
		p = buf + h->pos;
		if (len - h->pos < REC_HDR) {
			e = record_prefix(p, len - h->pos, h->pos == 0);
			return e ? fail(h, e) : TLS_NEED_MORE;
		}
		if ((e = record_prefix(p, REC_HDR, h->pos == 0)))
			return fail(h, e);
		rlen = be16(p + 3);
		if (!rlen || rlen > REC_MAX)
			return fail(h, TLS_ERR_BAD_RECORD);
		if ((uint64_t)h->pos + REC_HDR + rlen > h->max_len)
			return fail(h, TLS_ERR_TOO_LARGE);
		if (h->pos == 0)
			h->record_version = be16(p + 1);
		avail = len - h->pos - REC_HDR < rlen ? (uint32_t)(len - h->pos - REC_HDR) : rlen;
		if (h->hs_got < HS_HDR) {
			for (i = 0; i < avail && h->hs_got + i < HS_HDR; i++)
				h->hdr[h->hs_got + i] = p[REC_HDR + i];
			if (h->hs_got + avail < HS_HDR && avail == rlen)
				goto next; /* the header continues in the next record */
			if (h->hs_got + avail < HS_HDR)
				return TLS_NEED_MORE;
			if ((e = handshake_header(h)))
				return fail(h, e);
		}
		if (h->hs_got + rlen > h->hello_len)
			return fail(h, TLS_ERR_TRAILING);
		if (avail < rlen)
			return TLS_NEED_MORE;
next:
		h->hs_got += rlen;
		h->pos += REC_HDR + rlen;
		h->n_records++;
		if (h->hs_got >= HS_HDR && h->hs_got == h->hello_len)
			break;
	}
	h->records_len = h->pos;
	h->done = hello_body(h, buf);
	return h->done;
}

int tls_hello_eof(struct tls_hello *h)
{
	return h->done ? h->done : fail(h, TLS_ERR_TRUNCATED);
}

const char *tls_error_str(enum tls_error e)
{
#define TLS_ERR_STR(name, tag, desc) [TLS_ERR_##name] = desc,
	static const char *const s[] = {TLS_ERRORS(TLS_ERR_STR)};
#undef TLS_ERR_STR
	return (unsigned)e < TLS_ERR_MAX ? s[e] : "unknown";
}

const char *tls_error_name(enum tls_error e)
{
#define TLS_ERR_NAME(name, tag, desc) [TLS_ERR_##name] = tag,
	static const char *const s[] = {TLS_ERRORS(TLS_ERR_NAME)};
#undef TLS_ERR_NAME
	return (unsigned)e < TLS_ERR_MAX ? s[e] : "unknown";
}

const char *tls_version_str(uint16_t v)
{
	switch (v) {
	case TLS_V_TLS13:
		return "TLSv1.3";
	case TLS_V_TLS12:
		return "TLSv1.2";
	case TLS_V_TLS11:
		return "TLSv1.1";
	case TLS_V_TLS10:
		return "TLSv1.0";
	case TLS_V_SSL3:
		return "SSLv3";
	default:
		return "unknown";
	}
}

/*
 * flight.c — after the ClientHello (tls.h, docs/tls.md 1.1): which of the
 * client's next bytes may go to the server while its first answer is
 * awaited, and whether that answer is a HelloRetryRequest. Both read a
 * byte stream as it arrives, each byte once, keeping a few bytes of state.
 */
#include <string.h>

#include "tls.h"

#define REC_HDR 5
#define SH_HEAD 38 /* handshake header, legacy_version, random */

#define REC_CCS	  20
#define REC_ALERT 21
#define REC_HS	  22
#define REC_APP	  23

/* RFC 8446 4.1.3: the random of a ServerHello that is a HelloRetryRequest,
 * SHA-256("HelloRetryRequest"). */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
	0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
	0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

void tls_flight_init(struct tls_flight *f)
{
	memset(f, 0, sizeof(*f));
	f->server = TLS_NEED_MORE;
}

/* Steps the record walk of one direction over p[0..n): collects each record
 * header in hdr; calls body() for the bytes of each record's body. Returns
 * the bytes consumed (less than n when body() or the header check stopped
 * it). */
static size_t walk(struct tls_rec_walk *w, const uint8_t *p, size_t n,
		   int (*header)(struct tls_rec_walk *w, void *arg),
		   size_t (*body)(struct tls_rec_walk *w, const uint8_t *p, size_t n, void *arg),
		   void *arg)
{
	size_t i = 0, k;

	while (i < n) {
		if (w->got < REC_HDR) {
			/* the type byte decides before the rest of the header, and
			 * the version's first byte after it (in any pieces) */
			w->hdr[w->got++] = p[i];
			if (w->got <= 2 && header(w, arg)) {
				w->got = 0;
				return i;
			}
			i++;
			if (w->got == REC_HDR)
				w->left = (uint32_t)w->hdr[3] << 8 | w->hdr[4];
			if (w->got == REC_HDR && w->left == 0)
				w->got = 0;
			continue;
		}
		k = body(w, p + i, w->left < n - i ? w->left : n - i, arg);
		i += k;
		w->left -= (uint32_t)k;
		if (w->left == 0)
			w->got = 0;
		if (k == 0)
			return i;
	}
	return i;
}

/* Client side: change_cipher_spec, alerts and application data (0-RTT)
 * cannot carry a ClientHello; anything else is held from its first byte. */
static int client_header(struct tls_rec_walk *w, void *arg)
{
	struct tls_flight *f = arg;

	if (w->hdr[0] == REC_CCS || w->hdr[0] == REC_ALERT || w->hdr[0] == REC_APP)
		return 0;
	f->held = 1;
	return 1;
}

static size_t pass_body(struct tls_rec_walk *w, const uint8_t *p, size_t n, void *arg)
{
	(void)w, (void)p, (void)arg;
	return n;
}

size_t tls_flight_client(struct tls_flight *f, const uint8_t *p, size_t n)
{
	if (f->held)
		return 0;
	return walk(&f->cli, p, n, client_header, pass_body, f);
}

/* Server side: the first handshake bytes, across records; any other record
 * type, or a record header that is not TLS (version 3.x), first decides
 * "not a HelloRetryRequest". */
static int server_header(struct tls_rec_walk *w, void *arg)
{
	struct tls_flight *f = arg;

	if (w->hdr[0] != REC_HS || (w->got == 2 && w->hdr[1] != 3))
		f->server = 0;
	return f->server != TLS_NEED_MORE;
}

static size_t server_body(struct tls_rec_walk *w, const uint8_t *p, size_t n, void *arg)
{
	struct tls_flight *f = arg;
	size_t want = (size_t)SH_HEAD - f->sh_got, k = want < n ? want : n;

	(void)w;
	memcpy(f->sh + f->sh_got, p, k);
	f->sh_got += (uint8_t)k;
	/* not a ServerHello (type 2), or one too short for a random */
	if (f->sh[0] != 2 || (f->sh_got >= 4 && !f->sh[1] && !f->sh[2] && f->sh[3] < SH_HEAD - 4))
		f->sh_got = 0;
	if (f->sh_got == 0 || f->sh_got == SH_HEAD) {
		/* a ServerHello (type 2) whose random is the HRR value */
		f->server = f->sh_got == SH_HEAD && memcmp(f->sh + 6, hrr_random, 32) == 0;
		return 0;
	}
	return k;
}

int tls_flight_server(struct tls_flight *f, const uint8_t *p, size_t n)
{
	if (f->server == TLS_NEED_MORE && n > 0)
		walk(&f->srv, p, n, server_header, server_body, f);
	return f->server;
}

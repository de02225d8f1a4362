/*
 * tls_dump.c — prints what the ClientHello reader (src/tls) makes of each
 * file given: one line of key=value pairs per file. Used by the
 * differential test (tests/tls_diff.sh) and by hand on captures.
 *   tls_dump [-c CAP] FILE...
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls.h"

static void print_alpn(const struct tls_hello *h)
{
	unsigned i, j;

	for (i = 0; i < h->n_alpn_kept; i++) {
		if (i)
			putchar(',');
		for (j = 0; j < h->alpn[i].len; j++) {
			unsigned char c = (unsigned char)h->alpn_buf[h->alpn[i].off + j];

			if (c > 0x20 && c < 0x7f && c != ',' && c != '%')
				putchar(c);
			else
				printf("%%%02x", c);
		}
	}
}

static int dump(const char *path, uint32_t cap)
{
	static uint8_t buf[1 << 20];
	struct tls_hello h;
	size_t len;
	unsigned i;
	FILE *f = fopen(path, "rb");
	int rc;

	if (!f) {
		perror(path);
		return -1;
	}
	len = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	tls_hello_init(&h, cap);
	rc = tls_hello_parse(&h, buf, len);
	if (rc == TLS_NEED_MORE)
		rc = tls_hello_eof(&h);
	printf("%s", path);
	if (rc < 0) {
		printf(" verdict=invalid error=%s\n", tls_error_name(h.error));
		return 0;
	}
	printf(" verdict=done len=%d records=%u sni=%s names=%u sni_invalid=%d alpn=", rc,
	       h.n_records, h.sni, h.n_names, !!(h.flags & TLS_F_SNI_INVALID));
	print_alpn(&h);
	printf(" n_alpn=%u legacy=%04x version=%04x versions=", h.n_alpn, h.legacy_version,
	       h.version);
	for (i = 0; i < h.n_versions; i++)
		printf("%s%04x", i ? "," : "", h.versions[i]);
	printf(" ciphers=%u extensions=%u ech=%d grease=%d ja4=%s\n", h.n_ciphers, h.n_extensions,
	       !!(h.flags & TLS_F_ECH), !!(h.flags & TLS_F_GREASE), h.ja4);
	return 0;
}

int main(int argc, char **argv)
{
	uint32_t cap = 16384;
	int i = 1, rc = 0;

	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		cap = (uint32_t)strtoul(argv[2], NULL, 0);
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: tls_dump [-c CAP] FILE...\n");
		return 2;
	}
	for (; i < argc; i++)
		rc |= dump(argv[i], cap) != 0;
	return rc;
}

/*
 * tls.h — the TLS room: an incremental, bounded reader of a client's first
 * flight, the ClientHello. It reads, never decrypts, never writes: pure
 * functions over caller-owned state and buffers (no sockets, no threads, no
 * logging, no global state), safe from any thread. docs/tls.md.
 *
 * The caller keeps every byte the client sent (it forwards them unchanged
 * once it has decided) and calls tls_hello_parse() with all of them after
 * each read. The reader walks the TLS records (type 22, handshake) as they
 * complete, reassembles the ClientHello across records without copying it
 * (it parses over the record boundaries), and once the message is whole
 * extracts: the server name (SNI), the ALPN protocols, the offered versions,
 * whether Encrypted Client Hello is offered, and the JA4 fingerprint.
 *
 * Bounded: the records holding the hello may not exceed the caller's cap;
 * the verdict TOO_LARGE comes as soon as the declared length says they
 * would. Never reads past buf + len, never stores input beyond the few
 * results below.
 */
#ifndef REMORA_TLS_H
#define REMORA_TLS_H

#include <stddef.h>
#include <stdint.h>

#define TLS_NEED_MORE (-2)
#define TLS_INVALID   (-1)

/* Why the bytes are not a well-formed ClientHello. X(NAME, name, description):
 * the short name is for counters and logs. */
#define TLS_ERRORS(X)                                                                           \
	X(NONE, "none", "no error")                                                             \
	X(NOT_HANDSHAKE, "not_handshake", "first record is not a TLS handshake record")         \
	X(SSLV2, "sslv2", "SSLv2-compatible ClientHello")                                       \
	X(BAD_RECORD, "bad_record", "malformed record header (version or length)")              \
	X(RECORD_TYPE, "record_type", "non-handshake record before the ClientHello ended")      \
	X(NOT_CLIENT_HELLO, "not_client_hello", "first handshake message is not a ClientHello") \
	X(TOO_LARGE, "too_large", "ClientHello records exceed the cap")                         \
	X(BAD_HELLO, "bad_hello", "malformed ClientHello (version, lengths, cipher suites)")    \
	X(BAD_EXTENSION, "bad_extension", "malformed extension")                                \
	X(DUP_EXTENSION, "dup_extension", "extension present twice")                            \
	X(TOO_MANY, "too_many",                                                                 \
	  "more cipher suites, extensions or signature algorithms than kept")                   \
	X(TRAILING, "trailing", "bytes after the ClientHello in its last record")               \
	X(TRUNCATED, "truncated", "connection ended inside the ClientHello")

#define TLS_ERR_ENUM(name, tag, desc) TLS_ERR_##name,
enum tls_error { TLS_ERRORS(TLS_ERR_ENUM) TLS_ERR_MAX };
#undef TLS_ERR_ENUM

/* Versions as on the wire. */
#define TLS_V_SSL3  0x0300u
#define TLS_V_TLS10 0x0301u
#define TLS_V_TLS11 0x0302u
#define TLS_V_TLS12 0x0303u
#define TLS_V_TLS13 0x0304u

/* Result flags (tls_hello.flags). */
#define TLS_F_SNI	     0x001u /* a server_name extension is present */
#define TLS_F_SNI_MULTIPLE   0x002u /* it lists more than one name (RFC 6066 forbids) */
#define TLS_F_SNI_INVALID    0x004u /* its host name is not a valid DNS name: sni is "" */
#define TLS_F_ALPN	     0x008u /* an ALPN extension is present */
#define TLS_F_VERSIONS	     0x010u /* a supported_versions extension is present */
#define TLS_F_ECH	     0x020u /* encrypted_client_hello (0xfe0d): sni is the outer name */
#define TLS_F_EARLY_DATA     0x040u /* early_data: 0-RTT data may follow the hello */
#define TLS_F_GREASE	     0x080u /* GREASE values seen (RFC 8701) */
#define TLS_F_ALPN_TRUNC     0x100u /* more ALPN protocols than alpn[] keeps */
#define TLS_F_VERSIONS_TRUNC 0x200u /* more versions than versions[] keeps */

#define TLS_SNI_MAX	  253 /* a DNS name without the trailing dot */
#define TLS_ALPN_KEEP	  4   /* protocols kept (all are counted) */
#define TLS_ALPN_BUF	  64  /* bytes for the kept protocols */
#define TLS_VERSIONS_KEEP 8
#define TLS_JA4_LEN	  36 /* "t13d1516h2_8daaf6152771_e5627efa2ab1" */

struct tls_alpn {
	uint8_t off; /* into tls_hello.alpn_buf */
	uint8_t len;
};

struct tls_hello {
	/* reader state (private) */
	uint32_t max_len; /* cap on the bytes of the records holding the hello */
	uint32_t pos;	  /* next record header to read */
	uint32_t hs_got;  /* handshake bytes in the records before pos */
	uint8_t hdr[4];	  /* the handshake header as it arrives */
	int done;	  /* the last return value once not NEED_MORE, else 0 */

	/* results: valid once tls_hello_parse() returned > 0 */
	uint32_t hello_len;   /* handshake message incl. its 4-byte header (when known) */
	uint32_t records_len; /* bytes of the records holding it (the return value) */
	uint32_t n_records;
	uint32_t flags;			      /* TLS_F_* */
	uint16_t record_version;	      /* of the first record */
	uint16_t legacy_version;	      /* ClientHello.legacy_version */
	uint16_t version;		      /* highest offered non-GREASE version */
	uint16_t versions[TLS_VERSIONS_KEEP]; /* supported_versions, non-GREASE, as sent */
	uint8_t n_versions;		      /* kept in versions[] */
	uint8_t n_names;		      /* server_name entries */
	uint8_t n_alpn_kept;
	uint16_t n_alpn;       /* ALPN protocols offered */
	uint16_t n_ciphers;    /* non-GREASE cipher suites */
	uint16_t n_extensions; /* non-GREASE extensions */
	uint16_t sni_len;
	/* host name as sent (with its trailing dot, if one: TLS_SNI_MAX + 1
	 * bytes), NUL-terminated, "" if none */
	char sni[TLS_SNI_MAX + 2];
	struct tls_alpn alpn[TLS_ALPN_KEEP];
	char alpn_buf[TLS_ALPN_BUF];
	char ja4[TLS_JA4_LEN + 1]; /* JA4 (TLS client), NUL-terminated */
	enum tls_error error;
};

/* Prepares h to read one ClientHello whose records may take up to max_len
 * bytes (larger: TOO_LARGE). */
void tls_hello_init(struct tls_hello *h, uint32_t max_len);

/*
 * Reads buf[0..len) — every byte the client sent so far: the same bytes as
 * at the previous call on h, plus possibly more. Returns:
 *   > 0            the ClientHello is whole and well-formed: the number of
 *                  bytes of the records that hold it (h's results are final);
 *   TLS_NEED_MORE  not yet decided (a client that closes now sent a cut-off
 *                  hello: see tls_hello_eof());
 *   TLS_INVALID    not a well-formed ClientHello: h->error says why.
 * Once the answer is not NEED_MORE it does not change (later calls return
 * it again). Never reads past buf + len; never reads more than it needs
 * (bytes after the hello's records, such as 0-RTT data, are not looked at).
 */
int tls_hello_parse(struct tls_hello *h, const uint8_t *buf, size_t len);

/* The client closed (or the caller gave up waiting): returns the verdict as
 * tls_hello_parse() would, except that NEED_MORE becomes TLS_INVALID with
 * TLS_ERR_TRUNCATED. */
int tls_hello_eof(struct tls_hello *h);

const char *tls_error_str(enum tls_error e);
/* Short name for counters and logs: "none", "not_handshake", ... */
const char *tls_error_name(enum tls_error e);
/* "TLSv1.3", "TLSv1.2", ..., "SSLv3", or "unknown". */
const char *tls_version_str(uint16_t v);
/* True for the GREASE values of RFC 8701 (0x0a0a, 0x1a1a, ... 0xfafa). */
int tls_is_grease(uint16_t v);

/*
 * After the ClientHello (flight.c). A TLS 1.3 server that wants another key
 * share answers with a HelloRetryRequest, and the client sends a second
 * ClientHello, which servers read afresh (OpenSSL and nginx take its server
 * name). While the server's first answer is awaited, tls_flight_client()
 * says which of the client's later bytes may go on: records that cannot
 * carry a ClientHello (change_cipher_spec, alert, application data: 0-RTT)
 * pass; the first other record is held from its first byte (held is set).
 * tls_flight_server() reads the server's bytes until its first handshake
 * message shows whether it is a HelloRetryRequest. Both take each byte once,
 * in order, in any pieces; neither reads past p + n.
 */
struct tls_rec_walk {
	uint8_t hdr[5]; /* the record header as it arrives */
	uint8_t got;	/* header bytes so far (5: in the body) */
	uint32_t left;	/* body bytes still to come */
};

struct tls_flight {
	struct tls_rec_walk cli, srv;
	uint8_t held;	/* the client's bytes from here on wait */
	uint8_t sh_got; /* bytes of sh */
	uint8_t sh[38]; /* the server's first handshake bytes: header, version, random */
	int server;	/* TLS_NEED_MORE, 1 HelloRetryRequest, 0 anything else */
};

void tls_flight_init(struct tls_flight *f);
/* The client's next n bytes: returns how many of them may go to the server
 * (all, or those before the first held record; 0 once held). */
size_t tls_flight_client(struct tls_flight *f, const uint8_t *p, size_t n);
/* The server's next n bytes: TLS_NEED_MORE, 1 (its first handshake message
 * is a HelloRetryRequest) or 0 (a ServerHello, an alert, not TLS); once
 * decided, the answer stays and later bytes are not looked at. */
int tls_flight_server(struct tls_flight *f, const uint8_t *p, size_t n);

#endif

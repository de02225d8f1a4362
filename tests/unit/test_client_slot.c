/*
 * test_client_slot.c — the per-client cap's table slot (acceptor.c,
 * acceptor_client_slot): a keyed hash (SipHash-2-4, checked against the
 * reference vectors), so slots depend on the per-start key; IPv6 clients
 * count per configured prefix ([limits] per_client_ipv6_prefix).
 */
#include "remora-config.h"

#include <check.h>
#include <stdio.h>

#include "acceptor.h"
#include "config.h"
#include "unit.h"

static const uint64_t key_a[2] = {0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
static const uint64_t key_b[2] = {0x1122334455667788ull, 0x99aabbccddeeff00ull};

static uint32_t slot(const uint64_t *key, const char *ip, unsigned prefix6)
{
	union ic_addr a;
	char s[64];

	snprintf(s, sizeof(s), ip[0] == '[' || !strchr(ip, ':') ? "%s:80" : "[%s]:80", ip);
	ck_assert_msg(ic_addr_parse(s, &a) == 0, "%s", s);
	return acceptor_client_slot(key, &a, prefix6);
}

/* The reference vectors (key 00..0f; inputs "", 00..0e and 00..3f). */
START_TEST(siphash_vectors)
{
	uint8_t in[64];
	size_t i;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	ck_assert_uint_eq(acceptor_siphash(in, 0, key_a), 0x726fdb47dd0e0e31ull);
	ck_assert_uint_eq(acceptor_siphash(in, 15, key_a), 0xa129ca6149be45e5ull);
	ck_assert_uint_eq(acceptor_siphash(in, 63, key_a), 0x958a324ceb064572ull);
}
END_TEST

/* Another key, other slots: collisions found under one key do not carry. */
START_TEST(keyed)
{
	char ip[32];
	unsigned i, differ = 0, same_key = 0;

	for (i = 0; i < 64; i++) {
		snprintf(ip, sizeof(ip), "198.18.%u.%u", i / 8, i % 8 + 1);
		differ += slot(key_a, ip, 64) != slot(key_b, ip, 64);
		same_key += slot(key_a, ip, 64) == slot(key_a, ip, 64);
	}
	ck_assert_uint_ge(differ, 62); /* by chance at most a few of 65,536 */
	ck_assert_uint_eq(same_key, 64);
	for (i = 0, differ = 0; i < 64; i++) {
		snprintf(ip, sizeof(ip), "2001:2:0:%x::1", i);
		differ += slot(key_a, ip, 64) != slot(key_b, ip, 64);
	}
	ck_assert_uint_ge(differ, 62);
}
END_TEST

START_TEST(ipv6_prefix)
{
	/* one /64: one slot, whatever the interface identifier */
	ck_assert_uint_eq(slot(key_a, "2001:2:0:1::1", 64), slot(key_a, "2001:2:0:1::2", 64));
	ck_assert_uint_eq(slot(key_a, "2001:2:0:1::1", 64),
			  slot(key_a, "2001:2:0:1:ffff:1234:5678:9abc", 64));
	/* another /64: another slot (these do not collide under key_a) */
	ck_assert_uint_ne(slot(key_a, "2001:2:0:1::1", 64), slot(key_a, "2001:2:0:2::1", 64));
	/* /48 folds the /64s of one site together; /128 counts each address */
	ck_assert_uint_eq(slot(key_a, "2001:2:0:1::1", 48), slot(key_a, "2001:2:0:2::1", 48));
	ck_assert_uint_ne(slot(key_a, "2001:2:0:1::1", 128), slot(key_a, "2001:2:0:1::2", 128));
	/* the prefix length is hashed too: /48 and /64 of a /48-aligned address differ */
	ck_assert_uint_ne(slot(key_a, "2001:2::", 48), slot(key_a, "2001:2::", 64));
	/* IPv4 counts per address; an IPv4-mapped peer as its IPv4 address */
	ck_assert_uint_ne(slot(key_a, "198.18.1.2", 64), slot(key_a, "198.18.1.3", 64));
	ck_assert_uint_eq(slot(key_a, "198.18.1.2", 64), slot(key_a, "::ffff:198.18.1.2", 64));
}
END_TEST

#define LISTENER "[listener a]\nlisten = 192.0.2.1:3129\n"

START_TEST(prefix_config)
{
	struct config *cfg = NULL;
	char err[512];

	ck_assert_int_eq(config_load_string("t.conf", LISTENER, &cfg, err, sizeof(err)), 0);
	ck_assert_uint_eq(cfg->per_client_ipv6_prefix, 64);
	config_free(cfg);
	ck_assert_int_eq(config_load_string("t.conf",
					    LISTENER "[limits]\nper_client_ipv6_prefix = 56\n",
					    &cfg, err, sizeof(err)),
			 0);
	ck_assert_uint_eq(cfg->per_client_ipv6_prefix, 56);
	ck_assert_uint_eq(slot(key_a, "2001:2:0:100::1", cfg->per_client_ipv6_prefix),
			  slot(key_a, "2001:2:0:1ff::1", cfg->per_client_ipv6_prefix));
	config_free(cfg);
	ck_assert_int_eq(config_load_string("t.conf",
					    LISTENER "[limits]\nper_client_ipv6_prefix = 129\n",
					    &cfg, err, sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, "t.conf:4: ") == err && strstr(err, "per_client_ipv6_prefix"),
		      "%s", err);
	ck_assert_int_eq(config_load_string("t.conf",
					    LISTENER "[limits]\nper_client_ipv6_prefix = 0\n", &cfg,
					    err, sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, "t.conf:4: ") == err, "%s", err);
	ck_assert_int_eq(config_load_string("t.conf",
					    LISTENER "[limits]\nper_client_ipv6_prefix = 64\n"
						     "per_client_ipv6_prefix = 48\n",
					    &cfg, err, sizeof(err)),
			 -1);
	ck_assert_msg(strstr(err, "t.conf:5: ") == err, "%s", err);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("client_slot");
	TCase *tc = tcase_create("slot");

	tcase_add_test(tc, siphash_vectors);
	tcase_add_test(tc, keyed);
	tcase_add_test(tc, ipv6_prefix);
	tcase_add_test(tc, prefix_config);
	suite_add_tcase(s, tc);
	return unit_run(s);
}

/*
 * test_rules.c — remora --print-rules (rules.c) and the configuration keys it
 * reads: [listener] intercept_ports and [router] mark, table, subscribers,
 * upstream.
 */
#include "remora-config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "rules.h"
#include "unit.h"

static char err[1024];

static struct config *load(const char *text)
{
	struct config *cfg = NULL;

	ck_assert_msg(config_load_string("t.conf", text, &cfg, err, sizeof(err)) == 0, "%s", err);
	return cfg;
}

static void load_bad(const char *text, const char *want)
{
	struct config *cfg = NULL;

	ck_assert_int_eq(config_load_string("t.conf", text, &cfg, err, sizeof(err)), -1);
	ck_assert_msg(strstr(err, want) != NULL, "'%s' lacks '%s'", err, want);
}

/* The script for text in flavour fl (caller frees). */
static char *print(const char *text, enum rules_flavour fl)
{
	struct config *cfg = load(text);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(rules_print(f, cfg, "t.conf", fl), 0);
	fclose(f);
	config_free(cfg);
	return buf;
}

/* Offset of needle in hay; fails when absent. */
static long at(const char *hay, const char *needle)
{
	const char *p = strstr(hay, needle);

	ck_assert_msg(p != NULL, "no '%s' in:\n%s", needle, hay);
	return p - hay;
}

#define TPROXY_PAIR                                                         \
	"[listener a]\nlisten = 0.0.0.0:3129\nintercept_ports = 80, 8080\n" \
	"[listener b]\nlisten = [::]:3129\n"

START_TEST(keys_and_defaults)
{
	struct config *cfg = load(TPROXY_PAIR "[router]\nmark = 0x20\ntable = 7\n"
					      "subscribers = eth1, ppp*\nupstream = eth0\n");

	ck_assert_uint_eq(cfg->listeners[0].n_ports, 2);
	ck_assert_uint_eq(cfg->listeners[0].ports[1], 8080);
	ck_assert_uint_eq(cfg->listeners[1].n_ports, 1); /* default: 80 */
	ck_assert_uint_eq(cfg->listeners[1].ports[0], 80);
	ck_assert_uint_eq(cfg->fw_mark, 0x20);
	ck_assert_uint_eq(cfg->route_table, 7);
	ck_assert_str_eq(cfg->subscribers, "eth1, ppp*");
	config_free(cfg);
	/* decimal or 0x hex, as the man page says: a leading 0 is not octal */
	cfg = load(TPROXY_PAIR "[router]\nmark = 010\ntable = 0100\n");
	ck_assert_uint_eq(cfg->fw_mark, 10);
	ck_assert_uint_eq(cfg->route_table, 100);
	config_free(cfg);
	cfg = load(TPROXY_PAIR);
	ck_assert_uint_eq(cfg->fw_mark, 1);
	ck_assert_uint_eq(cfg->route_table, 100);
	ck_assert_str_eq(cfg->subscribers, "");
	config_free(cfg);
}
END_TEST

START_TEST(key_errors)
{
	load_bad(TPROXY_PAIR "[router]\ntable = 254\n", "[router] table: invalid value '254'");
	load_bad(TPROXY_PAIR "[router]\nmark = 0\n", "[router] mark");
	load_bad(TPROXY_PAIR "[router]\nmark = 0x\n", "[router] mark");
	load_bad(TPROXY_PAIR "[router]\nmark = 09x\n", "[router] mark");
	load_bad(TPROXY_PAIR "[router]\nsubscribers = eth0;\n", "[router] subscribers");
	load_bad(TPROXY_PAIR "[router]\nupstream = a-name-far-too-long0\n", "[router] upstream");
	load_bad(TPROXY_PAIR "[router]\nmtu = 1\n", "[router] mtu: unknown key");
	load_bad(TPROXY_PAIR "[router]\n[router]\n", "section given twice");
	load_bad("[listener a]\nlisten = 0.0.0.0:1\nintercept_ports = 80, 0\n", "intercept_ports");
	load_bad("[listener a]\nlisten = 0.0.0.0:1\nintercept_ports = 80, 80\n", "given twice");
}
END_TEST

/* The lesson of docs/deployment.md 5.2: every tproxy rule comes before the
 * socket transparent rule, in both flavours. */
START_TEST(tproxy_before_socket)
{
	char *s = print(TPROXY_PAIR "[router]\nsubscribers = rc\n", RULES_NFT);
	long sock = at(s, "socket transparent 1 meta mark set 0x1 accept");

	/* listener a has every port of the set: no port list of its own */
	ck_assert_int_lt(at(s, "iifname \"rc\" meta nfproto ipv4 tcp dport @intercept_ports "
			       "tproxy ip to :3129 meta mark set 0x1 accept"),
			 sock);
	ck_assert_int_lt(at(s, "meta nfproto ipv6 tcp dport @intercept_ports tcp dport { 80 } "
			       "tproxy ip6 to :3129"),
			 sock);
	at(s, "elements = { 80, 8080 }");
	at(s, "ip rule add fwmark 0x1 lookup 100\n");
	at(s, "ip route replace local 0.0.0.0/0 dev lo table 100\n");
	at(s, "ip -6 rule add fwmark 0x1 lookup 100\n");
	at(s, "ip -6 route replace local ::/0 dev lo table 100\n");
	ck_assert_ptr_null(strstr(s, "notrack")); /* no [router] upstream */
	free(s);
	s = print(TPROXY_PAIR "[router]\nsubscribers = rc, vlan*\n", RULES_IPTABLES);
	sock = at(s, "iptables -t mangle -A REMORA -p tcp -m socket --transparent");
	ck_assert_int_lt(at(s, "iptables -t mangle -A REMORA -i vlan+ -p tcp -m multiport --dports "
			       "80,8080 -j TPROXY --on-port 3129 --tproxy-mark 0x1/0x1"),
			 sock);
	ck_assert_int_lt(at(s,
			    "ip6tables -t mangle -A REMORA -i rc -p tcp -m multiport --dports 80 "
			    "-j TPROXY --on-port 3129"),
			 at(s, "ip6tables -t mangle -A REMORA -p tcp -m socket --transparent"));
	free(s);
}
END_TEST

START_TEST(redirect_and_specific_addresses)
{
	char *s = print("[listener r]\nlisten = 198.18.1.1:3131\nmode = redirect\nspoof = none\n"
			"[listener r6]\nlisten = [::]:3131\nmode = redirect\nspoof = none\n"
			"[listener t]\nlisten = [2001:2::1]:3130\nintercept_ports = 443\n"
			"[router]\nmark = 16\ntable = 200\nupstream = ro\n",
			RULES_NFT);

	at(s, "meta nfproto ipv4 tcp dport @intercept_ports tcp dport { 80 } dnat ip to "
	      "198.18.1.1:3131\n");
	at(s, "meta nfproto ipv6 tcp dport @intercept_ports tcp dport { 80 } redirect to :3131\n");
	at(s, "tproxy ip6 to [2001:2::1]:3130 meta mark set 0x10 accept");
	/* a redirected client leg stays tracked: only the upstream legs are not */
	at(s, "iifname \"ro\" tcp sport @intercept_ports notrack");
	ck_assert_ptr_null(strstr(s, "tcp dport @intercept_ports notrack\n\t\t"));
	/* only the IPv6 TPROXY listener needs policy routing */
	at(s, "ip -6 rule add fwmark 0x10 lookup 200\n");
	ck_assert_ptr_null(strstr(s, "\nip rule add"));
	free(s);
	s = print("[listener r]\nlisten = 198.18.1.1:3131\nmode = redirect\nspoof = none\n",
		  RULES_IPTABLES);
	at(s, "iptables -t nat -A REMORA -p tcp -m multiport --dports 80 -j DNAT --to-destination "
	      "198.18.1.1:3131\n");
	ck_assert_ptr_null(strstr(s, "mangle"));
	ck_assert_ptr_null(strstr(s, "ip rule"));
	free(s);
}
END_TEST

START_TEST(no_ports_no_rules)
{
	char *s = print("[listener a]\nlisten = 0.0.0.0:3129\nintercept_ports =\n", RULES_NFT);

	at(s, "nothing to do");
	ck_assert_ptr_null(strstr(s, "nft -f"));
	ck_assert_ptr_null(strstr(s, "ip rule"));
	free(s);
}
END_TEST

START_TEST(flavour_names)
{
	enum rules_flavour f;

	ck_assert_int_eq(rules_flavour_parse("iptables", &f), 0);
	ck_assert_int_eq(f, RULES_IPTABLES);
	ck_assert_int_eq(rules_flavour_parse(NULL, &f), 0);
	ck_assert_int_eq(f, RULES_NFT);
	ck_assert_int_eq(rules_flavour_parse("pf", &f), -1);
}
END_TEST

static Suite *rules_suite(void)
{
	Suite *s = suite_create("rules");
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, keys_and_defaults);
	tcase_add_test(tc, key_errors);
	tcase_add_test(tc, tproxy_before_socket);
	tcase_add_test(tc, redirect_and_specific_addresses);
	tcase_add_test(tc, no_ports_no_rules);
	tcase_add_test(tc, flavour_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return unit_run(rules_suite());
}

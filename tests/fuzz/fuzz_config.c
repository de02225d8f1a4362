/*
 * fuzz_config.c — libFuzzer target: the configuration parser.
 *
 * Any text either loads (and then every listener has an address and the
 * head limits are consistent) or is refused with one message naming the file;
 * never a crash, a leak or an over-read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg;
	char err[768];
	char *text;
	size_t i;

	if (size > 65536)
		return 0;
	text = malloc(size + 1);
	if (text == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0'; /* the loader refuses NUL bytes before this point */
	if (config_load_string("fuzz.conf", text, &cfg, err, sizeof(err)) == 0) {
		CHECK(cfg->n_listeners > 0 && cfg->workers > 0);
		CHECK(cfg->max_request_line <= cfg->max_head); /* heads may outgrow a buffer */
		for (i = 0; i < cfg->n_listeners; i++)
			CHECK(cfg->listeners[i].addr.sa.sa_family != 0);
		config_put(cfg);
	} else {
		CHECK(strncmp(err, "fuzz.conf", 9) == 0);
	}
	free(text);
	return 0;
}

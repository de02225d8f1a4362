/* config_values.c — the value parsers of the configuration (durations and
 * sizes), exposed for the tests (see config.h). Pure: no I/O, any thread. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int config_parse_duration(const char *s, uint32_t *ms)
{
	char *end;
	unsigned long long v, mult = 1000;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		mult = 1000;
	else if (strcmp(end, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(end, "h") == 0)
		mult = 3600 * 1000;
	else if (strcmp(end, "d") == 0)
		mult = 86400 * 1000;
	else
		return -1;
	/* up to 7 days: long enough for [timeouts] tunnel to outlast conntrack's
	 * 5 days for an established flow, well inside 32 bits of milliseconds */
	if (v == 0 || v > CONFIG_DURATION_MAX_MS / mult)
		return -1;
	*ms = (uint32_t)(v * mult);
	return 0;
}

int config_parse_size(const char *s, uint64_t *bytes)
{
	char *end;
	unsigned long long v, mult = 1;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (strcasecmp(end, "k") == 0)
		mult = 1024;
	else if (strcasecmp(end, "m") == 0)
		mult = 1024 * 1024;
	else if (*end != '\0')
		return -1;
	if (v > (1ull << 40) / mult)
		return -1;
	*bytes = v * mult;
	return 0;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"

static const __u8 v4_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool pw_addr_is4(const __u8 a[16])
{
	return !memcmp(a, v4_prefix, sizeof(v4_prefix));
}

int pw_addr_parse(const char *s, __u8 out[16])
{
	struct in_addr a4;

	if (inet_pton(AF_INET, s, &a4) == 1) {
		memcpy(out, v4_prefix, sizeof(v4_prefix));
		memcpy(out + 12, &a4, 4);
		return 0;
	}
	if (inet_pton(AF_INET6, s, out) == 1)
		return 0;
	return -EINVAL;
}

int pw_cidr_parse(const char *s, __u8 out[16], __u32 *plen)
{
	char buf[PW_ADDR_STRLEN + 8], *slash, *end;
	unsigned long len;
	__u32 bits, i;
	bool v4;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (pw_addr_parse(buf, out))
		return -EINVAL;
	v4 = pw_addr_is4(out) && strchr(buf, ':') == NULL;
	if (!slash) {
		*plen = 128;
		return 0;
	}
	if (!slash[1] || slash[1] == '-' || slash[1] == '+')
		return -EINVAL;
	errno = 0;
	len = strtoul(slash + 1, &end, 10);
	if (errno || *end || len > (v4 ? 32UL : 128UL))
		return -EINVAL;
	bits = v4 ? 96 + len : len;
	/* host bits must be zero, as the API server insists for ipBlock */
	for (i = bits; i < 128; i++)
		if (out[i / 8] & (0x80 >> (i % 8)))
			return -EINVAL;
	*plen = bits;
	return 0;
}

const char *pw_addr_str(const __u8 a[16], char *buf, size_t len)
{
	if (pw_addr_is4(a)) {
		if (!inet_ntop(AF_INET, a + 12, buf, len))
			snprintf(buf, len, "?");
	} else if (!inet_ntop(AF_INET6, a, buf, len)) {
		snprintf(buf, len, "?");
	}
	return buf;
}

int pw_mac_parse(const char *s, __u8 out[6])
{
	unsigned int b[6];
	char tail;
	int i;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &tail) != 6)
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		if (b[i] > 0xff)
			return -EINVAL;
		out[i] = b[i];
	}
	return 0;
}

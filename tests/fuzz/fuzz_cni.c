// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * libFuzzer target: what a runtime feeds the CNI plugin on stdin (the
 * netconf with prevResult) and CNI_ARGS, through the plugin's parsing and
 * the agent's validation of the endpoint it makes. Every accepted
 * endpoint must name a host interface and hold only addresses, and nothing
 * may crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "cni_result.h"
#include "source_cni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the part after the first NUL, if any, is CNI_ARGS */
	const char *args = memchr(data, '\0', size);
	char err[512], *buf = malloc(size + 1);
	cJSON *conf, *ep = NULL;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	args = args ? buf + (args - (const char *)data) + 1 : "";
	conf = cJSON_Parse(buf);
	if (conf &&
	    !pw_cni_endpoint(conf, cJSON_GetObjectItem(conf, "prevResult"),
			     "cid", "/run/netns/x", "eth0", args, &ep, err,
			     sizeof(err))) {
		if (!cJSON_GetStringValue(
			    cJSON_GetObjectItem(ep, "hostIfname")))
			abort();
		if (!pw_src_cni_validate(ep, err, sizeof(err))) {
			const cJSON *ip;
			__u8 a[16];

			cJSON_ArrayForEach(
				ip,
				cJSON_GetObjectItem(
					ep,
					"ip"
					"s")) if (pw_addr_parse(ip->valuestring,
								a)) abort();
		}
		cJSON_Delete(ep);
	}
	cJSON_Delete(conf);
	free(buf);
	return 0;
}

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What the podwall CNI plugin reads from its input: the previous plugin's
 * result (interfaces, addresses), CNI_ARGS (K8S_POD_NAMESPACE and
 * K8S_POD_NAME) and the netconf's args.cni.labels, turned into the
 * endpoint it registers with the agent. Pure, so that it can be fuzzed
 * (tests/fuzz/fuzz_cni.c): a runtime's input is not trusted to be sane.
 */
#ifndef PW_CNI_RESULT_H
#define PW_CNI_RESULT_H

#include <stddef.h>
#include <cjson/cJSON.h>

/* The host-side veth is the last interface of @prev outside the sandbox:
 * bridge lists bridge, host veth, container; ptp host veth, container.
 * Returns 0 with *out an endpoint object (the caller frees), or -EINVAL
 * with @err saying what is missing. */
int pw_cni_endpoint(const cJSON *conf, const cJSON *prev, const char *cid,
		    const char *netns, const char *ifname, const char *cni_args,
		    cJSON **out, char *err, size_t errlen);

#endif /* PW_CNI_RESULT_H */

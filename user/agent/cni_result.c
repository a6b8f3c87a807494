// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "cni_result.h"

static const char *str(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

/* KEY's value in "K8S_POD_NAMESPACE=x;K8S_POD_NAME=y;..." */
static void cni_arg(const char *args, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);
	const char *p = args;

	out[0] = '\0';
	while (p && *p) {
		const char *end = strchr(p, ';');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			n -= kl + 1;
			if (n >= len)
				n = len - 1;
			memcpy(out, p + kl + 1, n);
			out[n] = '\0';
			return;
		}
		p = end ? end + 1 : NULL;
	}
}

int pw_cni_endpoint(const cJSON *conf, const cJSON *prev, const char *cid,
		    const char *netns, const char *ifname, const char *cni_args,
		    cJSON **out, char *err, size_t errlen)
{
	const cJSON *ifs = cJSON_GetObjectItemCaseSensitive(prev, "interfaces");
	const cJSON *ips = cJSON_GetObjectItemCaseSensitive(prev, "ips");
	/* only arrays are walked: a runtime could send anything */
	const cJSON *ifs_a = cJSON_IsArray(ifs) ? ifs : NULL;
	const cJSON *ips_a = cJSON_IsArray(ips) ? ips : NULL;
	const cJSON *labels, *labels_a, *it;
	const char *host = NULL, *mac = NULL;
	char ns[256], pod[256];
	cJSON *ep, *arr, *lab;

	cJSON_ArrayForEach(it, ifs_a)
	{
		const char *sb = str(it, "sandbox"), *name = str(it, "name");

		if (!name)
			continue;
		if (!sb || !*sb)
			host = name;
		else if (!strcmp(name, ifname))
			mac = str(it, "mac");
	}
	if (!host) {
		snprintf(err, errlen, "no host-side interface in prevResult");
		return -EINVAL;
	}
	ep = cJSON_CreateObject();
	if (!ep)
		return -ENOMEM;
	cJSON_AddStringToObject(ep, "containerId", cid);
	cJSON_AddStringToObject(ep, "ifname", ifname);
	cJSON_AddStringToObject(ep, "netns", netns);
	cJSON_AddStringToObject(ep, "hostIfname", host);
	cni_arg(cni_args, "K8S_POD_NAMESPACE", ns, sizeof(ns));
	cni_arg(cni_args, "K8S_POD_NAME", pod, sizeof(pod));
	cJSON_AddStringToObject(ep, "namespace", ns[0] ? ns : "default");
	cJSON_AddStringToObject(ep, "pod", pod[0] ? pod : cid);
	if (mac)
		cJSON_AddStringToObject(ep, "mac", mac);
	arr = cJSON_AddArrayToObject(ep, "ips");
	cJSON_ArrayForEach(it, ips_a)
	{
		const cJSON *idx =
			cJSON_GetObjectItemCaseSensitive(it, "interface");
		const cJSON *ifc =
			cJSON_IsNumber(idx) && cJSON_IsArray(ifs)
				? cJSON_GetArrayItem(ifs, idx->valueint)
				: NULL;
		const char *a = str(it, "address");
		char addr[64];

		/* only the pod's own addresses */
		if ((ifc && !str(ifc, "sandbox")) || !a)
			continue;
		snprintf(addr, sizeof(addr), "%s", a);
		addr[strcspn(addr, "/")] = '\0';
		cJSON_AddItemToArray(arr, cJSON_CreateString(addr));
	}
	labels = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(conf, "args"), "cni"),
		"labels");
	labels_a = cJSON_IsArray(labels) ? labels : NULL;
	if (labels) {
		lab = cJSON_AddObjectToObject(ep, "labels");
		cJSON_ArrayForEach(it, labels_a)
		{
			if (!str(it, "key") || !str(it, "value")) {
				cJSON_Delete(ep);
				snprintf(err, errlen,
					 "args.cni.labels: each needs a key "
					 "and a value");
				return -EINVAL;
			}
			cJSON_AddStringToObject(lab, str(it, "key"),
						str(it, "value"));
		}
	}
	*out = ep;
	return 0;
}

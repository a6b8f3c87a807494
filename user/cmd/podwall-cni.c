// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The podwall CNI plugin, installed as type "podwall" and chained after
 * bridge or ptp (CNI spec 0.4.0 and 1.0.0). ADD registers the pod with
 * podwalld and answers only once its policy is enforced on the host veth;
 * DEL forgets it (idempotent, and it works with the agent down or the
 * netns gone); CHECK asks the agent whether enforcement is as registered.
 * The previous plugin's result is passed on unchanged.
 *
 * Netconf keys of its own: "socket" (the agent's control socket),
 * "stateDir" (where DEL removes a record when the agent is down), and the
 * CNI conventions' "args": {"cni": {"labels": [{"key","value"}]}} for pod
 * labels when no manifest gives them.
 *
 * The host-side veth is the last interface of prevResult outside the
 * sandbox: bridge lists bridge, host veth, container; ptp host veth,
 * container.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "agent.h"
#include "ctl_client.h"
#include "cni_result.h"
#include "source_cni.h"

#define CONF_MAX	(1U << 20)
/* an ADD waits for a reconcile; a busy node may take a while */
#define CALL_TIMEOUT_MS 30000

/* CNI error codes (SPEC.md, "Error"); 100 and up are the plugin's own. */
enum {
	CNI_ERR_VERSION = 1,
	CNI_ERR_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_CONFIG = 7,
	CNI_ERR_TRY_LATER = 11,
	CNI_ERR_REFUSED = 100,
};

static const char *const versions[] = {"0.4.0", "1.0.0"};
static const char *cni_version = "1.0.0";

static int cni_error(int code, const char *msg, const char *details)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "cniVersion", cni_version);
	cJSON_AddNumberToObject(o, "code", code);
	cJSON_AddStringToObject(o, "msg", msg);
	if (details)
		cJSON_AddStringToObject(o, "details", details);
	s = cJSON_Print(o);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(o);
	return 1;
}

static char *read_stdin(void)
{
	size_t n = 0, cap = 65536;
	char *buf = malloc(cap + 1);

	while (buf) {
		size_t r = fread(buf + n, 1, cap - n, stdin);

		n += r;
		if (r == 0)
			break;
		if (n == cap) {
			char *v = cap >= CONF_MAX ? NULL
						  : realloc(buf, cap * 2 + 1);

			if (!v) {
				free(buf);
				return NULL;
			}
			buf = v;
			cap *= 2;
		}
	}
	if (buf)
		buf[n] = '\0';
	return buf;
}

static const char *str(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
}

static int env(const char *name, const char **out)
{
	*out = getenv(name);
	if (!*out || !**out) {
		char msg[64];

		snprintf(msg, sizeof(msg), "%s is not set", name);
		return cni_error(CNI_ERR_ENV, "missing environment variable",
				 msg);
	}
	return 0;
}

/* The endpoint an ADD registers, from prevResult and the environment. */
static int endpoint(const cJSON *conf, const cJSON *prev, cJSON **out)
{
	const char *cid, *netns, *ifname;
	char err[512];

	if (env("CNI_CONTAINERID", &cid) || env("CNI_NETNS", &netns) ||
	    env("CNI_IFNAME", &ifname))
		return 1;
	if (pw_cni_endpoint(conf, prev, cid, netns, ifname, getenv("CNI_ARGS"),
			    out, err, sizeof(err)))
		return cni_error(CNI_ERR_CONFIG, err,
				 "chain podwall after the bridge or ptp "
				 "plugin");
	return 0;
}

/* One request to the agent; *resp only when it answered. */
static int call(const char *sock, cJSON *req, cJSON **resp)
{
	struct pw_ctl_conn *c;
	int err;

	*resp = NULL;
	err = pw_ctl_connect(sock, CALL_TIMEOUT_MS, &c);
	if (!err) {
		err = pw_ctl_call(c, req, resp);
		pw_ctl_disconnect(c);
	}
	return err;
}

static int refused(const cJSON *resp, const char *what)
{
	return cni_error(CNI_ERR_REFUSED, what,
			 str(resp, "error") ?: "no reason given");
}

static int unreachable(const char *sock, int err)
{
	char d[512];

	snprintf(d, sizeof(d), "%s: %s (is podwalld running?)", sock,
		 strerror(-err));
	return cni_error(CNI_ERR_TRY_LATER, "podwall agent not reachable", d);
}

static int print_result(const cJSON *prev)
{
	cJSON *r = cJSON_Duplicate(prev, true);
	char *s;

	cJSON_DeleteItemFromObjectCaseSensitive(r, "cniVersion");
	cJSON_AddStringToObject(r, "cniVersion", cni_version);
	s = cJSON_Print(r);
	if (s)
		puts(s);
	free(s);
	cJSON_Delete(r);
	return s ? 0 : cni_error(CNI_ERR_IO, "out of memory", NULL);
}

static int do_add(const cJSON *conf, const char *sock)
{
	const cJSON *prev =
		cJSON_GetObjectItemCaseSensitive(conf, "prevResult");
	cJSON *req, *ep = NULL, *resp;
	int err;

	if (!cJSON_IsObject(prev))
		return cni_error(CNI_ERR_CONFIG, "no prevResult",
				 "podwall is a chained plugin: put it after "
				 "bridge or ptp in a conflist");
	if (endpoint(conf, prev, &ep))
		return 1;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "endpoint-add");
	cJSON_AddItemToObject(req, "endpoint", ep);
	err = call(sock, req, &resp);
	cJSON_Delete(req);
	if (err)
		return unreachable(sock, err);
	if (!cJSON_IsTrue(cJSON_GetObjectItem(resp, "ok"))) {
		err = refused(resp, "podwall agent refused the pod");
		cJSON_Delete(resp);
		return err;
	}
	cJSON_Delete(resp);
	return print_result(prev);
}

static int do_del(const cJSON *conf, const char *sock)
{
	const char *cid, *ifname, *state = str(conf, "stateDir");
	cJSON *req, *resp;
	char path[4096];
	int err;

	if (env("CNI_CONTAINERID", &cid) || env("CNI_IFNAME", &ifname))
		return 1;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "endpoint-del");
	cJSON_AddStringToObject(req, "containerId", cid);
	cJSON_AddStringToObject(req, "ifname", ifname);
	err = call(sock, req, &resp);
	cJSON_Delete(req);
	if (!err) {
		/* the agent forgot the pod even if its reconcile then failed
		 * for another reason: DEL has done its part */
		cJSON_Delete(resp);
		return 0;
	}
	/* agent down: forget the record so that its restart does not bring
	 * the pod back; the veth, and with it the filters, go with the pod */
	if (!pw_cni_record_path(state ?: PW_STATE_DIR_DEFAULT, cid, ifname,
				path, sizeof(path)) &&
	    unlink(path) && errno != ENOENT) {
		char d[4200];

		snprintf(d, sizeof(d), "%s: %s", path, strerror(errno));
		return cni_error(CNI_ERR_IO,
				 "could not remove the pod's record", d);
	}
	return 0;
}

static int do_check(const cJSON *conf, const char *sock)
{
	const cJSON *prev =
		cJSON_GetObjectItemCaseSensitive(conf, "prevResult");
	const cJSON *ep, *want, *got, *g;
	cJSON *req, *resp, *mine = NULL;
	const char *cid, *ifname;
	int err;

	if (!cJSON_IsObject(prev))
		return cni_error(CNI_ERR_CONFIG, "no prevResult", NULL);
	if (env("CNI_CONTAINERID", &cid) || env("CNI_IFNAME", &ifname) ||
	    endpoint(conf, prev, &mine))
		return 1;
	req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "op", "endpoint-check");
	cJSON_AddStringToObject(req, "containerId", cid);
	cJSON_AddStringToObject(req, "ifname", ifname);
	err = call(sock, req, &resp);
	cJSON_Delete(req);
	if (err) {
		cJSON_Delete(mine);
		return unreachable(sock, err);
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItem(resp, "ok"))) {
		err = refused(resp, "podwall: pod not enforced as registered");
		goto out;
	}
	/* the addresses the agent enforces are the ones the runtime has */
	ep = cJSON_GetObjectItem(resp, "endpoint");
	got = cJSON_GetObjectItem(ep, "ips");
	cJSON_ArrayForEach(want, cJSON_GetObjectItem(mine, "ips"))
	{
		cJSON_ArrayForEach(g,
				   got) if (!strcmp(g->valuestring ?: "",
						    want->valuestring)) break;
		if (!g) {
			err = cni_error(CNI_ERR_REFUSED,
					"podwall: pod address not enforced",
					want->valuestring);
			goto out;
		}
	}
	err = 0;
out:
	cJSON_Delete(mine);
	cJSON_Delete(resp);
	return err;
}

int main(void)
{
	const char *cmd = getenv("CNI_COMMAND"), *ver, *sock;
	char *text;
	cJSON *conf;
	size_t i;
	int ret;

	if (cmd && !strcmp(cmd, "VERSION")) {
		printf("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":"
		       "[\"0.4.0\",\"1.0.0\"]}\n");
		return 0;
	}
	if (!cmd || !*cmd)
		return cni_error(CNI_ERR_ENV, "missing environment variable",
				 "CNI_COMMAND is not set");
	text = read_stdin();
	conf = text ? cJSON_Parse(text) : NULL;
	free(text);
	if (!cJSON_IsObject(conf)) {
		cJSON_Delete(conf);
		return cni_error(CNI_ERR_DECODE,
				 "network configuration on stdin "
				 "is not a JSON object",
				 NULL);
	}
	ver = str(conf, "cniVersion");
	for (i = 0; ver && i < sizeof(versions) / sizeof(versions[0]); i++)
		if (!strcmp(ver, versions[i]))
			cni_version = versions[i];
	if (!ver || strcmp(ver, cni_version)) {
		char d[128];

		snprintf(d, sizeof(d),
			 "cniVersion \"%s\"; supported: 0.4.0, "
			 "1.0.0",
			 ver ?: "");
		cJSON_Delete(conf);
		return cni_error(CNI_ERR_VERSION, "incompatible CNI version",
				 d);
	}
	sock = str(conf, "socket") ?: PW_CTL_SOCK_DEFAULT;
	if (!strcmp(cmd, "ADD"))
		ret = do_add(conf, sock);
	else if (!strcmp(cmd, "DEL"))
		ret = do_del(conf, sock);
	else if (!strcmp(cmd, "CHECK"))
		ret = do_check(conf, sock);
	else
		ret = cni_error(CNI_ERR_ENV, "unsupported CNI_COMMAND", cmd);
	cJSON_Delete(conf);
	return ret;
}

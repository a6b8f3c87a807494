// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * podwall: the command line to a node's agent. Apply and delete policy,
 * list what the agent knows, ask why a flow would be allowed or denied,
 * and watch flows as they happen. Everything goes through podwalld's
 * control socket; -o json prints the agent's answer as it is.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "agent.h"
#include "cli.h"
#include "manifest.h"
#include "ctl_client.h"

static const char *sock_path = PW_CTL_SOCK_DEFAULT;
static bool json_out;

static const struct {
	const char *name;
	const char *usage;
} helps[] = {
	{"apply",
	 "podwall apply -f FILE [-f FILE...]\n"
	 "  Apply NetworkPolicies, Namespaces and Pods (JSON or YAML, "
	 "Lists and\n"
	 "  multi-document files; - is stdin). All or nothing: an "
	 "invalid object,\n"
	 "  or one the maps have no room for, applies none of them.\n"},
	{"delete", "podwall delete KIND [NS/]NAME | delete -f FILE\n"
		   "  Delete objects applied with podwall apply (KIND: "
		   "networkpolicy, pod,\n"
		   "  namespace). With -f, every object FILE describes.\n"},
	{"get", "podwall get endpoints|policies|identities|cni [-o json]\n"
		"  What the agent knows: pods with their endpoint, identity, "
		"addresses\n"
		"  and interface; policies and the pods they select; label "
		"and CIDR\n"
		"  identities; the CNI plugin's records. Also: podwall "
		"endpoints,\n"
		"  podwall policies, podwall identities.\n"},
	{"status", "podwall status [-o json]\n"
		   "  The agent's health: reconciles and the last error, the "
		   "flow log,\n"
		   "  lost events, map fill levels, counters by verdict and "
		   "drop reason.\n"},
	{"trace", "podwall trace --from SRC --to DST [--port PORT[/PROTO]] "
		  "[-o json]\n"
		  "podwall trace SRC DST [PROTO[/PORT]]\n"
		  "  Would a new flow from SRC to DST pass, and why: which "
		  "policies\n"
		  "  select the source (egress) and the destination (ingress), "
		  "and which\n"
		  "  rule allows it. SRC and DST: a pod as namespace/name, an "
		  "address,\n"
		  "  or a CIDR. Answered from the policy, not from packets.\n"},
	{"flows", "podwall flows [options]   (podwall flows --help)\n"
		  "  Flow records, live or from log files, filtered; or a "
		  "summary.\n"},
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: podwall [--socket PATH] COMMAND [ARGS]\n\n");
	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		fprintf(f, "%s\n", helps[i].usage);
	fprintf(f, "The agent's socket defaults to " PW_CTL_SOCK_DEFAULT
		   ".\nExit status: 0 done, 1 refused or failed, 2 bad "
		   "usage.\n");
}

static int command_help(const char *cmd, FILE *f)
{
	size_t i;

	for (i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
		if (!strcmp(helps[i].name, cmd)) {
			fprintf(f, "usage: %s", helps[i].usage);
			return 0;
		}
	return -1;
}

static int connect_agent(struct pw_ctl_conn **c)
{
	int err = pw_ctl_connect(sock_path, 60000, c);

	if (err)
		fprintf(stderr, "podwall: %s: %s (is podwalld running?)\n",
			sock_path, strerror(-err));
	return err;
}

/* Send @req (consumed); on success *resp is the answer with ok true. */
static int request(cJSON *req, cJSON **resp)
{
	struct pw_ctl_conn *c;
	int err = connect_agent(&c);

	if (!err) {
		err = pw_ctl_call(c, req, resp);
		pw_ctl_disconnect(c);
		if (err)
			fprintf(stderr, "podwall: agent: %s\n", strerror(-err));
	}
	cJSON_Delete(req);
	if (err)
		return err;
	if (!cJSON_IsTrue(cJSON_GetObjectItem(*resp, "ok"))) {
		fprintf(stderr, "podwall: %s\n",
			cJSON_GetStringValue(
				cJSON_GetObjectItem(*resp, "error"))
				?: "refused");
		cJSON_Delete(*resp);
		return -EINVAL;
	}
	return 0;
}

static cJSON *op(const char *name)
{
	cJSON *r = cJSON_CreateObject();

	cJSON_AddStringToObject(r, "op", name);
	return r;
}

static void print_json(const cJSON *o)
{
	char *s = cJSON_Print(o);

	if (s)
		puts(s);
	free(s);
}

static char *read_all(FILE *f)
{
	char *text = NULL;
	size_t cap = 0;

	if (getdelim(&text, &cap, '\0', f) < 0) {
		free(text);
		return strdup("");
	}
	return text;
}

static int cmd_apply(int argc, char **argv)
{
	int i, ret = 0, nf = 0;

	for (i = 1; i < argc && !ret; i++) {
		const char *path;
		cJSON *req, *resp, *it;
		char *text;
		FILE *f;

		if (!strcmp(argv[i], "-f") && i + 1 < argc)
			path = argv[++i];
		else if (!strncmp(argv[i], "-f", 2) && argv[i][2])
			path = argv[i] + 2;
		else {
			usage(stderr);
			return 2;
		}
		f = strcmp(path, "-") ? fopen(path, "re") : stdin;
		if (!f) {
			fprintf(stderr, "podwall: %s: %s\n", path,
				strerror(errno));
			return 1;
		}
		text = read_all(f);
		if (f != stdin)
			fclose(f);
		req = op("apply");
		cJSON_AddStringToObject(req, "name", path);
		cJSON_AddStringToObject(req, "text", text ?: "");
		free(text);
		ret = request(req, &resp);
		if (ret)
			break;
		cJSON_ArrayForEach(it, cJSON_GetObjectItem(resp, "applied"))
			printf("%s applied\n", it->valuestring);
		cJSON_Delete(resp);
		nf++;
	}
	if (!nf && !ret) {
		usage(stderr);
		return 2;
	}
	return ret ? 1 : 0;
}

static int delete_one(const char *kind, const char *ns, const char *name)
{
	cJSON *req, *resp;

	req = op("delete");
	cJSON_AddStringToObject(req, "kind", kind);
	if (ns)
		cJSON_AddStringToObject(req, "namespace", ns);
	cJSON_AddStringToObject(req, "name", name);
	if (request(req, &resp))
		return 1;
	printf("%s %s%s%s deleted\n", kind, ns ?: "", ns ? "/" : "", name);
	cJSON_Delete(resp);
	return 0;
}

/* Every object of a file, read here with the agent's own parser. */
static int delete_file(const char *path)
{
	char err[PW_ERR_LEN], *text;
	cJSON *docs, *d;
	FILE *f = strcmp(path, "-") ? fopen(path, "re") : stdin;
	int ret = 0;

	if (!f) {
		fprintf(stderr, "podwall: %s: %s\n", path, strerror(errno));
		return 1;
	}
	text = read_all(f);
	if (f != stdin)
		fclose(f);
	if (pw_manifest_split(text, strlen(text), path, &docs, err,
			      sizeof(err))) {
		fprintf(stderr, "podwall: %s\n", err);
		free(text);
		return 1;
	}
	free(text);
	cJSON_ArrayForEach(d, docs)
	{
		const cJSON *md = cJSON_GetObjectItem(d, "metadata");
		const char *kind =
			cJSON_GetStringValue(cJSON_GetObjectItem(d, "kind"));
		const char *ns = cJSON_GetStringValue(
			cJSON_GetObjectItem(md, "namespace"));
		const char *name =
			cJSON_GetStringValue(cJSON_GetObjectItem(md, "name"));

		if (kind && !strcmp(kind, "Namespace"))
			ns = NULL;
		else if (!ns)
			ns = "default";
		if (kind && name && delete_one(kind, ns, name))
			ret = 1;
	}
	cJSON_Delete(docs);
	return ret;
}

static int cmd_delete(int argc, char **argv)
{
	char ns[256] = "default";
	const char *name, *slash;
	int i, ret = 0;

	if (argc >= 3 && !strcmp(argv[1], "-f")) {
		for (i = 2; i < argc; i++)
			ret |= delete_file(argv[i]);
		return ret;
	}
	if (argc != 3) {
		command_help("delete", stderr);
		return 2;
	}
	name = argv[2];
	slash = strchr(name, '/');
	if (slash) {
		snprintf(ns, sizeof(ns), "%.*s", (int)(slash - name), name);
		name = slash + 1;
	}
	return delete_one(argv[1], ns, name);
}

static const char *s_of(const cJSON *o, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(o, k)) ?: "";
}

static double n_of(const cJSON *o, const char *k)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItem(o, k));
}

static void join(const cJSON *arr, char *buf, size_t len)
{
	const cJSON *it;
	size_t n = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(it, arr)
	{
		if (n < len)
			n += snprintf(buf + n, len - n, "%s%s", n ? "," : "",
				      it->valuestring ?: "");
	}
}

static void labels_str(const cJSON *o, char *buf, size_t len)
{
	const cJSON *it;
	size_t n = 0;

	buf[0] = '\0';
	cJSON_ArrayForEach(it, o)
	{
		if (n < len)
			n += snprintf(buf + n, len - n, "%s%s=%s", n ? "," : "",
				      it->string, it->valuestring ?: "");
	}
}

static int cmd_get(int argc, char **argv)
{
	const cJSON *it, *items;
	cJSON *req, *resp;
	char a[512], b[512];

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	req = op("get");
	cJSON_AddStringToObject(req, "what", argv[1]);
	if (request(req, &resp))
		return 1;
	items = cJSON_GetObjectItem(resp, "items");
	if (json_out) {
		print_json(items);
	} else if (!strcmp(argv[1], "endpoints")) {
		printf("%-28s %-6s %-8s %-28s %-10s %s\n", "POD", "EP",
		       "IDENTITY", "IPS", "INTERFACE", "ENFORCED");
		cJSON_ArrayForEach(it, items)
		{
			snprintf(b, sizeof(b), "%s/%s", s_of(it, "namespace"),
				 s_of(it, "pod"));
			join(cJSON_GetObjectItem(it, "ips"), a, sizeof(a));
			printf("%-28s %-6.0f %-8.0f %-28s %-10s %s%s\n", b,
			       n_of(it, "ep_id"), n_of(it, "identity"), a,
			       cJSON_IsTrue(cJSON_GetObjectItem(it, "local"))
				       ? s_of(it, "interface")
				       : "(remote)",
			       cJSON_IsTrue(cJSON_GetObjectItem(
				       it, "ingress_enforced"))
				       ? "ingress "
				       : "",
			       cJSON_IsTrue(cJSON_GetObjectItem(
				       it, "egress_enforced"))
				       ? "egress"
				       : "");
		}
	} else if (!strcmp(argv[1], "policies")) {
		printf("%-32s %-5s %-14s %s\n", "POLICY", "SLOT", "TYPES",
		       "SELECTS");
		cJSON_ArrayForEach(it, items)
		{
			snprintf(b, sizeof(b), "%s/%s", s_of(it, "namespace"),
				 s_of(it, "name"));
			join(cJSON_GetObjectItem(it, "selects"), a, sizeof(a));
			printf("%-32s %-5.0f %-14s %s\n", b, n_of(it, "slot"),
			       cJSON_IsTrue(cJSON_GetObjectItem(it, "ingress"))
				       ? (cJSON_IsTrue(cJSON_GetObjectItem(
						  it, "egress"))
						  ? "Ingress,Egress"
						  : "Ingress")
				       : "Egress",
			       a);
		}
	} else if (!strcmp(argv[1], "identities")) {
		printf("%-10s %-16s %s\n", "ID", "NAMESPACE", "LABELS / CIDR");
		cJSON_ArrayForEach(it, items)
		{
			labels_str(cJSON_GetObjectItem(it, "labels"), a,
				   sizeof(a));
			printf("%-10.0f %-16s %s\n", n_of(it, "id"),
			       cJSON_GetObjectItem(it, "cidr")
				       ? "(cidr)"
				       : s_of(it, "namespace"),
			       cJSON_GetObjectItem(it, "cidr")
				       ? s_of(it, "cidr")
				       : a);
		}
	} else {
		print_json(items);
	}
	cJSON_Delete(resp);
	return 0;
}

static int cmd_status(void)
{
	const cJSON *m, *it;
	cJSON *resp;

	if (request(op("status"), &resp))
		return 1;
	if (json_out) {
		print_json(resp);
		cJSON_Delete(resp);
		return 0;
	}
	printf("agent %s: %.0f pods, %.0f on this node, %.0f interfaces "
	       "(veth mode %s)\n",
	       s_of(resp, "version"), n_of(resp, "pods"),
	       n_of(resp, "local_endpoints"), n_of(resp, "attached_interfaces"),
	       *s_of(resp, "veth_mode") ? s_of(resp, "veth_mode") : "tc");
	printf("reconciles %.0f, failed %.0f; the last one %s\n",
	       n_of(resp, "reconciles"), n_of(resp, "reconcile_errors"),
	       cJSON_IsTrue(cJSON_GetObjectItem(resp, "last_reconcile_ok"))
		       ? "went through"
		       : "FAILED (the last good state is in force)");
	printf("the node (%.0f addresses): %s\n", n_of(resp, "node_addresses"),
	       strcmp(s_of(resp, "node_traffic"), "allow")
		       ? "judged by policy like any peer"
		       : "its traffic with pods passes, as Kubernetes admits "
			 "it");
	if (*s_of(resp, "last_error"))
		printf("last error, at %s: %s\n", s_of(resp, "last_error_at"),
		       s_of(resp, "last_error"));
	if (*s_of(resp, "source_error"))
		printf("a source could not be read (its last good state is in "
		       "force): %s\n",
		       s_of(resp, "source_error"));
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(resp, "sources"))
	{
		if (cJSON_IsTrue(cJSON_GetObjectItem(it, "connected")))
			printf("%s: connected to %s, %.0f pods%s%s\n",
			       it->string, s_of(it, "socket"), n_of(it, "pods"),
			       *s_of(it, "error") ? "; the last read failed: "
						  : "",
			       s_of(it, "error"));
		else
			printf("%s: NOT CONNECTED to %s (%s); its %.0f pods "
			       "stay enforced\n",
			       it->string, s_of(it, "socket"),
			       s_of(it, "error"), n_of(it, "pods"));
	}
	m = cJSON_GetObjectItem(resp, "flow_log");
	printf("flow log: %.0f records (%.0f denies folded), %.0f lost, "
	       "%.0f rotations, %.0f write errors, in %s\n",
	       n_of(m, "records"), n_of(m, "folded"), n_of(m, "lost"),
	       n_of(m, "rotations"), n_of(m, "write_errors"),
	       *s_of(m, "dir") ? s_of(m, "dir") : "(no files)");
	printf("flow events lost %.0f; idle flows swept %.0f\n",
	       n_of(resp, "events_lost"), n_of(resp, "ct_swept"));
	m = cJSON_GetObjectItem(resp, "maps");
	cJSON_ArrayForEach(it, m) printf(
		"  map %-12s %8.0f / %-8.0f (%.1f%%)\n", it->string,
		n_of(it, "entries"), n_of(it, "max"),
		n_of(it, "max") ? 100 * n_of(it, "entries") / n_of(it, "max")
				: 0);
	m = cJSON_GetObjectItem(resp, "counters");
	printf("allowed %.0f packets; audit-passed %.0f\n",
	       n_of(m, "allowed_packets"), n_of(m, "audit_passed_packets"));
	cJSON_ArrayForEach(it, cJSON_GetObjectItem(m, "dropped")) printf(
		"  dropped %-24s %.0f\n", it->string, cJSON_GetNumberValue(it));
	cJSON_Delete(resp);
	return 0;
}

static int cmd_trace(int argc, char **argv)
{
	const char *from = NULL, *to = NULL, *spec = NULL;
	const cJSON *sides, *s, *r;
	cJSON *req, *resp;
	char proto[16] = "tcp";
	int port = 0, i, npos = 0;
	const char *pos[3];

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--from") && i + 1 < argc)
			from = argv[++i];
		else if (!strcmp(argv[i], "--to") && i + 1 < argc)
			to = argv[++i];
		else if (!strcmp(argv[i], "--port") && i + 1 < argc)
			spec = argv[++i];
		else if (argv[i][0] != '-' && npos < 3)
			pos[npos++] = argv[i];
		else {
			command_help("trace", stderr);
			return 2;
		}
	}
	if (npos >= 2 && !from && !to) {
		from = pos[0];
		to = pos[1];
		if (npos == 3)
			spec = pos[2];
	} else if (npos) {
		command_help("trace", stderr);
		return 2;
	}
	if (!from || !to) {
		command_help("trace", stderr);
		return 2;
	}
	if (spec) {
		/* 80/tcp, tcp/80, 80, tcp */
		const char *slash = strchr(spec, '/');
		const char *a = spec, *b = slash ? slash + 1 : NULL;
		int alen = slash ? (int)(slash - spec) : (int)strlen(spec);

		if (isdigit((unsigned char)a[0])) {
			port = atoi(a);
			if (b)
				snprintf(proto, sizeof(proto), "%s", b);
		} else {
			snprintf(proto, sizeof(proto), "%.*s", alen, a);
			if (b)
				port = atoi(b);
		}
	}
	req = op("trace");
	cJSON_AddStringToObject(req, "from", from);
	cJSON_AddStringToObject(req, "to", to);
	cJSON_AddStringToObject(req, "protocol", proto);
	cJSON_AddNumberToObject(req, "port", port);
	if (request(req, &resp))
		return 1;
	if (json_out) {
		print_json(resp);
		cJSON_Delete(resp);
		return 0;
	}
	printf("%s -> %s %s/%d: %s\n", from, to, proto, port,
	       s_of(resp, "verdict"));
	sides = cJSON_GetObjectItem(resp, "sides");
	cJSON_ArrayForEach(s, sides)
	{
		bool sel = cJSON_IsTrue(cJSON_GetObjectItem(s, "selected"));

		printf("  %s (%s): ", s->string,
		       *s_of(s, "pod") ? s_of(s, "pod") : "not a pod here");
		if (!sel)
			printf("no policy selects it: allowed\n");
		else if (cJSON_IsTrue(cJSON_GetObjectItem(s, "allowed"))) {
			printf("allowed by");
			cJSON_ArrayForEach(r,
					   cJSON_GetObjectItem(s, "allowed_by"))
				printf(" %s", r->valuestring);
			printf("\n");
		} else {
			printf("%.0f policies select it, none allows this: "
			       "denied\n",
			       n_of(s, "policies"));
		}
	}
	cJSON_Delete(resp);
	return 0;
}

int main(int argc, char **argv)
{
	int i = 1, j;

	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
			sock_path = argv[i + 1];
			i += 2;
		} else if (!strcmp(argv[i], "-h") ||
			   !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	argc -= i;
	argv += i;
	/* -o json anywhere after the command, for all but flows */
	for (j = 1; strcmp(argv[0], "flows") && j < argc; j++) {
		if (!strcmp(argv[j], "-o") && j + 1 < argc) {
			json_out = !strcmp(argv[j + 1], "json");
			memmove(&argv[j], &argv[j + 2],
				(argc - j - 2) * sizeof(*argv));
			argc -= 2;
			j--;
		}
	}
	if (argc == 2 && strcmp(argv[0], "flows") &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")))
		return command_help(argv[0], stdout) ? 2 : 0;
	if (!strcmp(argv[0], "endpoints") || !strcmp(argv[0], "policies") ||
	    !strcmp(argv[0], "identities")) {
		char *v[2] = {"get", argv[0]};

		return cmd_get(2, v);
	}
	if (!strcmp(argv[0], "apply"))
		return cmd_apply(argc, argv);
	if (!strcmp(argv[0], "delete"))
		return cmd_delete(argc, argv);
	if (!strcmp(argv[0], "get"))
		return cmd_get(argc, argv);
	if (!strcmp(argv[0], "status"))
		return cmd_status();
	if (!strcmp(argv[0], "trace"))
		return cmd_trace(argc, argv);
	if (!strcmp(argv[0], "flows"))
		return pw_cli_flows(argc, argv, sock_path);
	if (!strcmp(argv[0], "help")) {
		if (argc > 1)
			return command_help(argv[1], stdout) ? 2 : 0;
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "podwall: unknown command \"%s\"\n", argv[0]);
	usage(stderr);
	return 2;
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * podwall-dp: the low-level datapath tool. Loads and pins the BPF programs,
 * attaches them to a veth, and reads and writes raw map entries. The agent
 * does all of this from compiled policy; this tool is for tests, debugging
 * and the demo, in the manner of bpftool and iproute2.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include "addr.h"
#include "compile.h"
#include "datapath.h"
#include "log.h"
#include "manifest.h"
#include "names.h"
#include "podlink.h"
#include "sync.h"

static const char *pin_dir = PW_PIN_DIR_DEFAULT;
static volatile sig_atomic_t stop;

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
};

static int invarg(const char *what, const char *arg)
{
	pr_warn("podwall-dp: invalid %s \"%s\"\n", what, arg);
	return -EINVAL;
}

#define NEXT_ARG()                                                          \
	do {                                                                \
		if (argc < 2) {                                             \
			pr_warn("podwall-dp: %s needs a value\n", argv[0]); \
			return -EINVAL;                                     \
		}                                                           \
		argc--;                                                     \
		argv++;                                                     \
	} while (0)

static int parse_u32(const char *s, __u32 *out)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || !*s || *end || v > UINT32_MAX || s[0] == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_dev(const char *s, __u32 *ifindex)
{
	*ifindex = if_nametoindex(s);
	if (*ifindex)
		return 0;
	if (!parse_u32(s, ifindex) && *ifindex)
		return 0;
	pr_warn("podwall-dp: no interface \"%s\" in this network namespace\n",
		s);
	return -ENODEV;
}

static int parse_dir(const char *s, __u8 *dir)
{
	if (!strcmp(s, "ingress"))
		*dir = PW_DIR_INGRESS;
	else if (!strcmp(s, "egress"))
		*dir = PW_DIR_EGRESS;
	else
		return invarg("direction (ingress|egress)", s);
	return 0;
}

static int open_dp(struct pw_dp **dp)
{
	return pw_dp_open_pinned(pin_dir, dp);
}

static int do_load(int argc, char **argv)
{
	struct pw_dp_opts opts = {.pin_dir = pin_dir};
	static const struct {
		const char *flag;
		size_t off;
	} sizes[] = {
		{"--ct-max", offsetof(struct pw_dp_opts, ct_max)},
		{"--policy-max", offsetof(struct pw_dp_opts, policy_max)},
		{"--ipcache-max", offsetof(struct pw_dp_opts, ipcache_max)},
		{"--ep-max", offsetof(struct pw_dp_opts, ep_max)},
		{"--frag-max", offsetof(struct pw_dp_opts, frag_max)},
		{"--events-bytes", offsetof(struct pw_dp_opts, events_bytes)},
	};
	struct pw_dp *dp;
	size_t i;
	int err;

	for (; argc > 0; argc--, argv++) {
		for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
			if (!strcmp(argv[0], sizes[i].flag))
				break;
		if (i == sizeof(sizes) / sizeof(sizes[0]))
			return invarg("option", argv[0]);
		NEXT_ARG();
		if (parse_u32(argv[0], (__u32 *)((char *)&opts + sizes[i].off)))
			return invarg(sizes[i].flag, argv[0]);
	}
	err = pw_dp_load(&opts, &dp);
	if (err)
		return err;
	pw_dp_close(dp);
	printf("loaded, pinned in %s\n", pin_dir);
	return 0;
}

static int do_unload(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return pw_dp_unpin(pin_dir);
}

static int do_attach(int argc, char **argv)
{
	enum pw_veth_mode mode = PW_VETH_TC;
	struct pw_dp *dp;
	__u32 ifindex;
	int err;

	if (argc == 3 && !strcmp(argv[1], "--mode")) {
		if (pw_veth_mode_parse(argv[2], &mode))
			return invarg("--mode", argv[2]);
	} else if (argc != 1) {
		return -EINVAL;
	}
	err = parse_dev(argv[0], &ifindex);
	err = err ?: open_dp(&dp);
	if (err)
		return err;
	pw_dp_set_veth_mode(dp, mode);
	err = pw_dp_attach(dp, ifindex);
	pw_dp_close(dp);
	return err;
}

static int do_mode(int argc, char **argv)
{
	__u32 ifindex;
	int err;

	if (argc != 1)
		return -EINVAL;
	err = parse_dev(argv[0], &ifindex);
	if (err)
		return err;
	err = pw_dp_attached_mode(ifindex);
	if (err == -ENOENT) {
		printf("none\n");
		return 0;
	}
	if (err < 0)
		return err;
	printf("%s\n", pw_veth_mode_name(err));
	return 0;
}

static int do_detach(int argc, char **argv)
{
	__u32 ifindex;
	int err;

	if (argc != 1)
		return -EINVAL;
	err = parse_dev(argv[0], &ifindex);
	return err ?: pw_dp_detach(ifindex);
}

static int endpoint_set(const char *dev, int argc, char **argv)
{
	struct pw_endpoint ep = {}, old;
	struct pw_dp *dp;
	__u32 ifindex;
	int err;

	err = parse_dev(dev, &ifindex);
	if (err)
		return err;
	for (; argc > 0; argc--, argv++) {
		if (!strcmp(argv[0], "--id")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &ep.ep_id) || !ep.ep_id)
				return invarg("--id", argv[0]);
		} else if (!strcmp(argv[0], "--identity")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &ep.identity))
				return invarg("--identity", argv[0]);
		} else if (!strcmp(argv[0], "--ip4")) {
			NEXT_ARG();
			if (pw_addr_parse(argv[0], ep.ip4) ||
			    !pw_addr_is4(ep.ip4))
				return invarg("--ip4", argv[0]);
			ep.flags |= PW_EP_F_HAS_IP4;
		} else if (!strcmp(argv[0], "--ip6")) {
			NEXT_ARG();
			if (pw_addr_parse(argv[0], ep.ip6) ||
			    pw_addr_is4(ep.ip6))
				return invarg("--ip6", argv[0]);
			ep.flags |= PW_EP_F_HAS_IP6;
		} else if (!strcmp(argv[0], "--mac")) {
			NEXT_ARG();
			if (pw_mac_parse(argv[0], ep.mac))
				return invarg("--mac", argv[0]);
			ep.flags |= PW_EP_F_HAS_MAC;
		} else if (!strcmp(argv[0], "--enforce")) {
			NEXT_ARG();
			if (!strcmp(argv[0], "ingress"))
				ep.flags |= PW_EP_F_INGRESS_ENFORCED;
			else if (!strcmp(argv[0], "egress"))
				ep.flags |= PW_EP_F_EGRESS_ENFORCED;
			else if (!strcmp(argv[0], "both"))
				ep.flags |= PW_EP_F_INGRESS_ENFORCED |
					    PW_EP_F_EGRESS_ENFORCED;
			else if (strcmp(argv[0], "none"))
				return invarg("--enforce", argv[0]);
		} else if (!strcmp(argv[0], "--audit")) {
			ep.flags |= PW_EP_F_AUDIT;
		} else {
			return invarg("option", argv[0]);
		}
	}
	if (!ep.ep_id) {
		pr_warn("podwall-dp: endpoint set needs --id\n");
		return -EINVAL;
	}
	err = open_dp(&dp);
	if (err)
		return err;
	/* Every change bumps the revision, so established flows are judged
	 * again under what is now in force. This tool gives each endpoint the
	 * policy set numbered like the endpoint; the agent alternates two. */
	ep.rev = pw_dp_endpoint_get(dp, ifindex, &old) ? 1 : old.rev + 1;
	ep.pol_id = ep.ep_id;
	err = pw_dp_endpoint_set(dp, ifindex, &ep);
	pw_dp_close(dp);
	return err;
}

static int endpoint_bump(const char *dev)
{
	struct pw_endpoint ep;
	struct pw_dp *dp;
	__u32 ifindex;
	int err;

	err = parse_dev(dev, &ifindex);
	err = err ?: open_dp(&dp);
	if (err)
		return err;
	err = pw_dp_endpoint_get(dp, ifindex, &ep);
	if (err) {
		pr_warn("podwall-dp: %s is not an endpoint\n", dev);
	} else {
		ep.rev++;
		err = pw_dp_endpoint_set(dp, ifindex, &ep);
	}
	pw_dp_close(dp);
	return err;
}

static int endpoint_list(void)
{
	char a4[PW_ADDR_STRLEN], a6[PW_ADDR_STRLEN], name[IF_NAMESIZE];
	__u32 key, *prev = NULL;
	struct pw_endpoint ep;
	struct pw_dp *dp;
	int fd, err;

	err = open_dp(&dp);
	if (err)
		return err;
	fd = pw_dp_map_fd(dp, PW_MAP_ENDPOINTS);
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &ep))
			continue;
		printf("ifindex %u (%s) id %u set %u identity %u rev %u ip4 %s "
		       "ip6 %s"
		       " ingress %s egress %s%s\n",
		       key, if_indextoname(key, name) ?: "?", ep.ep_id,
		       ep.pol_id, ep.identity, ep.rev,
		       ep.flags & PW_EP_F_HAS_IP4
			       ? pw_addr_str(ep.ip4, a4, sizeof(a4))
			       : "-",
		       ep.flags & PW_EP_F_HAS_IP6
			       ? pw_addr_str(ep.ip6, a6, sizeof(a6))
			       : "-",
		       ep.flags & PW_EP_F_INGRESS_ENFORCED ? "enforced"
							   : "open",
		       ep.flags & PW_EP_F_EGRESS_ENFORCED ? "enforced" : "open",
		       ep.flags & PW_EP_F_AUDIT ? " audit" : "");
	}
	pw_dp_close(dp);
	return 0;
}

static int do_endpoint(int argc, char **argv)
{
	struct pw_dp *dp;
	__u32 ifindex;
	int err;

	if (argc >= 1 && !strcmp(argv[0], "list"))
		return endpoint_list();
	if (argc < 2)
		return -EINVAL;
	if (!strcmp(argv[0], "set"))
		return endpoint_set(argv[1], argc - 2, argv + 2);
	if (!strcmp(argv[0], "bump") && argc == 2)
		return endpoint_bump(argv[1]);
	if (!strcmp(argv[0], "del") && argc == 2) {
		err = parse_dev(argv[1], &ifindex);
		err = err ?: open_dp(&dp);
		if (err)
			return err;
		err = pw_dp_endpoint_del(dp, ifindex);
		pw_dp_close(dp);
		return err;
	}
	return -EINVAL;
}

static int do_ipcache(int argc, char **argv)
{
	struct pw_ipcache_entry e = {};
	bool set, have_id = false;
	struct pw_dp *dp;
	__u8 addr[16];
	__u32 plen;
	int err;

	if (argc < 2)
		return -EINVAL;
	set = !strcmp(argv[0], "set");
	if (!set && strcmp(argv[0], "del"))
		return -EINVAL;
	if (pw_cidr_parse(argv[1], addr, &plen))
		return invarg("CIDR", argv[1]);
	for (argc -= 2, argv += 2; argc > 0; argc--, argv++) {
		if (set && !strcmp(argv[0], "--id")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &e.id))
				return invarg("--id", argv[0]);
			have_id = true;
		} else if (set && !strcmp(argv[0], "--cidr-id")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &e.cidr_id))
				return invarg("--cidr-id", argv[0]);
		} else {
			return invarg("option", argv[0]);
		}
	}
	if (set && !have_id) {
		pr_warn("podwall-dp: ipcache set needs --id\n");
		return -EINVAL;
	}
	err = open_dp(&dp);
	if (err)
		return err;
	err = set ? pw_dp_ipcache_set(dp, addr, plen, &e)
		  : pw_dp_ipcache_del(dp, addr, plen);
	pw_dp_close(dp);
	return err;
}

static int parse_ports(const char *s, struct pw_dp_rule *r)
{
	__u32 lo, hi;
	char buf[16], *dash;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (parse_u32(buf, &lo) || lo > 65535)
		return -EINVAL;
	hi = lo;
	if (dash && (parse_u32(dash + 1, &hi) || hi > 65535 || hi < lo))
		return -EINVAL;
	r->port_lo = lo;
	r->port_hi = hi;
	return 0;
}

static int do_policy(int argc, char **argv)
{
	struct pw_dp_rule r = {};
	bool add, del, flush, have_ep = false, have_dir = false;
	const char *sub = argv[0];
	struct pw_dp *dp;
	int err, proto;

	if (argc < 1)
		return -EINVAL;
	add = !strcmp(argv[0], "add");
	del = !strcmp(argv[0], "del");
	flush = !strcmp(argv[0], "flush");
	if (!add && !del && !flush)
		return -EINVAL;
	for (argc--, argv++; argc > 0; argc--, argv++) {
		if (!strcmp(argv[0], "--ep")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &r.pol_id))
				return invarg("--ep", argv[0]);
			have_ep = true;
		} else if (!flush && !strcmp(argv[0], "--dir")) {
			NEXT_ARG();
			if (parse_dir(argv[0], &r.dir))
				return -EINVAL;
			have_dir = true;
		} else if (!flush && !strcmp(argv[0], "--peer")) {
			NEXT_ARG();
			if (!strcmp(argv[0], "any"))
				r.peer_id = PW_ID_ANY;
			else if (parse_u32(argv[0], &r.peer_id))
				return invarg("--peer", argv[0]);
		} else if (!flush && !strcmp(argv[0], "--proto")) {
			NEXT_ARG();
			proto = pw_proto_parse(argv[0]);
			if (proto < 0)
				return invarg("--proto", argv[0]);
			r.proto = proto;
		} else if (!flush && !strcmp(argv[0], "--port")) {
			NEXT_ARG();
			if (parse_ports(argv[0], &r))
				return invarg("--port", argv[0]);
		} else if (add && !strcmp(argv[0], "--rule")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &r.rule_id))
				return invarg("--rule", argv[0]);
		} else {
			return invarg("option", argv[0]);
		}
	}
	if (!have_ep || (!flush && !have_dir)) {
		pr_warn("podwall-dp: policy %s needs --ep%s\n", sub,
			flush ? "" : " and --dir");
		return -EINVAL;
	}
	if (!r.proto && (r.port_lo || r.port_hi)) {
		pr_warn("podwall-dp: --port needs a --proto\n");
		return -EINVAL;
	}
	err = open_dp(&dp);
	if (err)
		return err;
	if (add)
		err = pw_dp_policy_add(dp, &r);
	else if (del)
		err = pw_dp_policy_del(dp, &r);
	else
		err = pw_dp_policy_flush(dp, r.pol_id);
	pw_dp_close(dp);
	return err;
}

static int prefilter_print(const __u8 addr[16], __u32 plen, __u32 rule_id,
			   void *arg)
{
	char a[PW_ADDR_STRLEN];

	(void)arg;
	printf("%s/%u id %u\n", pw_addr_str(addr, a, sizeof(a)),
	       pw_addr_is4(addr) ? plen - 96 : plen, rule_id);
	return 0;
}

static int prefilter_attach(int argc, char **argv)
{
	enum pw_xdp_mode mode = PW_XDP_AUTO;
	const char *dev = argv[0];
	struct pw_dp *dp;
	__u32 ifindex;
	int err;

	for (argc--, argv++; argc > 0; argc--, argv++) {
		if (strcmp(argv[0], "--mode"))
			return invarg("option", argv[0]);
		NEXT_ARG();
		if (!strcmp(argv[0], "native"))
			mode = PW_XDP_NATIVE;
		else if (!strcmp(argv[0], "generic"))
			mode = PW_XDP_GENERIC;
		else
			return invarg("--mode (native|generic)", argv[0]);
	}
	err = parse_dev(dev, &ifindex);
	err = err ?: open_dp(&dp);
	if (err)
		return err;
	err = pw_dp_prefilter_attach(dp, ifindex, mode, NULL);
	pw_dp_close(dp);
	return err;
}

static int do_prefilter(int argc, char **argv)
{
	const char *sub = argc ? argv[0] : "";
	__u32 plen, id = 0, ifindex;
	struct pw_dp *dp;
	__u8 addr[16];
	int err;

	if (!strcmp(sub, "list") && argc == 1) {
		err = open_dp(&dp);
		if (err)
			return err;
		err = pw_dp_prefilter_list(dp, prefilter_print, NULL);
		pw_dp_close(dp);
		return err;
	}
	if (!strcmp(sub, "attach") && argc >= 2)
		return prefilter_attach(argc - 1, argv + 1);
	if (!strcmp(sub, "detach") && argc == 2) {
		err = parse_dev(argv[1], &ifindex);
		return err ?: pw_dp_prefilter_detach(ifindex);
	}
	if ((strcmp(sub, "add") && strcmp(sub, "del")) || argc < 2)
		return -EINVAL;
	if (pw_cidr_parse(argv[1], addr, &plen))
		return invarg("CIDR", argv[1]);
	for (argc -= 2, argv += 2; argc > 0; argc--, argv++) {
		if (strcmp(sub, "add") || strcmp(argv[0], "--id"))
			return invarg("option", argv[0]);
		NEXT_ARG();
		if (parse_u32(argv[0], &id))
			return invarg("--id", argv[0]);
	}
	err = open_dp(&dp);
	if (err)
		return err;
	if (!strcmp(sub, "add"))
		err = pw_dp_prefilter_set(dp, addr, plen, id);
	else
		err = pw_dp_prefilter_del(dp, addr, plen);
	pw_dp_close(dp);
	return err;
}

struct events_ctx {
	bool json;
	__u32 count;
	__u32 seen;
};

static int print_event(const struct pw_flow_event *ev, void *arg)
{
	char s[PW_ADDR_STRLEN], d[PW_ADDR_STRLEN], pbuf[8];
	struct events_ctx *ec = arg;
	char *js;

	if (ec->json) {
		js = pw_event_json(ev);
		if (!js)
			return -ENOMEM;
		printf("%s\n", js);
		free(js);
	} else {
		printf("%-4s %-7s %-7s ep %u %s %s:%u -> %s:%u%s rule %u peer "
		       "%u"
		       "%s%s\n",
		       pw_event_type_name(ev->type),
		       pw_verdict_name(ev->verdict), pw_dir_name(ev->dir),
		       ev->ep_id, pw_proto_name(ev->proto, pbuf, sizeof(pbuf)),
		       pw_addr_str(ev->src, s, sizeof(s)), ntohs(ev->sport),
		       pw_addr_str(ev->dst, d, sizeof(d)), ntohs(ev->dport),
		       ev->is_reply ? " reply" : "", ev->rule_id, ev->peer_id,
		       ev->reason ? " reason " : "",
		       ev->reason ? pw_drop_reason_name(ev->reason) : "");
	}
	fflush(stdout);
	ec->seen++;
	/* a positive return stops ring_buffer__poll early */
	return ec->count && ec->seen >= ec->count ? 1 : 0;
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static int do_events(int argc, char **argv)
{
	struct events_ctx ec = {};
	struct pw_events *evs;
	__u32 timeout = 0;
	struct pw_dp *dp;
	__u64 deadline;
	int err;

	for (; argc > 0; argc--, argv++) {
		if (!strcmp(argv[0], "--json")) {
			ec.json = true;
		} else if (!strcmp(argv[0], "--count")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &ec.count))
				return invarg("--count", argv[0]);
		} else if (!strcmp(argv[0], "--timeout")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &timeout))
				return invarg("--timeout", argv[0]);
		} else {
			return invarg("option", argv[0]);
		}
	}
	err = open_dp(&dp);
	if (err)
		return err;
	err = pw_events_open(dp, print_event, &ec, &evs);
	if (err)
		goto out;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	deadline = timeout ? now_ms() + timeout : 0;
	while (!stop && (!ec.count || ec.seen < ec.count)) {
		int wait = 100;

		if (deadline) {
			__u64 now = now_ms();

			if (now >= deadline)
				break;
			if (deadline - now < (__u64)wait)
				wait = deadline - now;
		}
		err = pw_events_poll(evs, wait);
		if (err == -EINTR) {
			err = 0;
			continue;
		}
		if (err < 0)
			break;
		err = 0;
	}
	pw_events_close(evs);
out:
	pw_dp_close(dp);
	return err;
}

static int do_counters(int argc, char **argv)
{
	struct pw_counter c[PW_CNT_SLOTS];
	__u32 ep_id = 0, slot;
	bool json = false;
	struct pw_dp *dp;
	__u64 lost = 0;
	int err;

	for (; argc > 0; argc--, argv++) {
		if (!strcmp(argv[0], "--json")) {
			json = true;
		} else if (!strcmp(argv[0], "--ep")) {
			NEXT_ARG();
			if (parse_u32(argv[0], &ep_id))
				return invarg("--ep", argv[0]);
		} else {
			return invarg("option", argv[0]);
		}
	}
	err = open_dp(&dp);
	if (err)
		return err;
	err = pw_dp_counters(dp, ep_id, c);
	err = err ?: pw_dp_events_lost(dp, &lost);
	pw_dp_close(dp);
	if (err)
		return err;
	if (json) {
		printf("{\"ep_id\":%u,\"events_lost\":%llu,"
		       "\"allowed\":{\"packets\":%llu,\"bytes\":%llu},"
		       "\"audit\":{\"packets\":%llu,\"bytes\":%llu},\"drops\":"
		       "{",
		       ep_id, (unsigned long long)lost,
		       (unsigned long long)c[PW_CNT_ALLOWED].packets,
		       (unsigned long long)c[PW_CNT_ALLOWED].bytes,
		       (unsigned long long)c[PW_CNT_AUDIT].packets,
		       (unsigned long long)c[PW_CNT_AUDIT].bytes);
		for (slot = 1; slot < PW_DROP__MAX; slot++)
			printf("%s\"%s\":{\"packets\":%llu,\"bytes\":%llu}",
			       slot > 1 ? "," : "", pw_drop_reason_name(slot),
			       (unsigned long long)c[slot].packets,
			       (unsigned long long)c[slot].bytes);
		printf("}}\n");
		return 0;
	}
	printf("%-16s %12s %14s\n", "counter", "packets", "bytes");
	printf("%-16s %12llu %14llu\n", "allowed",
	       (unsigned long long)c[PW_CNT_ALLOWED].packets,
	       (unsigned long long)c[PW_CNT_ALLOWED].bytes);
	printf("%-16s %12llu %14llu\n", "audit",
	       (unsigned long long)c[PW_CNT_AUDIT].packets,
	       (unsigned long long)c[PW_CNT_AUDIT].bytes);
	for (slot = 1; slot < PW_DROP__MAX; slot++)
		if (c[slot].packets)
			printf("%-16s %12llu %14llu\n",
			       pw_drop_reason_name(slot),
			       (unsigned long long)c[slot].packets,
			       (unsigned long long)c[slot].bytes);
	printf("%-16s %12llu\n", "events-lost", (unsigned long long)lost);
	return 0;
}

#define SYNC_BINDS_MAX 256

/* NS/POD=DEV[@MAC] */
static int parse_bind(char *arg, struct pw_binding *b)
{
	char *slash = strchr(arg, '/'), *eq = strchr(arg, '='), *at;

	if (!slash || !eq || slash > eq)
		return invarg("--bind (NS/POD=DEV[@MAC])", arg);
	*slash = *eq = '\0';
	at = strchr(eq + 1, '@');
	if (at) {
		*at = '\0';
		if (pw_mac_parse(at + 1, b->mac))
			return invarg("--bind MAC", at + 1);
		b->has_mac = true;
	}
	b->ns = arg;
	b->name = slash + 1;
	return parse_dev(eq + 1, &b->ifindex);
}

static int do_links(int argc, char **argv)
{
	char name[IF_NAMESIZE], a[PW_ADDR_STRLEN];
	struct pw_podlink *pl;
	int i, k, n, err;

	(void)argv;
	if (argc)
		return -EINVAL;
	err = pw_podlink_scan(&pl, &n);
	if (err)
		return err;
	for (i = 0; i < n; i++) {
		printf("%s mac %02x:%02x:%02x:%02x:%02x:%02x",
		       if_indextoname(pl[i].ifindex, name) ?: "?", pl[i].mac[0],
		       pl[i].mac[1], pl[i].mac[2], pl[i].mac[3], pl[i].mac[4],
		       pl[i].mac[5]);
		for (k = 0; k < pl[i].naddrs; k++)
			printf(" %s",
			       pw_addr_str(pl[i].addrs[k], a, sizeof(a)));
		printf("\n");
	}
	free(pl);
	return 0;
}

/* The rules the entries name, so a flow log's rule ids can be read. */
static void print_rules(const struct pw_cluster *c,
			const struct pw_compiled *co)
{
	__u32 seen[64];
	int i, j, n = 0;
	char buf[320];

	for (i = 0; i < co->npol && n < 64; i++) {
		for (j = 0; j < n; j++)
			if (seen[j] == co->pol[i].rule_id)
				break;
		if (j < n)
			continue;
		seen[n++] = co->pol[i].rule_id;
		printf("rule %u: %s\n", co->pol[i].rule_id,
		       pw_rule_describe(c, co->pol[i].rule_id, buf,
					sizeof(buf)));
	}
}

/*
 * Compile manifests and write the result into the pinned maps for the
 * pods bound to interfaces here: what the agent will do on every change,
 * done once. It starts from what the maps hold, so it writes only the
 * difference and removes what is no longer wanted.
 */
static int do_sync(int argc, char **argv)
{
	struct pw_binding binds[SYNC_BINDS_MAX];
	struct pw_objects objs = {};
	struct pw_cluster *c = NULL;
	struct pw_sync *s = NULL;
	struct pw_sync_stats st;
	struct pw_compiled co = {};
	char err[PW_ERR_LEN];
	struct pw_dp *dp = NULL;
	int nb = 0, nfiles = 0, ret, i;
	bool by_ip = false;

	for (; argc > 0; argc--, argv++) {
		if (!strcmp(argv[0], "-f")) {
			NEXT_ARG();
			ret = pw_manifest_load_path(argv[0], &objs, err,
						    sizeof(err));
			if (ret) {
				pr_warn("%s\n", err);
				goto out;
			}
			nfiles++;
		} else if (!strcmp(argv[0], "--bind")) {
			NEXT_ARG();
			if (nb == SYNC_BINDS_MAX) {
				ret = invarg("--bind (too many)", argv[0]);
				goto out;
			}
			memset(&binds[nb], 0, sizeof(binds[nb]));
			ret = parse_bind(argv[0], &binds[nb]);
			if (ret)
				goto out;
			nb++;
		} else if (!strcmp(argv[0], "--bind-by-ip")) {
			by_ip = true;
		} else if (!strcmp(argv[0], "--audit")) {
			NEXT_ARG();
			for (i = 0; i < nb; i++) {
				char nsname[512];

				snprintf(nsname, sizeof(nsname), "%s/%s",
					 binds[i].ns, binds[i].name);
				if (!strcmp(nsname, argv[0]))
					binds[i].audit = true;
			}
		} else {
			ret = invarg("option", argv[0]);
			goto out;
		}
	}
	if (!nfiles) {
		pr_warn("podwall-dp: sync needs -f PATH\n");
		ret = -EINVAL;
		goto out;
	}
	ret = pw_cluster_new(&c);
	ret = ret ?: pw_cluster_apply(c, &objs);
	if (ret)
		goto out;
	ret = pw_compile(c, &co, err, sizeof(err));
	if (ret) {
		pr_warn("%s\n", err);
		goto out;
	}
	if (by_ip) {
		ret = pw_podlink_bind(&co, NULL, binds, &nb, SYNC_BINDS_MAX);
		if (ret)
			goto out;
	}
	/* named bindings get the pod's link-local address as found ones do */
	ret = pw_podlink_fill_ll6(binds, nb);
	if (ret)
		goto out;
	ret = open_dp(&dp);
	ret = ret ?: pw_sync_new(&s);
	ret = ret ?: pw_sync_adopt(s, dp);
	ret = ret ?: pw_sync_apply(s, dp, &co, binds, nb, &st);
	if (ret)
		goto out;
	printf("synced %d endpoints (%d changed, %d removed): policy +%d -%d, "
	       "ipcache +%d -%d\n",
	       nb, st.endpoints_changed, st.endpoints_removed, st.policy_writes,
	       st.policy_deletes, st.ipcache_writes, st.ipcache_deletes);
	print_rules(c, &co);
out:
	pw_objects_free(&objs);
	pw_compiled_free(&co);
	pw_sync_free(s);
	pw_cluster_free(c);
	pw_dp_close(dp);
	return ret;
}

static const char *const ct_states[] = {"new", "syn-sent", "established",
					"closing", "closed"};

static int do_ct(int argc, char **argv)
{
	char l[PW_ADDR_STRLEN], r[PW_ADDR_STRLEN], pbuf[8];
	struct pw_ct_key key, *prev = NULL;
	struct pw_ct_entry ct;
	bool json = false;
	struct pw_dp *dp;
	int fd, err;

	if (argc < 1 || strcmp(argv[0], "list"))
		return -EINVAL;
	if (argc == 2 && !strcmp(argv[1], "--json"))
		json = true;
	else if (argc != 1)
		return invarg("option", argv[1]);
	err = open_dp(&dp);
	if (err)
		return err;
	fd = pw_dp_map_fd(dp, PW_MAP_CT);
	while (!bpf_map_get_next_key(fd, prev, &key)) {
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &ct))
			continue;
		printf(json ? "{\"ep_id\":%u,\"proto\":\"%s\",\"local\":\"%s\","
			      "\"lport\":%u,\"remote\":\"%s\",\"rport\":%u,"
			      "\"origin\":\"%s\",\"state\":\"%s\",\"rev\":%u,"
			      "\"rule_id\":%u,\"packets\":[%llu,%llu],"
			      "\"bytes\":[%llu,%llu]}\n"
			    : "ep %u %s %s:%u <-> %s:%u origin %s state %s rev "
			      "%u"
			      " rule %u packets %llu/%llu bytes %llu/%llu\n",
		       key.ep_id, pw_proto_name(key.proto, pbuf, sizeof(pbuf)),
		       pw_addr_str(key.local, l, sizeof(l)), ntohs(key.lport),
		       pw_addr_str(key.remote, r, sizeof(r)), ntohs(key.rport),
		       pw_dir_name(ct.origin),
		       ct.state < 5 ? ct_states[ct.state] : "?", ct.rev,
		       ct.rule_id, (unsigned long long)ct.pkts[0],
		       (unsigned long long)ct.pkts[1],
		       (unsigned long long)ct.bytes[0],
		       (unsigned long long)ct.bytes[1]);
	}
	pw_dp_close(dp);
	return 0;
}

static const struct cmd cmds[] = {
	{"load", do_load,
	 "load [--ct-max N] [--policy-max N] [--ipcache-max N] [--ep-max N]\n"
	 "     [--frag-max N] [--events-bytes N]\n"
	 "\tload the BPF programs; pin maps and programs in the pin folder"},
	{"unload", do_unload,
	 "unload\n\tremove the pins (attached programs stay)"},
	{"attach", do_attach,
	 "attach DEV [--mode tc|xdp]\n"
	 "\tattach the programs to DEV: what the pod sends goes through TC\n"
	 "\tingress (default) or XDP, what it receives through TC egress;\n"
	 "\tthe other mode's program comes off"},
	{"detach", do_detach,
	 "detach DEV\n\tremove podwall's filters and XDP program from DEV"},
	{"mode", do_mode,
	 "mode DEV\n\twhich program judges what DEV's pod sends: tc, xdp or "
	 "none"},
	{"endpoint", do_endpoint,
	 "endpoint set DEV --id N [--identity N] [--ip4 A] [--ip6 A] [--mac "
	 "M]\n"
	 "         [--enforce ingress|egress|both|none] [--audit]\n"
	 "endpoint del DEV | endpoint bump DEV | endpoint list\n"
	 "\tevery set and bump moves the revision: flows are judged again"},
	{"ipcache", do_ipcache,
	 "ipcache set CIDR --id N [--cidr-id N] | ipcache del CIDR"},
	{"policy", do_policy,
	 "policy add --ep N --dir ingress|egress --peer ID|any\n"
	 "           --proto tcp|udp|sctp|icmp|icmpv6|any|NUM [--port P[-Q]]"
	 " --rule R\n"
	 "policy del (the same, without --rule) | policy flush --ep N\n"
	 "\t--ep N names the endpoint's policy set, which endpoint set\n"
	 "\tnumbers like the endpoint"},
	{"events", do_events,
	 "events [--json] [--count N] [--timeout MS]\n\tprint flow events"},
	{"counters", do_counters, "counters [--ep N] [--json]"},
	{"sync", do_sync,
	 "sync -f PATH [-f PATH]... [--bind NS/POD=DEV[@MAC]]... "
	 "[--bind-by-ip]\n"
	 "     [--audit NS/POD]...\n"
	 "\tcompile NetworkPolicies, Namespaces and Pods (JSON, YAML, or a\n"
	 "\tfolder of them) and write them into the maps for the bound pods;\n"
	 "\t--bind-by-ip binds each pod to the veth whose peer holds its\n"
	 "\taddress (read from rtnetlink, never from traffic)"},
	{"links", do_links,
	 "links\n\tthe veths here and their peers' MACs and addresses"},
	{"ct", do_ct, "ct list [--json]"},
	{"prefilter", do_prefilter,
	 "prefilter add CIDR [--id N] | prefilter del CIDR | prefilter list\n"
	 "prefilter attach DEV [--mode native|generic] | prefilter detach "
	 "DEV\n"
	 "\tthe uplink prefilter (XDP): traffic from a listed source prefix\n"
	 "\tdrops on DEV before the stack; N is reported as its drops' "
	 "rule.\n"
	 "\tattach takes native mode if the driver has it, else generic"},
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: podwall-dp [--pin DIR] [-v] COMMAND ...\n"
		   "  --pin DIR  pin folder (default " PW_PIN_DIR_DEFAULT ")\n"
		   "  -v         debug logging\n\ncommands:\n");
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %s\n", cmds[i].usage);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pin", required_argument, NULL, 'p'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{},
	};
	size_t i;
	int c, err;

	pw_log_init_libbpf();
	/* stop at the command: its options are its own */
	while ((c = getopt_long(argc, argv, "+p:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			pin_dir = optarg;
			break;
		case 'v':
			pw_log_set_level(PW_LOG_DEBUG);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[optind], cmds[i].name))
			continue;
		err = cmds[i].fn(argc - optind - 1, argv + optind + 1);
		if (err == -EINVAL)
			fprintf(stderr, "usage: podwall-dp %s\n",
				cmds[i].usage);
		else if (err == -ESTALE)
			fprintf(stderr,
				"podwall-dp %s: pinned maps do not "
				"match (see above)\n",
				cmds[i].name);
		else if (err)
			fprintf(stderr, "podwall-dp %s: %s\n", cmds[i].name,
				strerror(-err));
		return err ? 1 : 0;
	}
	fprintf(stderr, "podwall-dp: unknown command \"%s\"\n", argv[optind]);
	usage(stderr);
	return 2;
}

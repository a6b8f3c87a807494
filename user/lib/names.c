// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <cjson/cJSON.h>
#include "addr.h"
#include "names.h"

/* Indexed by enum pw_drop_reason: a stable API, changes with the enum. */
static const char *const drop_reasons[PW_DROP__MAX] = {
	[PW_DROP_NONE] = "",
	[PW_DROP_POLICY_DENIED] = "policy-denied",
	[PW_DROP_OUT_OF_STATE] = "out-of-state",
	[PW_DROP_POLICY_REVOKED] = "policy-revoked",
	[PW_DROP_SPOOFED_IP] = "spoofed-ip",
	[PW_DROP_SPOOFED_MAC] = "spoofed-mac",
	[PW_DROP_BAD_L2] = "bad-l2",
	[PW_DROP_BAD_IP4] = "bad-ipv4",
	[PW_DROP_BAD_IP6] = "bad-ipv6",
	[PW_DROP_BAD_L4] = "bad-l4",
	[PW_DROP_BAD_TCP_FLAGS] = "bad-tcp-flags",
	[PW_DROP_FRAG_NO_FIRST] = "frag-no-first",
	[PW_DROP_FRAG_TOO_SMALL] = "frag-too-small",
	[PW_DROP_FRAG_OVERLAP] = "frag-overlap",
	[PW_DROP_FRAG_DENIED] = "frag-denied",
	[PW_DROP_EXTHDR_CHAIN] = "exthdr-chain",
	[PW_DROP_ICMP_UNRELATED] = "icmp-unrelated",
	[PW_DROP_UNSUPPORTED_L3] = "unsupported-l3",
	[PW_DROP_ND_FROM_POD] = "nd-from-pod",
	[PW_DROP_MAP_FULL] = "map-full",
	[PW_DROP_PREFILTER] = "prefilter",
};

_Static_assert(PW_DROP__MAX < PW_CNT_AUDIT,
	       "drop reasons and the audit counter share counter slots");

const char *pw_drop_reason_name(unsigned int reason)
{
	if (reason < PW_DROP__MAX && drop_reasons[reason])
		return drop_reasons[reason];
	return "unknown";
}

const char *pw_verdict_name(unsigned int verdict)
{
	switch (verdict) {
	case PW_VERDICT_ALLOW:
		return "allowed";
	case PW_VERDICT_DROP:
		return "dropped";
	case PW_VERDICT_AUDIT:
		return "audit";
	}
	return "unknown";
}

const char *pw_event_type_name(unsigned int type)
{
	switch (type) {
	case PW_EV_NEW:
		return "new";
	case PW_EV_DROP:
		return "drop";
	case PW_EV_END:
		return "end";
	}
	return "unknown";
}

const char *pw_dir_name(unsigned int dir)
{
	switch (dir) {
	case PW_DIR_INGRESS:
		return "ingress";
	case PW_DIR_EGRESS:
		return "egress";
	}
	return "none";
}

static const struct {
	const char *name;
	int proto;
} protos[] = {
	{"tcp", IPPROTO_TCP},	    {"udp", IPPROTO_UDP},
	{"sctp", IPPROTO_SCTP},	    {"icmp", IPPROTO_ICMP},
	{"icmpv6", IPPROTO_ICMPV6},
};

const char *pw_proto_name(unsigned int proto, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].proto == (int)proto)
			return protos[i].name;
	snprintf(buf, len, "%u", proto);
	return buf;
}

int pw_proto_parse(const char *s)
{
	unsigned long v;
	char *end;
	size_t i;

	if (!strcasecmp(s, "any"))
		return 0;
	for (i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (!strcasecmp(s, protos[i].name))
			return protos[i].proto;
	v = strtoul(s, &end, 10);
	if (!*s || *end || v > 255)
		return -EINVAL;
	return v;
}

static void tcp_flags_str(__u8 f, char *buf, size_t len)
{
	static const char *const names[] = {"FIN", "SYN", "RST",
					    "PSH", "ACK", "URG"};
	size_t off = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < 6 && off < len; i++) {
		if (!(f & (1 << i)))
			continue;
		off += snprintf(buf + off, len - off, "%s%s", off ? "|" : "",
				names[i]);
	}
}

char *pw_event_json(const struct pw_flow_event *ev)
{
	char a[PW_ADDR_STRLEN], pbuf[8], flags[32];
	cJSON *o = cJSON_CreateObject(), *arr;
	char *out = NULL;

	if (!o)
		return NULL;
	cJSON_AddNumberToObject(o, "time", (double)ev->ts_ns);
	cJSON_AddStringToObject(o, "type", pw_event_type_name(ev->type));
	cJSON_AddStringToObject(o, "verdict", pw_verdict_name(ev->verdict));
	cJSON_AddStringToObject(o, "dir", pw_dir_name(ev->dir));
	cJSON_AddStringToObject(o, "proto",
				pw_proto_name(ev->proto, pbuf, sizeof(pbuf)));
	cJSON_AddStringToObject(o, "src", pw_addr_str(ev->src, a, sizeof(a)));
	cJSON_AddStringToObject(o, "dst", pw_addr_str(ev->dst, a, sizeof(a)));
	cJSON_AddNumberToObject(o, "sport", ntohs(ev->sport));
	cJSON_AddNumberToObject(o, "dport", ntohs(ev->dport));
	tcp_flags_str(ev->tcp_flags, flags, sizeof(flags));
	cJSON_AddStringToObject(o, "tcp_flags", flags);
	cJSON_AddBoolToObject(o, "is_reply", ev->is_reply);
	cJSON_AddStringToObject(o, "reason", pw_drop_reason_name(ev->reason));
	cJSON_AddNumberToObject(o, "ep_id", ev->ep_id);
	cJSON_AddNumberToObject(o, "ifindex", ev->ifindex);
	cJSON_AddNumberToObject(o, "rule_id", ev->rule_id);
	cJSON_AddNumberToObject(o, "peer_id", ev->peer_id);
	if (ev->type == PW_EV_END) {
		arr = cJSON_AddArrayToObject(o, "packets");
		if (arr) {
			cJSON_AddItemToArray(arr,
					     cJSON_CreateNumber(ev->pkts[0]));
			cJSON_AddItemToArray(arr,
					     cJSON_CreateNumber(ev->pkts[1]));
		}
		arr = cJSON_AddArrayToObject(o, "bytes");
		if (arr) {
			cJSON_AddItemToArray(arr,
					     cJSON_CreateNumber(ev->bytes[0]));
			cJSON_AddItemToArray(arr,
					     cJSON_CreateNumber(ev->bytes[1]));
		}
	}
	out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

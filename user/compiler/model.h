/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The policy model: Kubernetes Namespaces, Pods and NetworkPolicies as the
 * compiler sees them, after validation. Pure data; no bpf() or netlink.
 */
#ifndef PW_MODEL_H
#define PW_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

struct pw_label {
	char *key;
	char *value;
};

/* Sorted by key, keys unique. */
struct pw_labels {
	struct pw_label *v;
	int n;
};

enum pw_sel_op {
	PW_SEL_IN,
	PW_SEL_NOT_IN,
	PW_SEL_EXISTS,
	PW_SEL_DOES_NOT_EXIST,
};

struct pw_sel_expr {
	char *key;
	enum pw_sel_op op;
	char **values;
	int nvalues;
};

/* A label selector: matchLabels AND every matchExpression. Empty matches
 * everything. */
struct pw_selector {
	struct pw_labels match;
	struct pw_sel_expr *expr;
	int nexpr;
};

struct pw_cidr {
	__u8 addr[16]; /* IPv4-mapped for IPv4 */
	__u32 plen;    /* in the 128-bit space */
};

struct pw_ipblock {
	struct pw_cidr cidr;
	struct pw_cidr *except;
	int nexcept;
};

/* One entry of from/to. Exactly one of ipblock, or either selector. */
struct pw_peer {
	struct pw_selector *pod_sel; /* NULL: absent */
	struct pw_selector *ns_sel;  /* NULL: absent */
	struct pw_ipblock *ipblock;  /* NULL: absent */
};

struct pw_port {
	__u8 proto;	/* IPPROTO_TCP, _UDP, _SCTP */
	bool any_port;	/* no port given: every port of proto */
	char *name;	/* named port, or NULL */
	__u16 port;	/* numeric port */
	__u16 end_port; /* = port when no endPort */
};

struct pw_rule {
	struct pw_peer *peers;
	int npeers; /* 0: every peer */
	struct pw_port *ports;
	int nports; /* 0: every port and protocol */
};

struct pw_netpol {
	char *ns;
	char *name;
	struct pw_selector pod_sel;
	bool ingress; /* policyTypes, after Kubernetes' defaulting */
	bool egress;
	struct pw_rule *in;
	int nin;
	struct pw_rule *out;
	int nout;
};

struct pw_cport {
	char *name; /* NULL when unnamed */
	__u16 port;
	__u8 proto;
};

#define PW_POD_IPS_MAX 2

struct pw_pod {
	char *ns;
	char *name;
	struct pw_labels labels;
	struct pw_cport *ports;
	int nports;
	__u8 ips[PW_POD_IPS_MAX][16];
	int nips;
	/* runs on another node: a peer only (identity, ipcache), no policy
	 * entries of its own, which only its own node's agent needs */
	bool remote;
};

struct pw_namespace {
	char *name;
	struct pw_labels labels; /* with kubernetes.io/metadata.name */
};

void pw_labels_free(struct pw_labels *l);
const char *pw_labels_get(const struct pw_labels *l, const char *key);
int pw_labels_set(struct pw_labels *l, const char *key, const char *value);
int pw_labels_cmp(const struct pw_labels *a, const struct pw_labels *b);

void pw_selector_free(struct pw_selector *s);
bool pw_selector_matches(const struct pw_selector *s,
			 const struct pw_labels *l);

/* model_equal.c: the same object, field by field */
bool pw_netpol_equal(const struct pw_netpol *a, const struct pw_netpol *b);
bool pw_pod_equal(const struct pw_pod *a, const struct pw_pod *b);
bool pw_namespace_equal(const struct pw_namespace *a,
			const struct pw_namespace *b);

void pw_netpol_free(struct pw_netpol *p);
void pw_pod_free(struct pw_pod *p);
void pw_namespace_free(struct pw_namespace *n);

/* The raw prefix test, families mixed (IPv4 is ::ffff:0:0/96). */
bool pw_prefix_contains(const struct pw_cidr *outer, const __u8 addr[16],
			__u32 plen);
/* Whether the ipBlock prefix @outer holds @addr/@plen: never across
 * address families. */
bool pw_cidr_contains(const struct pw_cidr *outer, const __u8 addr[16],
		      __u32 plen);

#endif /* PW_MODEL_H */

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * rtnetlink through libmnl: a link dump here finds the veths and their
 * peers' namespace ids; per peer namespace, a link dump and an address dump
 * with IFLA/IFA_TARGET_NETNSID read the peer's MAC and addresses without
 * entering the namespace. Those target attributes are only honoured on a
 * socket with NETLINK_GET_STRICT_CHK.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include "cluster.h"
#include "log.h"
#include "podlink.h"

struct veth {
	__u32 ifindex;
	__u32 peer; /* ifindex in the peer's namespace */
	__s32 nsid;
};

struct scan {
	struct veth *v;
	int n, cap;
	struct pw_hidx idx; /* v by (nsid, peer) */
	/* one peer namespace's pass */
	__s32 nsid;
	struct pw_podlink *out;
	int nout;
};

static __u64 peer_hash(__s32 nsid, __u32 peer)
{
	__u64 h = pw_hash_bytes(PW_HASH_SEED, &nsid, sizeof(nsid));

	return pw_hash_bytes(h, &peer, sizeof(peer));
}

struct peer_q {
	const struct scan *sc;
	__s32 nsid;
	__u32 peer;
};

static bool peer_eq(const void *ctx, __u32 pos)
{
	const struct peer_q *q = ctx;

	return q->sc->v[pos].nsid == q->nsid && q->sc->v[pos].peer == q->peer;
}

static int link_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	/* unknown attributes are skipped: newer kernels add them */
	if (mnl_attr_type_valid(a, IFLA_MAX) > 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static int info_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFLA_INFO_MAX) > 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static bool is_veth(const struct nlattr *linkinfo)
{
	const struct nlattr *tb[IFLA_INFO_MAX + 1] = {};

	if (!linkinfo || mnl_attr_parse_nested(linkinfo, info_attr, tb) < 0 ||
	    !tb[IFLA_INFO_KIND])
		return false;
	return !strcmp(mnl_attr_get_str(tb[IFLA_INFO_KIND]), "veth");
}

/* This namespace's veths whose peer is elsewhere. */
static int veth_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {};
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct scan *sc = data;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifm), link_attr, tb);
	if (!is_veth(tb[IFLA_LINKINFO]) || !tb[IFLA_LINK] ||
	    !tb[IFLA_LINK_NETNSID])
		return MNL_CB_OK;
	if (sc->n == sc->cap) {
		int cap = sc->cap ? sc->cap * 2 : 16;
		struct veth *v = realloc(sc->v, cap * sizeof(*v));

		if (!v)
			return MNL_CB_ERROR;
		sc->v = v;
		sc->cap = cap;
	}
	sc->v[sc->n].ifindex = ifm->ifi_index;
	sc->v[sc->n].peer = mnl_attr_get_u32(tb[IFLA_LINK]);
	sc->v[sc->n].nsid = (__s32)mnl_attr_get_u32(tb[IFLA_LINK_NETNSID]);
	sc->n++;
	return MNL_CB_OK;
}

/* The podlink for peer ifindex @peer of the namespace being read: by
 * index, as a node with thousands of pods dumps thousands of peers. */
static struct pw_podlink *find_out(struct scan *sc, __u32 peer)
{
	struct peer_q q = {sc, sc->nsid, peer};
	int at = pw_hidx_find(&sc->idx, peer_hash(sc->nsid, peer), peer_eq, &q);

	return at < 0 ? NULL : &sc->out[at];
}

static int peer_link_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFLA_MAX + 1] = {};
	struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	struct scan *sc = data;
	struct pw_podlink *pl;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	pl = find_out(sc, ifm->ifi_index);
	if (!pl)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifm), link_attr, tb);
	if (tb[IFLA_ADDRESS] && mnl_attr_get_payload_len(tb[IFLA_ADDRESS]) == 6)
		memcpy(pl->mac, mnl_attr_get_payload(tb[IFLA_ADDRESS]), 6);
	return MNL_CB_OK;
}

static int addr_attr(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, IFA_MAX) > 0)
		tb[type] = a;
	return MNL_CB_OK;
}

static int peer_addr_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[IFA_MAX + 1] = {};
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct scan *sc = data;
	const struct nlattr *a;
	struct pw_podlink *pl;
	__u8 *dst;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return MNL_CB_OK;
	pl = find_out(sc, ifa->ifa_index);
	if (pl && ifa->ifa_family == AF_INET6 &&
	    ifa->ifa_scope == RT_SCOPE_LINK && !pl->has_ll6) {
		/* tentative or not: it is the pod's once configured */
		mnl_attr_parse(nlh, sizeof(*ifa), addr_attr, tb);
		a = tb[IFA_ADDRESS];
		if (a && mnl_attr_get_payload_len(a) == 16) {
			memcpy(pl->ll6, mnl_attr_get_payload(a), 16);
			pl->has_ll6 = true;
		}
		return MNL_CB_OK;
	}
	if (ifa->ifa_scope != RT_SCOPE_UNIVERSE)
		return MNL_CB_OK;
	if (!pl || pl->naddrs == PW_PODLINK_ADDRS_MAX)
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr, tb);
	/* IFA_LOCAL is the address itself on point-to-point links */
	a = tb[IFA_LOCAL] ?: tb[IFA_ADDRESS];
	if (!a)
		return MNL_CB_OK;
	dst = pl->addrs[pl->naddrs];
	if (ifa->ifa_family == AF_INET && mnl_attr_get_payload_len(a) == 4) {
		memset(dst, 0, 10);
		dst[10] = dst[11] = 0xff;
		memcpy(dst + 12, mnl_attr_get_payload(a), 4);
	} else if (ifa->ifa_family == AF_INET6 &&
		   mnl_attr_get_payload_len(a) == 16) {
		memcpy(dst, mnl_attr_get_payload(a), 16);
	} else {
		return MNL_CB_OK;
	}
	pl->naddrs++;
	return MNL_CB_OK;
}

/* One dump request and its replies. */
static int dump(struct mnl_socket *nl, __u16 type, __s32 nsid, mnl_cb_t cb,
		void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned int seq = time(NULL), portid = mnl_socket_get_portid(nl);
	int ret;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (type == RTM_GETLINK) {
		mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
		/* no statistics: they are most of each message, and none of
		 * them is read here */
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
		if (nsid >= 0)
			mnl_attr_put_u32(nlh, IFLA_TARGET_NETNSID, nsid);
	} else {
		mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifaddrmsg));
		if (nsid >= 0)
			mnl_attr_put_u32(nlh, IFA_TARGET_NETNSID, nsid);
	}
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	while ((ret = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, ret, seq, portid, cb, data);
		if (ret <= MNL_CB_STOP)
			break;
	}
	return ret < 0 ? -errno : 0;
}

static int nsid_cmp(const void *a, const void *b)
{
	__s32 x = *(const __s32 *)a, y = *(const __s32 *)b;

	return (x > y) - (x < y);
}

static int open_nl(struct mnl_socket **out)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	int one = 1, err;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(nl, NETLINK_GET_STRICT_CHK, &one,
				  sizeof(one)) < 0) {
		err = -errno;
		mnl_socket_close(nl);
		return err;
	}
	*out = nl;
	return 0;
}

/* Each peer namespace of sc->v once: its links (the peers' MACs; only
 * with @links) and its addresses, into sc->out. */
static int read_peers(struct mnl_socket *nl, struct scan *sc, bool links)
{
	__s32 *nsids;
	int i, err = 0;

	nsids = calloc(sc->n ?: 1, sizeof(*nsids));
	if (!nsids || pw_hidx_reserve(&sc->idx, sc->n)) {
		free(nsids);
		return -ENOMEM;
	}
	for (i = 0; i < sc->n; i++) {
		pw_hidx_add(&sc->idx, peer_hash(sc->v[i].nsid, sc->v[i].peer),
			    i);
		nsids[i] = sc->v[i].nsid;
	}
	qsort(nsids, sc->n, sizeof(*nsids), nsid_cmp);
	for (i = 0; !err && i < sc->n; i++) {
		if (i && nsids[i] == nsids[i - 1])
			continue;
		sc->nsid = nsids[i];
		if (links)
			err = dump(nl, RTM_GETLINK, sc->nsid, peer_link_cb, sc);
		err = err ?: dump(nl, RTM_GETADDR, sc->nsid, peer_addr_cb, sc);
		if (err && err != -EINTR)
			pr_warn("podlink: read peer namespace %d: %s\n",
				sc->nsid, strerror(-err));
	}
	free(nsids);
	return err;
}

static int scan_once(struct pw_podlink **out, int *n)
{
	struct scan sc = {};
	struct mnl_socket *nl;
	int i, err;

	*out = NULL;
	*n = 0;
	err = open_nl(&nl);
	if (err)
		return err;
	err = dump(nl, RTM_GETLINK, -1, veth_cb, &sc);
	if (err)
		goto out;
	sc.out = calloc(sc.n ?: 1, sizeof(*sc.out));
	if (!sc.out) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < sc.n; i++) {
		sc.out[i].ifindex = sc.v[i].ifindex;
		sc.out[i].nsid = sc.v[i].nsid;
		sc.out[i].peer = sc.v[i].peer;
	}
	err = read_peers(nl, &sc, true);
	if (err)
		goto out;
	*out = sc.out;
	*n = sc.n;
	sc.out = NULL;
out:
	free(sc.out);
	free(sc.v);
	pw_hidx_free(&sc.idx);
	mnl_socket_close(nl);
	return err;
}

static int readdr_once(struct pw_podlink *pl, int n)
{
	struct scan sc = {.out = pl, .n = n};
	struct mnl_socket *nl;
	int i, err;

	sc.v = calloc(n ?: 1, sizeof(*sc.v));
	if (!sc.v)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		sc.v[i] = (struct veth){pl[i].ifindex, pl[i].peer, pl[i].nsid};
		pl[i].naddrs = 0;
		pl[i].has_ll6 = false;
	}
	err = open_nl(&nl);
	if (!err) {
		err = read_peers(nl, &sc, false);
		mnl_socket_close(nl);
	}
	free(sc.v);
	pw_hidx_free(&sc.idx);
	return err;
}

int pw_podlink_readdr(struct pw_podlink *pl, int n)
{
	int tries, err;

	for (tries = 0; tries < 5; tries++) {
		err = readdr_once(pl, n);
		if (err != -EINTR)
			break;
	}
	return err;
}

/*
 * A dump the kernel interrupted because the table changed under it
 * (NLM_F_DUMP_INTR, which libmnl returns as EINTR: a pod's address or
 * link coming up meanwhile, common on a busy node) is read again, from
 * the start, a few times.
 */
int pw_podlink_scan(struct pw_podlink **out, int *n)
{
	int tries, err;

	for (tries = 0; tries < 5; tries++) {
		err = scan_once(out, n);
		if (err != -EINTR)
			break;
	}
	return err;
}

/*
 * Bind every compiled pod whose address sits on the far side of one of
 * this namespace's veths to that veth. An address found behind two veths
 * binds neither: one of them is lying.
 */
struct by_ifindex {
	__u32 ifindex;
	int at;
};

static int by_ifindex_cmp(const void *a, const void *b)
{
	const struct by_ifindex *x = a, *y = b;

	return x->ifindex < y->ifindex ? -1 : x->ifindex > y->ifindex;
}

/* A peer's address, the veth it is behind, and behind how many veths it
 * is in all (sorted by address, then veth). */
struct addr_at {
	__u8 addr[16];
	int at;
	int nveths;
};

static int addr_at_cmp(const void *a, const void *b)
{
	const struct addr_at *x = a, *y = b;
	int c = memcmp(x->addr, y->addr, 16);

	return c ?: (x->at > y->at) - (x->at < y->at);
}

static int addr_only_cmp(const void *a, const void *b)
{
	return memcmp(((const struct addr_at *)a)->addr,
		      ((const struct addr_at *)b)->addr, 16);
}

int pw_podlink_match(const struct pw_podlink *pl, int npl,
		     const struct pw_compiled *co, struct pw_binding *binds,
		     int *nb, int max)
{
	struct addr_at *aa;
	struct by_ifindex *ord;
	int i, j, k, na = 0, first = *nb;
	bool *dup;

	for (j = 0; j < npl; j++)
		na += pl[j].naddrs;
	aa = calloc(na ?: 1, sizeof(*aa));
	if (!aa)
		return -ENOMEM;
	for (j = 0, na = 0; j < npl; j++)
		for (k = 0; k < pl[j].naddrs; k++) {
			memcpy(aa[na].addr, pl[j].addrs[k], 16);
			aa[na++].at = j;
		}
	qsort(aa, na, sizeof(*aa), addr_at_cmp);
	/* each run of one address: how many veths (sorted, so distinct ones
	 * are neighbours) */
	for (i = 0; i < na; i = j) {
		int nv = 1;

		for (j = i + 1; j < na && !memcmp(aa[j].addr, aa[i].addr, 16);
		     j++)
			if (aa[j].at != aa[j - 1].at)
				nv++;
		for (k = i; k < j; k++)
			aa[k].nveths = nv;
	}
	for (i = 0; i < co->neps; i++) {
		const struct pw_out_ep *ep = &co->eps[i];
		const __u8 *want[2] = {
			ep->flags & PW_EP_F_HAS_IP4 ? ep->ip4 : NULL,
			ep->flags & PW_EP_F_HAS_IP6 ? ep->ip6 : NULL,
		};
		int found = -1, hits = 0;

		for (k = 0; k < 2; k++) {
			struct addr_at key, *e;

			if (!want[k] || !na)
				continue;
			memcpy(key.addr, want[k], 16);
			e = bsearch(&key, aa, na, sizeof(key), addr_only_cmp);
			if (!e)
				continue;
			if (e->nveths > 1) {
				hits += e->nveths;
				continue;
			}
			if (found != e->at)
				hits++;
			found = e->at;
		}
		if (hits > 1)
			pr_warn("podlink: %s/%s's address is behind %d "
				"veths;"
				" not binding it\n",
				ep->ns, ep->name, hits);
		if (hits != 1)
			continue;
		if (*nb == max) {
			free(aa);
			return -E2BIG;
		}
		memset(&binds[*nb], 0, sizeof(binds[*nb]));
		binds[*nb].ns = ep->ns;
		binds[*nb].name = ep->name;
		binds[*nb].ifindex = pl[found].ifindex;
		memcpy(binds[*nb].mac, pl[found].mac, 6);
		binds[*nb].has_mac = true;
		memcpy(binds[*nb].ll6, pl[found].ll6, 16);
		binds[*nb].has_ll6 = pl[found].has_ll6;
		(*nb)++;
	}
	free(aa);
	/* two pods behind one veth: neither is bound (the endpoint entry is
	 * per veth; which pod it stood for would be a guess). Sorted by
	 * ifindex, so that thousands of pods cost n log n, not n^2. */
	dup = calloc(*nb - first + 1, sizeof(*dup));
	ord = calloc(*nb - first + 1, sizeof(*ord));
	if (!dup || !ord) {
		free(dup);
		free(ord);
		return -ENOMEM;
	}
	for (i = first; i < *nb; i++)
		ord[i - first] =
			(struct by_ifindex){binds[i].ifindex, i - first};
	qsort(ord, *nb - first, sizeof(*ord), by_ifindex_cmp);
	for (i = 1; i < *nb - first; i++)
		if (ord[i].ifindex == ord[i - 1].ifindex)
			dup[ord[i].at] = dup[ord[i - 1].at] = true;
	free(ord);
	for (i = k = first; i < *nb; i++) {
		if (dup[i - first]) {
			pr_warn("podlink: %s/%s shares its veth (ifindex %u) "
				"with another pod; not binding it\n",
				binds[i].ns, binds[i].name, binds[i].ifindex);
			continue;
		}
		binds[k++] = binds[i];
	}
	*nb = k;
	free(dup);
	return 0;
}

int pw_podlink_bind(const struct pw_compiled *co, struct pw_binding *binds,
		    int *nb, int max)
{
	struct pw_podlink *pl;
	int npl, err;

	err = pw_podlink_scan(&pl, &npl);
	if (err) {
		pr_warn("podlink: read veths: %s\n", strerror(-err));
		return err;
	}
	err = pw_podlink_match(pl, npl, co, binds, nb, max);
	free(pl);
	return err;
}

int pw_podlink_fill_ll6(struct pw_binding *binds, int nb)
{
	struct pw_podlink *pl;
	int i, j, n, err = pw_podlink_scan(&pl, &n);

	if (err)
		return err;
	for (i = 0; i < nb; i++)
		for (j = 0; j < n; j++)
			if (!binds[i].has_ll6 &&
			    pl[j].ifindex == binds[i].ifindex &&
			    pl[j].has_ll6) {
				memcpy(binds[i].ll6, pl[j].ll6, 16);
				binds[i].has_ll6 = true;
			}
	free(pl);
	return 0;
}

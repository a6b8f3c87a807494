// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * rtnetlink through libmnl: a link dump here finds the veths and their
 * peers' namespace ids; per peer namespace, a link dump and an address dump
 * with IFLA/IFA_TARGET_NETNSID read the peer's MAC and addresses without
 * entering the namespace. Those target attributes are only honoured on a
 * socket with NETLINK_GET_STRICT_CHK.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>
#include <sys/stat.h>
#include "cluster.h"
#include "log.h"
#include "podlink.h"
#include "rtnl.h"

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
	if (!pw_rtnl_ifa_addr(nlh, pl->addrs[pl->naddrs]))
		return MNL_CB_OK;
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
 * A namespace's id as this one numbers it, from its nsfs path. The ids of
 * namespaces our veths lead to exist already: the link dump assigned them.
 * Kept between calls by path, and trusted while the path still names the
 * same namespace (an nsfs mount holds it alive, so its id cannot change).
 */
struct nsid_ent {
	char *path;
	dev_t dev;
	ino_t ino;
	__s32 nsid;
};

struct pw_nsid_cache {
	struct nsid_ent *v; /* sorted by path */
	int n;
};

void pw_nsid_cache_free(struct pw_nsid_cache *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		free(c->v[i].path);
	free(c->v);
	free(c);
}

static int nsid_ent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct nsid_ent *)a)->path,
		      ((const struct nsid_ent *)b)->path);
}

static int nsid_attr(const struct nlattr *a, void *data)
{
	if (mnl_attr_get_type(a) == NETNSA_NSID &&
	    mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
		*(__s32 *)data = (__s32)mnl_attr_get_u32(a);
	return MNL_CB_OK;
}

static int nsid_cb(const struct nlmsghdr *nlh, void *data)
{
	if (nlh->nlmsg_type == RTM_NEWNSID)
		mnl_attr_parse(nlh, sizeof(struct rtgenmsg), nsid_attr, data);
	return MNL_CB_OK;
}

static int nsid_ask(struct mnl_socket *nl, int fd, __s32 *nsid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	unsigned int seq = time(NULL), portid = mnl_socket_get_portid(nl);
	struct rtgenmsg *g;
	int ret;

	nlh->nlmsg_type = RTM_GETNSID;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->rtgen_family = AF_UNSPEC;
	mnl_attr_put_u32(nlh, NETNSA_FD, fd);
	*nsid = -1;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	ret = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (ret < 0)
		return -errno;
	ret = mnl_cb_run(buf, ret, seq, portid, nsid_cb, nsid);
	return ret < 0 ? -errno : 0;
}

struct nsid_ctx {
	struct pw_nsid_cache *old;
	struct pw_nsid_cache now; /* what this call found, becomes the cache */
	int cap;
	struct mnl_socket *nl;
};

/* 0 and *nsid (-1: no veth of ours leads there, yet), or -errno when the
 * path cannot be read from here: the caller falls back to addresses. */
static int nsid_lookup(struct nsid_ctx *nc, const char *path, __s32 *nsid)
{
	struct nsid_ent key = {.path = (char *)path}, *e, *v;
	struct stat st;
	int fd, err;

	if (stat(path, &st))
		return -errno;
	/* an nsfs file is a regular one; never block on a FIFO put there */
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	e = nc->old && nc->old->n ? bsearch(&key, nc->old->v, nc->old->n,
					    sizeof(*e), nsid_ent_cmp)
				  : NULL;
	if (e && e->dev == st.st_dev && e->ino == st.st_ino) {
		*nsid = e->nsid;
	} else {
		if (!nc->nl) {
			nc->nl = mnl_socket_open(NETLINK_ROUTE);
			if (!nc->nl)
				return -errno;
			if (mnl_socket_bind(nc->nl, 0, MNL_SOCKET_AUTOPID) <
			    0) {
				err = -errno;
				mnl_socket_close(nc->nl);
				nc->nl = NULL;
				return err;
			}
		}
		fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		err = nsid_ask(nc->nl, fd, nsid);
		close(fd);
		if (err)
			return err;
	}
	/* Not kept without an id: one is given once a veth leads there. */
	if (*nsid < 0)
		return 0;
	/* into this call's set; sorted once at the end */
	if (nc->now.n == nc->cap) {
		int cap = nc->cap ? nc->cap * 2 : 16;

		v = realloc(nc->now.v, cap * sizeof(*v));
		if (!v)
			return 0; /* not kept: asked again next time */
		nc->now.v = v;
		nc->cap = cap;
	}
	v = nc->now.v;
	key.path = strdup(path);
	if (!key.path)
		return 0;
	key.dev = st.st_dev;
	key.ino = st.st_ino;
	key.nsid = *nsid;
	v[nc->now.n++] = key;
	return 0;
}

static bool holds(const struct pw_podlink *pl, const struct pw_out_ep *ep)
{
	int k;

	for (k = 0; k < pl->naddrs; k++)
		if (((ep->flags & PW_EP_F_HAS_IP4) &&
		     !memcmp(pl->addrs[k], ep->ip4, 16)) ||
		    ((ep->flags & PW_EP_F_HAS_IP6) &&
		     !memcmp(pl->addrs[k], ep->ip6, 16)))
			return true;
	return false;
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

struct ns_at {
	__s32 nsid;
	int at;
};

static int ns_at_cmp(const void *a, const void *b)
{
	const struct ns_at *x = a, *y = b;

	return (x->nsid > y->nsid) - (x->nsid < y->nsid);
}

/*
 * The veth into namespace @nsid for @ep: the only one there, or of several
 * the one that holds its address; -1 for none (*hits: how many held it).
 * A pod that drops its address stays bound to its one veth, and its
 * packets stay judged.
 */
static int veth_in_ns(const struct pw_podlink *pl, const struct ns_at *ns,
		      int nns, __s32 nsid, const struct pw_out_ep *ep,
		      int *hits)
{
	struct ns_at key = {.nsid = nsid}, *e;
	int lo, hi, k, found = -1;

	*hits = 0;
	e = nns ? bsearch(&key, ns, nns, sizeof(key), ns_at_cmp) : NULL;
	if (!e)
		return -1;
	for (lo = e - ns; lo > 0 && ns[lo - 1].nsid == nsid; lo--)
		;
	for (hi = e - ns + 1; hi < nns && ns[hi].nsid == nsid; hi++)
		;
	if (hi - lo == 1) {
		*hits = 1;
		return ns[lo].at;
	}
	for (k = lo; k < hi; k++)
		if (holds(&pl[ns[k].at], ep)) {
			(*hits)++;
			found = ns[k].at;
		}
	return *hits == 1 ? found : -1;
}

int pw_podlink_match(const struct pw_podlink *pl, int npl,
		     const struct pw_compiled *co, struct pw_podlink_hints *h,
		     struct pw_binding *binds, int *nb, int max)
{
	struct nsid_ctx nc = {.old = h ? h->cache : NULL};
	struct addr_at *aa;
	struct ns_at *ns;
	struct by_ifindex *ord;
	int i, j, k, na = 0, first = *nb, err = 0;
	bool *dup;

	for (j = 0; j < npl; j++)
		na += pl[j].naddrs;
	aa = calloc(na ?: 1, sizeof(*aa));
	ns = calloc(npl ?: 1, sizeof(*ns));
	if (!aa || !ns) {
		free(aa);
		free(ns);
		return -ENOMEM;
	}
	for (j = 0, na = 0; j < npl; j++) {
		ns[j] = (struct ns_at){pl[j].nsid, j};
		for (k = 0; k < pl[j].naddrs; k++) {
			memcpy(aa[na].addr, pl[j].addrs[k], 16);
			aa[na++].at = j;
		}
	}
	qsort(aa, na, sizeof(*aa), addr_at_cmp);
	qsort(ns, npl, sizeof(*ns), ns_at_cmp);
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
		const char *path = NULL;
		int found = -1, hits = 0;
		__s32 nsid = -1;
		bool by_ns = false;

		if (h && h->netns)
			path = h->netns(h->ctx, ep->ns, ep->name);
		if (path) {
			int e = nsid_lookup(&nc, path, &nsid);

			if (e)
				pr_debug("podlink: %s/%s: netns %s: %s; by "
					 "address\n",
					 ep->ns, ep->name, path, strerror(-e));
			by_ns = !e;
		}
		if (by_ns) {
			found = veth_in_ns(pl, ns, npl, nsid, ep, &hits);
		} else {
			for (k = 0; k < 2; k++) {
				struct addr_at key, *e;

				if (!want[k] || !na)
					continue;
				memcpy(key.addr, want[k], 16);
				e = bsearch(&key, aa, na, sizeof(key),
					    addr_only_cmp);
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
			if (hits != 1)
				found = -1;
		}
		if (hits > 1)
			pr_warn("podlink: %s/%s's address is behind %d "
				"veths%s; not binding it\n",
				ep->ns, ep->name, hits,
				by_ns ? " into its namespace" : "");
		if (found < 0)
			continue;
		if (*nb == max) {
			err = -E2BIG;
			goto out;
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
	/* two pods behind one veth: neither is bound (the endpoint entry is
	 * per veth; which pod it stood for would be a guess). Sorted by
	 * ifindex, so that thousands of pods cost n log n, not n^2. */
	dup = calloc(*nb - first + 1, sizeof(*dup));
	ord = calloc(*nb - first + 1, sizeof(*ord));
	if (!dup || !ord) {
		free(dup);
		free(ord);
		err = -ENOMEM;
		goto out;
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
out:
	free(aa);
	free(ns);
	if (nc.nl)
		mnl_socket_close(nc.nl);
	/* what this call found replaces the cache: paths gone drop out */
	if (nc.now.n)
		qsort(nc.now.v, nc.now.n, sizeof(*nc.now.v), nsid_ent_cmp);
	for (i = k = 0; i < nc.now.n; i++) {
		if (k && !strcmp(nc.now.v[k - 1].path, nc.now.v[i].path)) {
			free(nc.now.v[i].path);
			continue;
		}
		nc.now.v[k++] = nc.now.v[i];
	}
	nc.now.n = k;
	if (h && !err && !h->cache)
		h->cache = calloc(1, sizeof(*h->cache));
	if (h && !err && h->cache) {
		for (i = 0; i < h->cache->n; i++)
			free(h->cache->v[i].path);
		free(h->cache->v);
		*h->cache = nc.now;
	} else {
		for (i = 0; i < nc.now.n; i++)
			free(nc.now.v[i].path);
		free(nc.now.v);
	}
	return err;
}

int pw_podlink_bind(const struct pw_compiled *co, struct pw_podlink_hints *h,
		    struct pw_binding *binds, int *nb, int max)
{
	struct pw_podlink *pl;
	int npl, err;

	err = pw_podlink_scan(&pl, &npl);
	if (err) {
		pr_warn("podlink: read veths: %s\n", strerror(-err));
		return err;
	}
	err = pw_podlink_match(pl, npl, co, h, binds, nb, max);
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

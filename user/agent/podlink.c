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
	/* one peer namespace's pass */
	__s32 nsid;
	struct pw_podlink *out;
	int nout;
};

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

/* The podlink for peer ifindex @peer of the namespace being read. */
static struct pw_podlink *find_out(struct scan *sc, __u32 peer)
{
	int i;

	for (i = 0; i < sc->n; i++)
		if (sc->v[i].nsid == sc->nsid && sc->v[i].peer == peer)
			return &sc->out[i];
	return NULL;
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

static int scan_once(struct pw_podlink **out, int *n)
{
	struct scan sc = {};
	struct mnl_socket *nl;
	int i, j, one = 1, err;

	*out = NULL;
	*n = 0;
	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
	    mnl_socket_setsockopt(nl, NETLINK_GET_STRICT_CHK, &one,
				  sizeof(one)) < 0) {
		err = -errno;
		goto out;
	}
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
	}
	/* each peer namespace once */
	for (i = 0; i < sc.n; i++) {
		for (j = 0; j < i; j++)
			if (sc.v[j].nsid == sc.v[i].nsid)
				break;
		if (j < i)
			continue;
		sc.nsid = sc.v[i].nsid;
		err = dump(nl, RTM_GETLINK, sc.nsid, peer_link_cb, &sc);
		err = err ?: dump(nl, RTM_GETADDR, sc.nsid, peer_addr_cb, &sc);
		if (err) {
			pr_warn("podlink: read peer namespace %d: %s\n",
				sc.nsid, strerror(-err));
			goto out;
		}
	}
	*out = sc.out;
	*n = sc.n;
	sc.out = NULL;
out:
	free(sc.out);
	free(sc.v);
	mnl_socket_close(nl);
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
 * The veth for @ep: with its namespace known (@nsid >= 0), the one veth
 * leading there, or of several the one that holds its address; otherwise
 * the one veth whose far side holds its address. -1 for none, with *hits
 * the number of candidates that matched.
 */
static int find_veth(const struct pw_podlink *pl, int npl,
		     const struct pw_out_ep *ep, bool by_ns, __s32 nsid,
		     int *hits)
{
	int j, in_ns = 0, last_ns = -1, found = -1;

	*hits = 0;
	for (j = 0; j < npl; j++) {
		if (by_ns) {
			if (pl[j].nsid != nsid)
				continue;
			in_ns++;
			last_ns = j;
		}
		if (holds(&pl[j], ep)) {
			(*hits)++;
			found = j;
		}
	}
	/* the pod's one veth, whatever addresses it shows now: a pod that
	 * drops its address stays bound, and its packets stay judged */
	if (by_ns && in_ns == 1) {
		*hits = 1;
		return last_ns;
	}
	return *hits == 1 ? found : -1;
}

/*
 * Bind every compiled pod to its veth. A pod with two veths, or a veth
 * with two pods, binds neither: which one is right would be a guess.
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

int pw_podlink_bind(const struct pw_compiled *co, struct pw_podlink_hints *h,
		    struct pw_binding *binds, int *nb, int max)
{
	struct nsid_ctx nc = {.old = h ? h->cache : NULL};
	struct by_ifindex *ord;
	struct pw_podlink *pl;
	int i, k, npl, err, first = *nb;
	bool *dup;

	err = pw_podlink_scan(&pl, &npl);
	if (err) {
		pr_warn("podlink: read veths: %s\n", strerror(-err));
		return err;
	}
	for (i = 0; i < co->neps; i++) {
		const struct pw_out_ep *ep = &co->eps[i];
		const char *path = NULL;
		__s32 nsid = -1;
		bool by_ns = false;
		int found, hits;

		if (h && h->netns)
			path = h->netns(h->ctx, ep->ns, ep->name);
		if (path) {
			err = nsid_lookup(&nc, path, &nsid);
			if (err)
				pr_debug("podlink: %s/%s: netns %s: %s; by "
					 "address\n",
					 ep->ns, ep->name, path,
					 strerror(-err));
			by_ns = !err;
		}
		found = find_veth(pl, npl, ep, by_ns, nsid, &hits);
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
	err = 0;
out:
	free(pl);
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

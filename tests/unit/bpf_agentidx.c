// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The agent's indexes, without a kernel: pods matched to the veths of a
 * link scan by address (pw_podlink_match), and the object set's deltas
 * (`podwall apply` without reading every source) against a full replace.
 * Here because test_bpf is the test binary that links the agent.
 */
#include <errno.h>
#include <string.h>
#include "../../user/agent/objset.h"
#include "../../user/agent/podlink.h"
#include "addr.h"
#include "testlib.h"

static void link_at(struct pw_podlink *l, __u32 ifindex, const char *a1,
		    const char *a2)
{
	memset(l, 0, sizeof(*l));
	l->ifindex = ifindex;
	l->mac[5] = ifindex;
	if (a1)
		pw_addr_parse(a1, l->addrs[l->naddrs++]);
	if (a2)
		pw_addr_parse(a2, l->addrs[l->naddrs++]);
}

static void ep_at(struct pw_out_ep *e, const char *name, const char *ip4,
		  const char *ip6)
{
	memset(e, 0, sizeof(*e));
	e->ns = "t";
	e->name = name;
	if (ip4 && !pw_addr_parse(ip4, e->ip4))
		e->flags |= PW_EP_F_HAS_IP4;
	if (ip6 && !pw_addr_parse(ip6, e->ip6))
		e->flags |= PW_EP_F_HAS_IP6;
}

static __u32 bound_to(const struct pw_binding *b, int nb, const char *name)
{
	int i;

	for (i = 0; i < nb; i++)
		if (!strcmp(b[i].name, name))
			return b[i].ifindex;
	return 0;
}

PW_TEST(agentidx_podlink_match)
{
	struct pw_podlink l[6];
	struct pw_out_ep e[7];
	struct pw_compiled co = {.eps = e, .neps = 7};
	struct pw_binding b[7];
	int nb = 0;

	link_at(&l[0], 10, "10.1.0.1", NULL);
	link_at(&l[1], 11, "10.1.0.2", "fd00::2");
	link_at(&l[2], 12, "10.1.0.3", NULL);
	link_at(&l[3], 13, "10.1.0.3", NULL); /* the same address again */
	link_at(&l[4], 14, "10.1.0.5", "10.1.0.6");
	link_at(&l[5], 15, "10.1.0.7", NULL);
	ep_at(&e[0], "one", "10.1.0.1", NULL);
	ep_at(&e[1], "dual", "10.1.0.2", "fd00::2");
	ep_at(&e[2], "twice", "10.1.0.3", NULL);
	ep_at(&e[3], "nowhere", "10.9.0.1", NULL);
	ep_at(&e[4], "share-a", "10.1.0.5", NULL);
	ep_at(&e[5], "share-b", "10.1.0.6", NULL);
	ep_at(&e[6], "split", "10.1.0.7", "fd00::2"); /* veths 15 and 11 */
	ASSERT_OK(pw_podlink_match(l, 6, &co, NULL, b, &nb, 7), "match");
	ASSERT_EQ(bound_to(b, nb, "one"), 10, "one address");
	ASSERT_EQ(bound_to(b, nb, "dual"), 11, "two addresses, one veth");
	ASSERT_EQ(bound_to(b, nb, "twice"), 0, "behind two veths: neither");
	ASSERT_EQ(bound_to(b, nb, "nowhere"), 0, "behind no veth");
	ASSERT_EQ(bound_to(b, nb, "share-a") + bound_to(b, nb, "share-b"), 0,
		  "two pods behind one veth: neither");
	ASSERT_EQ(bound_to(b, nb, "split"), 0, "its addresses on two veths");
	ASSERT_EQ(nb, 2, "bindings");
	ASSERT_EQ(b[0].mac[5], 10, "the peer's MAC comes along");
	nb = 0;
	ASSERT_EQ(pw_podlink_match(l, 6, &co, NULL, b, &nb, 1), -E2BIG,
		  "more than max");
	return true;
}

static int load(const char *text, struct pw_objects *o)
{
	char err[PW_ERR_LEN];

	return pw_manifest_load_buf(text, strlen(text), "test", o, err,
				    sizeof(err));
}

#define POD(name, ip, app)                                                \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":" \
	"\"" name "\",\"namespace\":\"t\",\"labels\":{\"app\":\"" app     \
	"\"}},\"status\":{\"podIP\":\"" ip "\"}}"
#define LIST(items) \
	"{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[" items "]}"
#define POLICY(name, app, port)                                                \
	"{\"apiVersion\":\"networking.k8s.io/v1\",\"kind\":\"NetworkPolicy\"," \
	"\"metadata\":{\"name\":\"" name "\",\"namespace\":\"t\"},"            \
	"\"spec\":{\"podSelector\":{\"matchLabels\":{\"app\":\"" app "\"}},"   \
	"\"ingress\":[{\"ports\":[{\"port\":" port "}]}]}}"

static bool same_compile(struct pw_cluster *x, struct pw_cluster *y)
{
	struct pw_compiled a, b;
	char err[PW_ERR_LEN];
	bool same;

	if (pw_compile(x, &a, err, sizeof(err)))
		return false;
	if (pw_compile(y, &b, err, sizeof(err))) {
		pw_compiled_free(&a);
		return false;
	}
	same = a.neps == b.neps && a.npol == b.npol && a.nipc == b.nipc &&
	       !memcmp(a.pol, b.pol, a.npol * sizeof(*a.pol));
	pw_compiled_free(&a);
	pw_compiled_free(&b);
	return same;
}

PW_TEST(agentidx_objset_delta_as_full)
{
	struct pw_cluster *c = NULL, *full = NULL;
	struct pw_objset *s = NULL, *sf = NULL;
	struct pw_objects o = {}, of = {};
	int owner[3] = {0, 1, 1}, ownf[3] = {0, 1, 1}, who = -1;
	bool ok = false;

	if (pw_cluster_new(&c) || pw_cluster_new(&full) || pw_objset_new(&s) ||
	    pw_objset_new(&sf))
		goto out;
	/* source 0 gives web; source 1 gives web too, and db */
	ASSERT_OK(load(LIST(POD("web", "10.0.0.1", "web") "," POD(
			       "web", "10.0.0.1",
			       "web") "," POD("db", "10.0.0.2", "db")),
		       &o),
		  "objects");
	ASSERT_OK(pw_objset_replace(s, c, &o, owner), "replace");
	ASSERT_EQ(pw_objset_owner(s, PW_KIND_POD, "t", "db", &who), 0, "db");
	ASSERT_EQ(who, 1, "db's source");
	ASSERT_EQ(pw_objset_owner(s, PW_KIND_POD, "t", "web", &who), -EEXIST,
		  "two sources give web");
	ASSERT_EQ(pw_objset_owner(s, PW_KIND_NETPOL, "t", "p", &who), -ENOENT,
		  "no such policy");
	/* a policy in as a delta, then changed, then a pod removed */
	ASSERT_OK(load(POLICY("p", "db", "5432"), &o), "policy");
	ASSERT_OK(pw_objset_add(s, c, &o, 1), "add");
	ASSERT_EQ(pw_objset_owner(s, PW_KIND_NETPOL, "t", "p", &who), 0,
		  "the policy is tracked");
	ASSERT_EQ(who, 1, "as the given source's");
	ASSERT_OK(load(POLICY("p", "db", "5433"), &o), "policy changed");
	ASSERT_OK(pw_objset_add(s, c, &o, 1), "change");
	ASSERT_OK(pw_objset_remove(s, c, PW_KIND_POD, "t", "db"), "remove");
	ASSERT_EQ(pw_objset_remove(s, c, PW_KIND_POD, "t", "db"), -ENOENT,
		  "removed once");
	/* the same end state by a full replace */
	ASSERT_OK(load(LIST(POD("web", "10.0.0.1", "web") "," POLICY("p", "db",
								     "5433")),
		       &of),
		  "full objects");
	ASSERT_OK(pw_objset_replace(sf, full, &of, ownf), "full replace");
	ASSERT_TRUE(same_compile(c, full), "delta compiles as the full set");
	/* and a full replace after the deltas drops what they added */
	ASSERT_OK(load(POD("web", "10.0.0.1", "web"), &o), "web alone");
	ASSERT_OK(pw_objset_replace(s, c, &o, owner), "replace again");
	ASSERT_EQ(pw_objset_owner(s, PW_KIND_NETPOL, "t", "p", &who), -ENOENT,
		  "the delta's policy is gone");
	ok = true;
out:
	pw_objects_free(&o);
	pw_objects_free(&of);
	pw_objset_free(s);
	pw_objset_free(sf);
	pw_cluster_free(c);
	pw_cluster_free(full);
	ASSERT_TRUE(ok, "set up");
	return true;
}

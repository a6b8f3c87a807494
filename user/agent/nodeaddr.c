// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include "nodeaddr.h"
#include "rtnl.h"

struct addrs {
	__u8 (*v)[16];
	int n, cap;
	int err;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addrs *as = data;

	/* link-local addresses are no peer's: ND and the like pass anyway */
	if (nlh->nlmsg_type != RTM_NEWADDR || ifa->ifa_scope == RT_SCOPE_LINK)
		return MNL_CB_OK;
	if (as->n == as->cap) {
		int cap = as->cap ? as->cap * 2 : 16;
		__u8(*v)[16] = realloc(as->v, cap * sizeof(*v));

		if (!v) {
			as->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		as->v = v;
		as->cap = cap;
	}
	if (!pw_rtnl_ifa_addr(nlh, as->v[as->n]))
		return MNL_CB_OK;
	as->n++;
	return MNL_CB_OK;
}

static int addr_cmp(const void *a, const void *b)
{
	return memcmp(a, b, 16);
}

static int dump_once(struct addrs *as)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct mnl_socket *nl;
	unsigned int seq = time(NULL), portid;
	struct ifaddrmsg *ifa;
	int ret, err = 0;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	while ((ret = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, ret, seq, portid, addr_cb, as);
		if (ret <= MNL_CB_STOP)
			break;
	}
	if (ret < 0)
		err = as->err ?: -errno;
out:
	mnl_socket_close(nl);
	return err;
}

int pw_node_addrs(__u8 (**out)[16], int *n)
{
	struct addrs as = {};
	int i, j, tries, err;

	/* a dump interrupted by a change (EINTR) is read again */
	for (tries = 0; tries < 5; tries++) {
		as.n = 0;
		as.err = 0;
		err = dump_once(&as);
		if (err != -EINTR)
			break;
	}
	if (err) {
		free(as.v);
		return err;
	}
	if (as.n)
		qsort(as.v, as.n, 16, addr_cmp);
	for (i = j = 0; i < as.n; i++)
		if (!j || memcmp(as.v[j - 1], as.v[i], 16))
			memcpy(as.v[j++], as.v[i], 16);
	*out = as.v;
	*n = j;
	return 0;
}

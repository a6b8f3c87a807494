/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The client side of the agent's control socket (user/agent/control.h has
 * the protocol): one request, its answer, and then, for a stream, one
 * record per line.
 */
#ifndef PW_CTL_CLIENT_H
#define PW_CTL_CLIENT_H

#include <cjson/cJSON.h>

struct pw_ctl_conn;

/* -ENOENT or -ECONNREFUSED mean no agent is serving @path. */
int pw_ctl_connect(const char *path, int timeout_ms, struct pw_ctl_conn **out);
void pw_ctl_disconnect(struct pw_ctl_conn *c);
/* Send @req; *resp is the answer (caller frees). A refused request is
 * still 0 here: look at resp["ok"]. */
int pw_ctl_call(struct pw_ctl_conn *c, const cJSON *req, cJSON **resp);
/* The next line of a stream, parsed; -ETIMEDOUT after @timeout_ms
 * (-1: wait), -EPIPE when the agent closed it. */
int pw_ctl_next(struct pw_ctl_conn *c, int timeout_ms, cJSON **rec);

#endif /* PW_CTL_CLIENT_H */

/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The agent's control socket: a Unix stream socket, mode 0600, that speaks
 * JSON Lines (0660 with a group configured). Each request is one JSON object on
 * one line; each answer is one line, {"ok":true,...} or
 * {"ok":false,"error":"..."}. A client that asks to follow a stream then
 * receives one line per record; a follower too slow to read loses records
 * rather than slowing the agent, and is told how many with a {"lost":N} line.
 *
 * This file is the transport only: what a request means is the handler's
 * business (agent.c). Nothing a client sends can stop the agent: an
 * oversized line or malformed JSON gets an error answer and the client is
 * dropped.
 */
#ifndef PW_CONTROL_H
#define PW_CONTROL_H

#include <stddef.h>
#include <poll.h>
#include <cjson/cJSON.h>

#define PW_CTL_SOCK_DEFAULT "/run/podwall/podwalld.sock"
/* a request may carry manifests, so allow some size */
#define PW_CTL_REQ_MAX	    (4U << 20)
#define PW_CTL_CLIENTS_MAX  64

struct pw_ctl;
struct pw_ctl_client;

/* Fill @resp (an object) for @req; return 0, or a negative errno with
 * resp["error"] set. The transport adds "ok". */
typedef int (*pw_ctl_handler)(void *arg, struct pw_ctl_client *cl,
			      const cJSON *req, cJSON *resp);

/* @gid >= 0: that group may connect too (socket 0660, its folder 0710). */
int pw_ctl_open(const char *path, int gid, pw_ctl_handler fn, void *arg,
		struct pw_ctl **out);
void pw_ctl_close(struct pw_ctl *ctl);

/* The fds to poll, written to fds[0 .. returned count). */
int pw_ctl_pollfds(const struct pw_ctl *ctl, struct pollfd *fds, int max);
/* Handle whatever the polled fds report. */
void pw_ctl_process(struct pw_ctl *ctl, const struct pollfd *fds, int n);

/* From a handler: after the answer, send this client @stream's records. */
void pw_ctl_follow(struct pw_ctl_client *cl, int stream);
/* Any followers of @stream? Lets the caller skip formatting records. */
int pw_ctl_followers(const struct pw_ctl *ctl, int stream);
/* One record (a line without its newline) to every follower of @stream. */
void pw_ctl_publish(struct pw_ctl *ctl, int stream, const char *line);

#endif /* PW_CONTROL_H */

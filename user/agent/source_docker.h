/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Docker containers as pods (issue 6). Each running container with an
 * address on a bridge network (driver "bridge": docker0 and user-defined
 * br-* networks) becomes one Pod:
 *   namespace  the Compose project (label com.docker.compose.project),
 *              made a DNS-1123 label (lower case, "_" and "." become "-");
 *              otherwise the configured default ("docker");
 *   name       the container name without its leading "/". A name that is
 *              not a DNS-1123 subdomain (Docker allows upper case and "_")
 *              is lower-cased, other characters become "-", and the first
 *              8 characters of the container id are appended
 *              ("db_Primary" -> "db-primary-3f2a9c1b") so two names that
 *              map alike stay apart;
 *   labels     the container's labels that are valid Kubernetes labels
 *              (others are dropped with a debug log), plus
 *              podwall.io/container-name = the Docker name when that is a
 *              valid label value, and network.podwall.io/NET = "true" for
 *              each bridge network NET it is on;
 *   podIPs     IPAddress and GlobalIPv6Address on its bridge network.
 * A container on several bridge networks has a veth on each: it becomes
 * one Pod per network, named NAME.NET (each one endpoint, as the datapath
 * knows them), with the same labels but for the network label.
 * Containers without a bridge address (host, none, macvlan only) are left
 * out.
 *
 * The source keeps the last list it read and reads the daemon again only
 * when an event, a new connection or a forced reconcile says something
 * changed. While the daemon is unreachable collect() gives that list (and
 * a warning), so a daemon restart takes no enforcement away.
 *
 * The agent drives it through the pw_source hooks (fd, wait_ms, poll).
 * The same steps, for tests: poll pw_src_docker_fd() (-1 while
 * disconnected); when it is readable call pw_src_docker_on_events(), and
 * reconcile when it returns > 0. Call pw_src_docker_reconnect() on a
 * timer; it reconnects once the backoff has passed and returns > 0 when
 * the caller should reconcile.
 */
#ifndef PW_SOURCE_DOCKER_H
#define PW_SOURCE_DOCKER_H

#include <cjson/cJSON.h>
#include "source.h"

#define PW_DOCKER_NET_LABEL	   "network.podwall.io/"
/* on the Pods it makes: the container's sandbox (network namespace) */
#define PW_DOCKER_NETNS_ANNOTATION "podwall.io/netns"

struct pw_src_docker;

/* @sock NULL: /var/run/docker.sock; @default_ns NULL: "docker". A daemon
 * that is down is not an error here: the source reconnects later. */
int pw_src_docker_new(const char *sock, const char *default_ns,
		      struct pw_src_docker **out);
struct pw_source *pw_src_docker_source(struct pw_src_docker *s);
/* Keep each good read in @path (the state folder's docker.json) and start
 * from what it holds: an agent (re)started while the daemon is down keeps
 * the containers enforced until the daemon answers. */
void pw_src_docker_cache(struct pw_src_docker *s, const char *path);
/* The events stream's fd, or -1 while disconnected. */
int pw_src_docker_fd(const struct pw_src_docker *s);
/* Read events: > 0 when a reconcile is due (container start, die, stop,
 * destroy, rename; network connect, disconnect), 0 otherwise. When the
 * stream ends the fd becomes -1 and reconnecting is scheduled. */
int pw_src_docker_on_events(struct pw_src_docker *s);
/* Try to reconnect if disconnected and the backoff (0.5 s doubling to
 * 30 s) has passed: 1 when connected anew (reconcile), 0 when nothing was
 * tried (connected, or not yet due), < 0 when the attempt failed. */
int pw_src_docker_reconnect(struct pw_src_docker *s);
/* Milliseconds until the next attempt is due (0 if due or connected). */
int pw_src_docker_next_ms(const struct pw_src_docker *s);
/* The Pod manifests (an array, maybe empty) for one container's inspect
 * object, given the daemon's networks. Pure: what it makes always loads
 * as manifests (fuzz_docker checks that). */
cJSON *pw_docker_pods(const cJSON *inspect, const cJSON *nets,
		      const char *default_ns);
/* Read the daemon again at the next collect. */
void pw_src_docker_refresh(struct pw_src_docker *s);

#endif /* PW_SOURCE_DOCKER_H */

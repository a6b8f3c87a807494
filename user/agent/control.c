// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include "control.h"
#include "log.h"

/* What a follower may have queued before records are dropped for it. */
#define OUT_MAX (1U << 20)

struct pw_ctl_client {
	int fd;
	char *in;
	size_t nin, capin;
	char *out;
	size_t nout, capout, offout;
	int stream; /* followed stream, or 0 */
	unsigned long long lost;
	bool closing; /* drop once the output is flushed */
};

struct pw_ctl {
	int lfd;
	char *path;
	pw_ctl_handler fn;
	void *arg;
	struct pw_ctl_client *cl[PW_CTL_CLIENTS_MAX];
	int ncl;
};

/* Another agent answering on @path? Then it is not ours to remove. */
static bool in_use(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool used;

	if (fd < 0)
		return false;
	used = !connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	return used;
}

/* The socket's folder; with a group, one its members can pass through. */
static int mkparent(const char *path, int gid)
{
	char *dir = strdup(path), *slash;
	int err = 0;

	if (!dir)
		return -ENOMEM;
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) && errno != EEXIST)
			err = -errno;
		if (!err && gid >= 0 &&
		    (chown(dir, -1, gid) || chmod(dir, 0710)))
			err = -errno;
	}
	free(dir);
	return err;
}

int pw_ctl_open(const char *path, int gid, pw_ctl_handler fn, void *arg,
		struct pw_ctl **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pw_ctl *ctl;
	mode_t old;
	int err;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		pr_warn("control socket %s: path too long\n", path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	if (in_use(&sa)) {
		pr_warn("control socket %s: another agent is serving it\n",
			path);
		return -EADDRINUSE;
	}
	err = mkparent(path, gid);
	if (err) {
		pr_warn("control socket %s: folder: %s\n", path,
			strerror(-err));
		return err;
	}
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl || !(ctl->path = strdup(path))) {
		free(ctl);
		return -ENOMEM;
	}
	ctl->fn = fn;
	ctl->arg = arg;
	ctl->lfd =
		socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (ctl->lfd < 0)
		goto fail;
	unlink(path);
	/* 0600 from the start: no window where others could connect */
	old = umask(0177);
	err = bind(ctl->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (err || listen(ctl->lfd, 16))
		goto fail;
	/* from 0600 to 0660: never wider than asked for, even for a moment */
	if (gid >= 0 && (chown(path, -1, gid) || chmod(path, 0660)))
		goto fail;
	*out = ctl;
	return 0;
fail:
	err = -errno;
	pr_warn("control socket %s: %s\n", path, strerror(-err));
	if (ctl->lfd >= 0)
		close(ctl->lfd);
	free(ctl->path);
	free(ctl);
	return err;
}

/* The peer is gone or broken: nothing more to send it. */
static void drop(struct pw_ctl_client *c)
{
	c->closing = true;
	c->offout = c->nout;
}

static void client_free(struct pw_ctl_client *c)
{
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

void pw_ctl_close(struct pw_ctl *ctl)
{
	int i;

	if (!ctl)
		return;
	for (i = 0; i < ctl->ncl; i++)
		client_free(ctl->cl[i]);
	close(ctl->lfd);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

int pw_ctl_pollfds(const struct pw_ctl *ctl, struct pollfd *fds, int max)
{
	int i, n = 0;

	if (max < 1)
		return 0;
	fds[n++] = (struct pollfd){.fd = ctl->lfd, .events = POLLIN};
	for (i = 0; i < ctl->ncl && n < max; i++) {
		const struct pw_ctl_client *c = ctl->cl[i];

		fds[n++] = (struct pollfd){
			.fd = c->fd,
			.events = (c->closing ? 0 : POLLIN) |
				  (c->nout > c->offout ? POLLOUT : 0),
		};
	}
	return n;
}

/* Queue @len bytes and a newline; false if a follower's queue is full. */
static bool enqueue(struct pw_ctl_client *c, const char *s, size_t len,
		    bool limited)
{
	size_t need;

	if (c->offout == c->nout)
		c->offout = c->nout = 0;
	need = c->nout + len + 1;
	if (limited && need - c->offout > OUT_MAX)
		return false;
	if (need > c->capout) {
		size_t cap = c->capout ? c->capout : 4096;
		char *v;

		while (cap < need)
			cap *= 2;
		v = realloc(c->out, cap);
		if (!v)
			return false;
		c->out = v;
		c->capout = cap;
	}
	memcpy(c->out + c->nout, s, len);
	c->out[c->nout + len] = '\n';
	c->nout = need;
	return true;
}

static void flush(struct pw_ctl_client *c)
{
	while (c->offout < c->nout) {
		ssize_t w = send(c->fd, c->out + c->offout, c->nout - c->offout,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR)
				drop(c);
			return;
		}
		c->offout += w;
	}
}

static void answer(struct pw_ctl_client *c, cJSON *resp, int err)
{
	char *s;

	if (err && !cJSON_GetObjectItemCaseSensitive(resp, "error"))
		cJSON_AddStringToObject(resp, "error", strerror(-err));
	cJSON_AddBoolToObject(resp, "ok", !err);
	s = cJSON_PrintUnformatted(resp);
	if (!s || !enqueue(c, s, strlen(s), false))
		c->closing = true;
	free(s);
}

static void fail(struct pw_ctl_client *c, const char *msg)
{
	cJSON *resp = cJSON_CreateObject();

	if (resp) {
		cJSON_AddStringToObject(resp, "error", msg);
		answer(c, resp, -EINVAL);
		cJSON_Delete(resp);
	}
	c->closing = true;
}

static void handle_line(struct pw_ctl *ctl, struct pw_ctl_client *c,
			const char *line, size_t len)
{
	cJSON *req = cJSON_ParseWithLength(line, len), *resp;
	int err;

	if (!cJSON_IsObject(req)) {
		cJSON_Delete(req);
		fail(c, "request: not a JSON object");
		return;
	}
	resp = cJSON_CreateObject();
	if (!resp) {
		cJSON_Delete(req);
		c->closing = true;
		return;
	}
	err = ctl->fn(ctl->arg, c, req, resp);
	answer(c, resp, err);
	cJSON_Delete(resp);
	cJSON_Delete(req);
}

static void client_read(struct pw_ctl *ctl, struct pw_ctl_client *c)
{
	char *nl;
	ssize_t r;

	if (c->capin - c->nin < 4096) {
		size_t cap = c->capin ? c->capin * 2 : 8192;
		char *v;

		if (cap > PW_CTL_REQ_MAX + 1)
			cap = PW_CTL_REQ_MAX + 1;
		if (cap <= c->nin) {
			fail(c, "request: longer than the limit");
			return;
		}
		v = realloc(c->in, cap);
		if (!v) {
			c->closing = true;
			return;
		}
		c->in = v;
		c->capin = cap;
	}
	r = recv(c->fd, c->in + c->nin, c->capin - c->nin, MSG_DONTWAIT);
	if (r <= 0) {
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			drop(c);
		return;
	}
	c->nin += r;
	/* every complete line, in order; a follower sends nothing more */
	while (!c->closing && !c->stream &&
	       (nl = memchr(c->in, '\n', c->nin))) {
		size_t len = nl - c->in;

		handle_line(ctl, c, c->in, len);
		memmove(c->in, nl + 1, c->nin - len - 1);
		c->nin -= len + 1;
	}
	if (c->nin > PW_CTL_REQ_MAX)
		fail(c, "request: longer than the limit");
}

static void accept_client(struct pw_ctl *ctl)
{
	struct pw_ctl_client *c;
	int fd = accept4(ctl->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (ctl->ncl == PW_CTL_CLIENTS_MAX) {
		static const char busy[] =
			"{\"ok\":false,\"error\":\"too many clients\"}\n";

		if (send(fd, busy, sizeof(busy) - 1,
			 MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
			pr_debug("control: %s\n", strerror(errno));
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		close(fd);
		return;
	}
	c->fd = fd;
	ctl->cl[ctl->ncl++] = c;
}

void pw_ctl_process(struct pw_ctl *ctl, const struct pollfd *fds, int n)
{
	int i, j, ncl = ctl->ncl;

	/* fds[1 + i] is cl[i] as pw_ctl_pollfds wrote it */
	for (i = 0; i + 1 < n && i < ncl; i++) {
		struct pw_ctl_client *c = ctl->cl[i];

		if (fds[1 + i].fd != c->fd)
			continue;
		if (fds[1 + i].revents & (POLLERR | POLLHUP | POLLNVAL) &&
		    !(fds[1 + i].revents & POLLIN))
			drop(c);
		if (fds[1 + i].revents & POLLIN)
			client_read(ctl, c);
		flush(c);
	}
	for (i = 0, j = 0; i < ctl->ncl; i++) {
		struct pw_ctl_client *c = ctl->cl[i];

		if (c->closing && c->offout >= c->nout)
			client_free(c);
		else
			ctl->cl[j++] = c;
	}
	ctl->ncl = j;
	if (n > 0 && fds[0].revents & POLLIN)
		accept_client(ctl);
}

void pw_ctl_follow(struct pw_ctl_client *cl, int stream)
{
	cl->stream = stream;
}

int pw_ctl_followers(const struct pw_ctl *ctl, int stream)
{
	int i, n = 0;

	for (i = 0; i < ctl->ncl; i++)
		n += ctl->cl[i]->stream == stream && !ctl->cl[i]->closing;
	return n;
}

void pw_ctl_publish(struct pw_ctl *ctl, int stream, const char *line)
{
	int i;

	for (i = 0; i < ctl->ncl; i++) {
		struct pw_ctl_client *c = ctl->cl[i];

		if (c->stream != stream || c->closing)
			continue;
		if (c->lost) {
			char note[48];
			int len = snprintf(note, sizeof(note),
					   "{\"lost\":%llu}", c->lost);

			if (!enqueue(c, note, len, true)) {
				c->lost++;
				continue;
			}
			c->lost = 0;
		}
		if (!enqueue(c, line, strlen(line), true))
			c->lost++;
		else
			flush(c);
	}
}

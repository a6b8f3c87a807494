// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "ctl_client.h"

/* answers can be large (a list of every endpoint) */
#define LINE_MAX_LEN (64U << 20)

struct pw_ctl_conn {
	int fd;
	int timeout_ms;
	char *buf;
	size_t n, cap;
};

int pw_ctl_connect(const char *path, int timeout_ms, struct pw_ctl_conn **out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct pw_ctl_conn *c;
	int err;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->timeout_ms = timeout_ms;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		if (c->fd >= 0)
			close(c->fd);
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

void pw_ctl_disconnect(struct pw_ctl_conn *c)
{
	if (!c)
		return;
	close(c->fd);
	free(c->buf);
	free(c);
}

static int send_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t w = send(fd, s, len, MSG_NOSIGNAL);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		s += w;
		len -= w;
	}
	return 0;
}

int pw_ctl_next(struct pw_ctl_conn *c, int timeout_ms, cJSON **rec)
{
	for (;;) {
		char *nl = c->n ? memchr(c->buf, '\n', c->n) : NULL;
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		ssize_t r;
		int pr;

		if (nl) {
			size_t len = nl - c->buf;

			*rec = cJSON_ParseWithLength(c->buf, len);
			memmove(c->buf, nl + 1, c->n - len - 1);
			c->n -= len + 1;
			return *rec ? 0 : -EBADMSG;
		}
		if (c->cap - c->n < 65536) {
			size_t cap = c->cap ? c->cap * 2 : 131072;
			char *v;

			if (cap > LINE_MAX_LEN)
				return -E2BIG;
			v = realloc(c->buf, cap);
			if (!v)
				return -ENOMEM;
			c->buf = v;
			c->cap = cap;
		}
		pr = poll(&p, 1, timeout_ms);
		if (pr < 0 && errno == EINTR)
			return -EINTR;
		if (pr < 0)
			return -errno;
		if (pr == 0)
			return -ETIMEDOUT;
		r = recv(c->fd, c->buf + c->n, c->cap - c->n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		c->n += r;
	}
}

int pw_ctl_call(struct pw_ctl_conn *c, const cJSON *req, cJSON **resp)
{
	char *s = cJSON_PrintUnformatted(req);
	size_t len;
	int err;

	if (!s)
		return -ENOMEM;
	len = strlen(s);
	s[len] = '\n'; /* cJSON's buffer has the NUL's byte to spare */
	err = send_all(c->fd, s, len + 1);
	free(s);
	return err ?: pw_ctl_next(c, c->timeout_ms, resp);
}

// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "docker_api.h"

enum {
	S_HDR,
	S_BODY,
	S_CSIZE,
	S_CDATA,
	S_CEND,
	S_TRAILER,
	S_DONE,
};

void pw_http_init(struct pw_http *h)
{
	memset(h, 0, sizeof(*h));
	h->clen = -1;
}

void pw_http_free(struct pw_http *h)
{
	free(h->in);
	free(h->body);
	pw_http_init(h);
}

static int grow(char **buf, size_t *cap, size_t need)
{
	size_t c = *cap ?: 4096;
	char *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	p = realloc(*buf, c);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = c;
	return 0;
}

static int body_add(struct pw_http *h, const char *p, size_t n)
{
	/* what is held, not what went through: the events stream is
	 * consumed as it goes and may run for months */
	if (n > PW_DOCKER_BODY_MAX - h->blen)
		return -EFBIG;
	/* one spare byte keeps the body NUL-terminated for the JSON parser */
	if (grow(&h->body, &h->bcap, h->blen + n + 1))
		return -ENOMEM;
	memcpy(h->body + h->blen, p, n);
	h->blen += n;
	h->body[h->blen] = 0;
	h->btotal += n;
	return 0;
}

void pw_http_consume(struct pw_http *h, size_t n)
{
	if (!h->body)
		return;
	if (n > h->blen)
		n = h->blen;
	memmove(h->body, h->body + n, h->blen - n);
	h->blen -= n;
	if (h->body)
		h->body[h->blen] = 0;
}

static const char *find_crlf(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i + 1 < n; i++)
		if (p[i] == '\r' && p[i + 1] == '\n')
			return p + i;
	return NULL;
}

/* The status line and headers, [p, p+n) without the blank line. */
static int parse_head(struct pw_http *h, char *p, size_t n)
{
	char *end = p + n, *line, *eol;

	p[n] = 0;
	if (n < 12 || strncmp(p, "HTTP/1.", 7) ||
	    !isdigit((unsigned char)p[7]) || p[8] != ' ' ||
	    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
	    !isdigit((unsigned char)p[11]))
		return -EPROTO;
	h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
	h->chunked = false;
	h->clen = -1;
	line = strstr(p, "\r\n");
	while (line && line < end) {
		char *colon, *v;

		line += 2;
		eol = strstr(line, "\r\n");
		if (!eol)
			eol = end;
		*eol = 0;
		colon = strchr(line, ':');
		if (colon) {
			*colon = 0;
			for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
				;
			for (char *t = v + strlen(v);
			     t > v && (t[-1] == ' ' || t[-1] == '\t'); t--)
				t[-1] = 0;
			if (!strcasecmp(line, "Content-Length")) {
				char *e;
				long long l;

				errno = 0;
				l = strtoll(v, &e, 10);
				if (!isdigit((unsigned char)*v) || *e ||
				    errno || (h->clen >= 0 && h->clen != l))
					return -EPROTO;
				h->clen = l;
			} else if (!strcasecmp(line, "Transfer-Encoding")) {
				/* Docker sends only chunked; refuse others */
				if (strcasecmp(v, "chunked"))
					return -EPROTO;
				h->chunked = true;
			}
		}
		line = eol;
		if (eol == end)
			break;
	}
	if (h->chunked)
		h->clen = -1; /* RFC 9112 6.3: chunked wins */
	if (h->clen > (long long)PW_DOCKER_BODY_MAX)
		return -EFBIG;
	return 0;
}

int pw_http_feed(struct pw_http *h, const char *data, size_t n)
{
	size_t pos = 0;
	int ret = 0;

	if (h->state == S_DONE)
		return 1;
	if (grow(&h->in, &h->incap, h->inlen + n + 1))
		return -ENOMEM;
	memcpy(h->in + h->inlen, data, n);
	h->inlen += n;

	while (!ret && pos < h->inlen) {
		char *p = h->in + pos;
		size_t left = h->inlen - pos, take;
		const char *eol;

		switch (h->state) {
		case S_HDR: {
			char *blank = NULL;
			size_t i;

			for (i = 0; i + 3 < left; i++)
				if (!memcmp(p + i, "\r\n\r\n", 4)) {
					blank = p + i;
					break;
				}
			if (!blank) {
				if (left > PW_DOCKER_HDR_MAX)
					ret = -EFBIG;
				goto out;
			}
			ret = parse_head(h, p, blank - p);
			pos += blank - p + 4;
			if (ret)
				break;
			if (h->status >= 100 && h->status < 200)
				break; /* interim answer; the real one follows
					*/
			if (h->status == 204 || h->status == 304 || !h->clen)
				h->state = S_DONE;
			else
				h->state = h->chunked ? S_CSIZE : S_BODY;
			break;
		}
		case S_BODY:
			take = left;
			if (h->clen >= 0 && take > (size_t)h->clen - h->btotal)
				take = (size_t)h->clen - h->btotal;
			ret = body_add(h, p, take);
			pos += take;
			if (h->clen >= 0 && h->btotal == (size_t)h->clen)
				h->state = S_DONE;
			break;
		case S_CSIZE: {
			unsigned long long sz = 0;
			const char *q;
			int digits = 0;

			eol = find_crlf(p, left);
			if (!eol) {
				if (left > 1024)
					ret = -EPROTO;
				goto out;
			}
			for (q = p; q < eol && isxdigit((unsigned char)*q);
			     q++) {
				if (++digits > 16) {
					ret = -EFBIG;
					goto out;
				}
				sz = sz * 16 +
				     (isdigit((unsigned char)*q)
					      ? *q - '0'
					      : (tolower(*q) - 'a' + 10));
			}
			/* chunk extensions (";...") are allowed and ignored */
			if (!digits ||
			    (q < eol && *q != ';' && *q != ' ' && *q != '\t')) {
				ret = -EPROTO;
				break;
			}
			if (sz > PW_DOCKER_BODY_MAX - h->blen) {
				ret = -EFBIG;
				break;
			}
			pos += eol - p + 2;
			h->chunk_left = sz;
			h->state = sz ? S_CDATA : S_TRAILER;
			break;
		}
		case S_CDATA:
			take = left < h->chunk_left ? left : h->chunk_left;
			ret = body_add(h, p, take);
			pos += take;
			h->chunk_left -= take;
			if (!h->chunk_left)
				h->state = S_CEND;
			break;
		case S_CEND:
			if (left < 2)
				goto out;
			if (p[0] != '\r' || p[1] != '\n') {
				ret = -EPROTO;
				break;
			}
			pos += 2;
			h->state = S_CSIZE;
			break;
		case S_TRAILER:
			eol = find_crlf(p, left);
			if (!eol) {
				if (left > PW_DOCKER_HDR_MAX)
					ret = -EFBIG;
				goto out;
			}
			pos += eol - p + 2;
			if (eol == p)
				h->state = S_DONE;
			break;
		case S_DONE:
			pos = h->inlen; /* nothing may follow: one request */
			break;
		}
	}
out:
	memmove(h->in, h->in + pos, h->inlen - pos);
	h->inlen -= pos;
	if (ret)
		return ret;
	return h->state == S_DONE;
}

int pw_http_eof(struct pw_http *h)
{
	if (h->state == S_DONE)
		return 1;
	if (h->state == S_BODY && h->clen < 0) {
		h->state = S_DONE;
		return 1;
	}
	return -EPIPE;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short ev, long long deadline)
{
	struct pollfd p = {.fd = fd, .events = ev};
	long long left = deadline - now_ms();
	int n;

	if (left <= 0)
		return -ETIMEDOUT;
	n = poll(&p, 1, (int)left);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n ? 0 : -ETIMEDOUT;
}

/* Connect and send the request; the socket is left non-blocking. */
static int send_request(const char *sock, const char *path, int *fdp)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	long long deadline = now_ms() + PW_DOCKER_TIMEOUT_MS;
	char req[2048];
	size_t off = 0;
	int fd, n, len;

	if (strlen(sock) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	len = snprintf(req, sizeof(req),
		       "GET %s HTTP/1.1\r\nHost: docker\r\n"
		       "User-Agent: podwall\r\nAccept: application/json\r\n"
		       "Connection: close\r\n\r\n",
		       path);
	if (len < 0 || (size_t)len >= sizeof(req))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, sock);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	/* a full backlog gives EAGAIN on a non-blocking Unix socket */
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) &&
	       errno != EISCONN) {
		struct timespec ts = {.tv_nsec = 10 * 1000 * 1000};

		n = -errno;
		if ((n == -EAGAIN || n == -EINTR) && now_ms() < deadline) {
			nanosleep(&ts, NULL);
			continue;
		}
		close(fd);
		return n == -EAGAIN ? -ETIMEDOUT : n;
	}
	while (off < (size_t)len) {
		ssize_t w = send(fd, req + off, len - off, MSG_NOSIGNAL);

		if (w < 0 && errno == EAGAIN)
			n = wait_fd(fd, POLLOUT, deadline);
		else if (w < 0)
			n = errno == EINTR ? 0 : -errno;
		else
			n = 0, off += w;
		if (n) {
			close(fd);
			return n;
		}
	}
	*fdp = fd;
	return 0;
}

static void api_error(const struct pw_http *h, const char *path, char *err,
		      size_t errlen)
{
	cJSON *j = h->body ? cJSON_ParseWithLength(h->body, h->blen) : NULL;
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");

	snprintf(err, errlen, "docker GET %s: status %d: %s", path, h->status,
		 cJSON_IsString(m) ? m->valuestring : "(no message)");
	cJSON_Delete(j);
}

int pw_docker_get(const char *sock, const char *path, cJSON **out, char *err,
		  size_t errlen)
{
	long long deadline = now_ms() + PW_DOCKER_TIMEOUT_MS;
	struct pw_http h;
	char buf[65536];
	int fd, ret;

	*out = NULL;
	ret = send_request(sock, path, &fd);
	if (ret) {
		snprintf(err, errlen, "docker %s: %s", sock, strerror(-ret));
		return ret;
	}
	pw_http_init(&h);
	for (ret = 0; !ret;) {
		ssize_t r = read(fd, buf, sizeof(buf));

		if (r > 0)
			ret = pw_http_feed(&h, buf, r);
		else if (!r)
			ret = pw_http_eof(&h);
		else if (errno == EAGAIN)
			ret = wait_fd(fd, POLLIN, deadline);
		else if (errno != EINTR)
			ret = -errno;
	}
	close(fd);
	if (ret < 0) {
		snprintf(err, errlen, "docker GET %s: %s", path,
			 ret == -EPIPE	  ? "connection closed mid-answer"
			 : ret == -EPROTO ? "malformed HTTP answer"
			 : ret == -EFBIG  ? "answer too large"
					  : strerror(-ret));
		pw_http_free(&h);
		return ret;
	}
	if (h.status != 200) {
		api_error(&h, path, err, errlen);
		ret = h.status == 404 ? -ENOENT : -EPROTO;
		pw_http_free(&h);
		return ret;
	}
	*out = h.body ? cJSON_ParseWithLength(h.body, h.blen) : NULL;
	pw_http_free(&h);
	if (!*out) {
		snprintf(err, errlen, "docker GET %s: the answer is not JSON",
			 path);
		return -EPROTO;
	}
	return 0;
}

int pw_docker_list(const char *sock, cJSON **out, char *err, size_t errlen)
{
	int ret =
		pw_docker_get(sock, "/v1.41/containers/json", out, err, errlen);

	if (!ret && !cJSON_IsArray(*out)) {
		snprintf(err, errlen, "docker containers/json: not an array");
		cJSON_Delete(*out);
		*out = NULL;
		return -EPROTO;
	}
	return ret;
}

int pw_docker_networks(const char *sock, cJSON **out, char *err, size_t errlen)
{
	int ret = pw_docker_get(sock, "/v1.41/networks", out, err, errlen);

	if (!ret && !cJSON_IsArray(*out)) {
		snprintf(err, errlen, "docker networks: not an array");
		cJSON_Delete(*out);
		*out = NULL;
		return -EPROTO;
	}
	return ret;
}

int pw_docker_inspect(const char *sock, const char *id, cJSON **out, char *err,
		      size_t errlen)
{
	char path[512];
	size_t i;
	int ret;

	/* ids and names only: nothing that could change the request path */
	for (i = 0; id[i]; i++)
		if (!isalnum((unsigned char)id[i]) && !strchr("_.-", id[i]))
			break;
	if (!i || id[i] || i > 256) {
		snprintf(err, errlen, "docker inspect: invalid id");
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/v1.41/containers/%s/json", id);
	ret = pw_docker_get(sock, path, out, err, errlen);
	if (!ret && !cJSON_IsObject(*out)) {
		snprintf(err, errlen, "docker inspect %s: not an object", id);
		cJSON_Delete(*out);
		*out = NULL;
		return -EPROTO;
	}
	return ret;
}

struct pw_docker_events {
	int fd;
	struct pw_http h;
};

/* filters={"type":["container","network"]} */
#define EVENTS_PATH                                             \
	"/v1.41/events?filters=%7B%22type%22%3A%5B%22container" \
	"%22%2C%22network%22%5D%7D"

int pw_docker_events_open(const char *sock, struct pw_docker_events **out,
			  char *err, size_t errlen)
{
	struct pw_docker_events *ev = calloc(1, sizeof(*ev));
	int ret;

	if (!ev)
		return -ENOMEM;
	ret = send_request(sock, EVENTS_PATH, &ev->fd);
	if (ret) {
		snprintf(err, errlen, "docker %s: %s", sock, strerror(-ret));
		free(ev);
		return ret;
	}
	pw_http_init(&ev->h);
	*out = ev;
	return 0;
}

int pw_docker_events_fd(const struct pw_docker_events *ev)
{
	return ev ? ev->fd : -1;
}

/* Complete lines of the body, one JSON object each (Docker's encoder ends
 * each with a newline; where chunks fall does not matter). */
static int take_events(struct pw_docker_events *ev, cJSON *events, char *err,
		       size_t errlen)
{
	struct pw_http *h = &ev->h;
	size_t start = 0;
	char *nl;

	while (start < h->blen &&
	       (nl = memchr(h->body + start, '\n', h->blen - start))) {
		size_t n = nl - (h->body + start);
		cJSON *e = n ? cJSON_ParseWithLength(h->body + start, n) : NULL;

		if (n && !cJSON_IsObject(e)) {
			cJSON_Delete(e);
			pw_http_consume(h, start + n + 1);
			snprintf(err, errlen, "docker events: not JSON");
			return -EPROTO;
		}
		if (e)
			cJSON_AddItemToArray(events, e);
		start += n + 1;
	}
	pw_http_consume(h, start);
	/* one event is small; a line this long is not an event */
	if (h->blen > (1u << 20)) {
		snprintf(err, errlen, "docker events: event too large");
		return -EFBIG;
	}
	return 0;
}

int pw_docker_events_read(struct pw_docker_events *ev, cJSON *events, char *err,
			  size_t errlen)
{
	char buf[65536];
	int i, t, ret = 0;

	/* bounded, so a flood cannot starve the caller's other work */
	for (i = 0; i < 64 && !ret; i++) {
		ssize_t r = read(ev->fd, buf, sizeof(buf));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r < 0) {
			ret = -errno;
			snprintf(err, errlen, "docker events: %s",
				 strerror(errno));
			break;
		}
		if (!r) {
			ret = -EPIPE;
			snprintf(err, errlen,
				 "docker events: the daemon closed the stream");
			break;
		}
		ret = pw_http_feed(&ev->h, buf, r);
		if (ret < 0) {
			snprintf(err, errlen, "docker events: %s",
				 ret == -EFBIG ? "too large"
					       : "malformed HTTP answer");
			break;
		}
		if (ev->h.state != S_HDR && ev->h.status != 200) {
			/* wait for the whole error body, then report it */
			if (ret == 1) {
				api_error(&ev->h, "/v1.41/events", err, errlen);
				return -EPROTO;
			}
			ret = 0;
			continue;
		}
		if (ret == 1) {
			ret = -EPIPE;
			snprintf(err, errlen,
				 "docker events: the stream ended");
		}
		t = take_events(ev, events, err, errlen);
		if (t)
			return t;
	}
	return ret;
}

void pw_docker_events_close(struct pw_docker_events *ev)
{
	if (!ev)
		return;
	close(ev->fd);
	pw_http_free(&ev->h);
	free(ev);
}

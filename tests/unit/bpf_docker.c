// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The Docker endpoint source against a fake Docker Engine
 * (tests/e2e/docker/fakedockerd.py, answers recorded in API v1.41 format):
 * containers become Pods, events ask for a reconcile, errors name the
 * status and the daemon's message, and a daemon that goes away takes no
 * pod away. Also the HTTP parser alone, fed one byte at a time.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "addr.h"
#include "docker_api.h"
#include "source_docker.h"
#include "testlib.h"

#define FAKED "tests/e2e/docker/fakedockerd.py"

struct fake {
	char dir[64];
	char sock[96];
	pid_t pid;
};

static bool connectable(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ok = fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (fd >= 0)
		close(fd);
	return ok;
}

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static bool fake_start(struct fake *f)
{
	char ctl[80];
	int i;

	snprintf(ctl, sizeof(ctl), "%s", f->dir);
	f->pid = fork();
	if (f->pid < 0)
		return false;
	if (!f->pid) {
		/* no orphan server if the test binary dies */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl("/usr/bin/python3", "python3", FAKED, "--socket", f->sock,
		      "--ctl", ctl, (char *)NULL);
		_exit(127);
	}
	/* bounded: 5 s for python to start and bind */
	for (i = 0; i < 100; i++) {
		if (connectable(f->sock))
			return true;
		if (waitpid(f->pid, NULL, WNOHANG) == f->pid) {
			f->pid = 0;
			return false;
		}
		msleep(50);
	}
	return false;
}

static void fake_stop(struct fake *f)
{
	if (f->pid > 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, NULL, 0);
	}
	f->pid = 0;
}

static bool fake_init(struct fake *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/pw-docker-XXXXXX");
	if (!mkdtemp(f->dir))
		return false;
	snprintf(f->sock, sizeof(f->sock), "%s/docker.sock", f->dir);
	return true;
}

static void fake_done(struct fake *f)
{
	char cmd[128];

	fake_stop(f);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd))
		fprintf(stderr, "  could not remove %s\n", f->dir);
}

static void ctl_write(const struct fake *f, const char *name, const char *text)
{
	char path[160], tmp[170];
	FILE *o;

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	o = fopen(tmp, "w");
	if (o) {
		fputs(text, o);
		fclose(o);
		rename(tmp, path); /* the server sees it whole */
	}
}

static void ctl_rm(const struct fake *f, const char *name)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	unlink(path);
}

static const struct pw_pod *pod(const struct pw_objects *o, const char *ns,
				const char *name)
{
	int i;

	for (i = 0; i < o->n; i++)
		if (o->v[i].kind == PW_KIND_POD &&
		    !strcmp(o->v[i].pod->ns, ns) &&
		    !strcmp(o->v[i].pod->name, name))
			return o->v[i].pod;
	return NULL;
}

static bool has_ip(const struct pw_pod *p, const char *ip)
{
	__u8 a[16];
	int i;

	if (pw_addr_parse(ip, a))
		return false;
	for (i = 0; i < p->nips; i++)
		if (!memcmp(p->ips[i], a, 16))
			return true;
	return false;
}

static int collect(struct pw_src_docker *s, struct pw_objects *o, char *err)
{
	struct pw_source *src = pw_src_docker_source(s);

	pw_objects_free(o);
	err[0] = 0;
	return src->collect(src, o, err, PW_ERR_LEN);
}

/* The two running containers with bridge addresses, as expected. */
static bool check_first_two(const struct pw_objects *o)
{
	const struct pw_pod *web = pod(o, "shop", "shop-web-1");
	const struct pw_pod *db = pod(o, "docker", "db-primary-0c9d8e7f");

	ASSERT_TRUE(web, "compose container: namespace from the project");
	ASSERT_STREQ(pw_labels_get(&web->labels, "app"), "web", "label kept");
	ASSERT_STREQ(pw_labels_get(&web->labels, "com.docker.compose.service"),
		     "web", "valid compose label kept");
	ASSERT_STREQ(pw_labels_get(&web->labels, "podwall.io/container-name"),
		     "shop-web-1", "container name label");
	ASSERT_TRUE(
		!pw_labels_get(&web->labels, "com.docker.compose.config-hash"),
		"64-character value dropped");
	ASSERT_TRUE(!pw_labels_get(&web->labels,
				   "com.docker.compose.project.config_files"),
		    "value with / dropped");
	ASSERT_STREQ(
		pw_labels_get(&web->labels, "network.podwall.io/shop_default"),
		"true", "its bridge network as a label");
	ASSERT_EQ(web->nips, 1, "web: one bridge address");
	ASSERT_TRUE(has_ip(web, "172.18.0.2"), "web address");

	ASSERT_TRUE(db, "plain container: default namespace, name made "
			"DNS-1123 with the id appended");
	ASSERT_STREQ(pw_labels_get(&db->labels, "app"), "db", "label kept");
	ASSERT_TRUE(!pw_labels_get(&db->labels, "Invalid Key!"),
		    "invalid key dropped");
	ASSERT_TRUE(!pw_labels_get(&db->labels, "tier"),
		    "value with a space dropped");
	ASSERT_STREQ(pw_labels_get(&db->labels, "podwall.io/container-name"),
		     "db_Primary", "the Docker name as a label");
	ASSERT_EQ(db->nips, 2, "db: IPv4 and IPv6 on bridge, not macvlan");
	ASSERT_TRUE(has_ip(db, "172.17.0.2"), "db IPv4");
	ASSERT_TRUE(has_ip(db, "fd00::2"), "db IPv6");
	ASSERT_TRUE(!has_ip(db, "192.168.1.50"), "macvlan address left out");
	ASSERT_TRUE(!pw_labels_get(&db->labels, "network.podwall.io/lan"),
		    "no label for a network that is not a bridge");
	ASSERT_STREQ(pw_labels_get(&db->labels, "network.podwall.io/bridge"),
		     "true", "docker0's network is called bridge");
	return true;
}

static bool list_body(struct fake *f, struct pw_src_docker **sp,
		      struct pw_objects *o)
{
	char err[PW_ERR_LEN];

	ASSERT_TRUE(fake_start(f), "fake daemon starts");
	ASSERT_OK(pw_src_docker_new(f->sock, NULL, sp), "new");
	ASSERT_TRUE(pw_src_docker_fd(*sp) >= 0, "events stream open");
	ASSERT_OK(collect(*sp, o, err), "collect");
	ASSERT_EQ(o->n, 2, "host-network and stopped containers left out");
	return check_first_two(o);
}

PW_TEST(docker_list_and_inspect_make_pods)
{
	struct pw_src_docker *s = NULL;
	struct pw_objects o = {};
	struct fake f;
	bool ok;

	ASSERT_TRUE(fake_init(&f), "temp dir");
	ok = list_body(&f, &s, &o);
	pw_objects_free(&o);
	if (s)
		pw_src_docker_source(s)->free(pw_src_docker_source(s));
	fake_done(&f);
	return ok;
}

static bool errors_body(struct fake *f, struct pw_src_docker **sp,
			struct pw_objects *o)
{
	char err[PW_ERR_LEN];
	cJSON *j = NULL;

	ASSERT_TRUE(fake_start(f), "fake daemon starts");
	ASSERT_OK(
		pw_docker_inspect(f->sock, "shop-web-1", &j, err, sizeof(err)),
		"baseline: a known container inspects");
	cJSON_Delete(j);
	j = NULL;
	ASSERT_EQ(pw_docker_inspect(f->sock, "nope", &j, err, sizeof(err)),
		  -ENOENT, "404 is -ENOENT");
	ASSERT_TRUE(strstr(err, "404") &&
			    strstr(err, "No such container: nope"),
		    err);
	ASSERT_TRUE(!j, "no object on error");

	ASSERT_OK(pw_src_docker_new(f->sock, "dock", sp), "new");
	ASSERT_OK(collect(*sp, o, err), "collect");
	ASSERT_EQ(o->n, 2, "two pods");
	ASSERT_TRUE(pod(o, "dock", "db-primary-0c9d8e7f"),
		    "configured default namespace");

	ctl_write(f, "fail-list", "");
	ASSERT_OK(collect(*sp, o, err), "no event: the daemon is not read");
	pw_src_docker_refresh(*sp); /* as SIGHUP does */
	ASSERT_NEQ(collect(*sp, o, err), 0, "a 500 is reported");
	ASSERT_TRUE(strstr(err, "500") &&
			    strstr(err, "simulated daemon failure"),
		    err);
	ASSERT_EQ(o->n, 2, "the last good pods are kept");
	ASSERT_TRUE(pod(o, "shop", "shop-web-1"), "web kept");
	ctl_rm(f, "fail-list");

	ASSERT_NEQ(collect(*sp, o, err), 0, "still failed until retried");
	ctl_write(f, "cut-list", "");
	pw_src_docker_refresh(*sp);
	ASSERT_NEQ(collect(*sp, o, err), 0, "a cut answer is reported");
	ASSERT_TRUE(strstr(err, "closed"), err);
	ASSERT_EQ(o->n, 2, "the last good pods are kept");
	ctl_rm(f, "cut-list");
	pw_src_docker_refresh(*sp);
	ASSERT_OK(collect(*sp, o, err), "and it reads again");
	return true;
}

PW_TEST(docker_errors_name_status_and_message_and_keep_pods)
{
	struct pw_src_docker *s = NULL;
	struct pw_objects o = {};
	struct fake f;
	bool ok;

	ASSERT_TRUE(fake_init(&f), "temp dir");
	ok = errors_body(&f, &s, &o);
	pw_objects_free(&o);
	if (s)
		pw_src_docker_source(s)->free(pw_src_docker_source(s));
	fake_done(&f);
	return ok;
}

/* Poll the events fd up to @ms; *calls counts on_events calls. Returns the
 * first positive on_events result, 0 on timeout, -1 when the fd went. */
static int wait_events(struct pw_src_docker *s, int ms, int *calls, int *empty)
{
	int i;

	for (i = 0; i < ms / 20; i++) {
		struct pollfd p = {.fd = pw_src_docker_fd(s), .events = POLLIN};
		int r;

		if (p.fd < 0)
			return -1;
		if (poll(&p, 1, 20) <= 0)
			continue;
		r = pw_src_docker_on_events(s);
		(*calls)++;
		if (r > 0)
			return r;
		*empty += pw_src_docker_fd(s) >= 0;
	}
	return 0;
}

static bool events_body(struct fake *f, struct pw_src_docker **sp,
			struct pw_objects *o)
{
	char err[PW_ERR_LEN];
	int calls = 0, empty = 0;

	ASSERT_TRUE(fake_start(f), "fake daemon starts");
	ASSERT_OK(pw_src_docker_new(f->sock, NULL, sp), "new");
	ASSERT_OK(collect(*sp, o, err), "collect");
	ASSERT_TRUE(!pod(o, "docker", "late"), "baseline: late not running");
	ASSERT_EQ(wait_events(*sp, 300, &calls, &empty), 0,
		  "baseline: no event, no reconcile");

	ctl_write(f, "emit",
		  "start " /* the "late" container */
		  "5a5b5c5d5e5f60616263646566676869707172737475767778797a7b7c7d"
		  "7e7f");
	ASSERT_EQ(wait_events(*sp, 3000, &calls, &empty), 1,
		  "start event asks for one reconcile");
	ASSERT_TRUE(empty >= 1, "the event came in pieces: a read without "
				"a whole event asked for nothing");
	ASSERT_TRUE(pw_src_docker_fd(*sp) >= 0, "stream still open");
	ASSERT_OK(collect(*sp, o, err), "collect after the event");
	ASSERT_EQ(o->n, 3, "the started container is a pod");
	ASSERT_TRUE(pod(o, "docker", "late") &&
			    has_ip(pod(o, "docker", "late"), "172.17.0.3"),
		    "late with its address");
	return true;
}

PW_TEST(docker_split_start_event_asks_for_reconcile)
{
	struct pw_src_docker *s = NULL;
	struct pw_objects o = {};
	struct fake f;
	bool ok;

	ASSERT_TRUE(fake_init(&f), "temp dir");
	ok = events_body(&f, &s, &o);
	pw_objects_free(&o);
	if (s)
		pw_src_docker_source(s)->free(pw_src_docker_source(s));
	fake_done(&f);
	return ok;
}

static bool restart_body(struct fake *f, struct pw_src_docker **sp,
			 struct pw_objects *o)
{
	char err[PW_ERR_LEN];
	int i, calls = 0, empty = 0, r = 0;

	ASSERT_TRUE(fake_start(f), "fake daemon starts");
	ASSERT_OK(pw_src_docker_new(f->sock, NULL, sp), "new");
	ASSERT_OK(collect(*sp, o, err), "collect");
	ASSERT_EQ(pw_src_docker_reconnect(*sp), 0, "connected: nothing to do");

	fake_stop(f);
	ASSERT_EQ(wait_events(*sp, 3000, &calls, &empty), -1,
		  "the fd goes when the daemon does");
	ASSERT_EQ(pw_src_docker_fd(*sp), -1, "fd is -1");
	ASSERT_NEQ(collect(*sp, o, err), 0, "unreachable daemon is reported");
	ASSERT_EQ(o->n, 2, "and its pods are kept");
	ASSERT_TRUE(check_first_two(o), "the same pods");
	ASSERT_EQ(pw_src_docker_reconnect(*sp), 0, "backoff not yet passed");
	ASSERT_TRUE(pw_src_docker_next_ms(*sp) > 0, "a retry is scheduled");
	msleep(pw_src_docker_next_ms(*sp) + 10);
	ASSERT_TRUE(pw_src_docker_reconnect(*sp) < 0, "still down: fails");
	ASSERT_EQ(pw_src_docker_fd(*sp), -1, "still no fd");

	ASSERT_TRUE(fake_start(f), "the daemon comes back");
	/* backoff is 1 s now; bounded wait */
	for (i = 0; i < 40 && r <= 0; i++) {
		r = pw_src_docker_reconnect(*sp);
		if (r <= 0)
			msleep(100);
	}
	ASSERT_EQ(r, 1, "reconnected, reconcile asked");
	ASSERT_TRUE(pw_src_docker_fd(*sp) >= 0, "fd back");
	ASSERT_OK(collect(*sp, o, err), "collect works again");
	ASSERT_EQ(o->n, 2, "two pods");
	return true;
}

PW_TEST(docker_daemon_restart_keeps_pods_and_reconnects)
{
	struct pw_src_docker *s = NULL;
	struct pw_objects o = {};
	struct fake f;
	bool ok;

	ASSERT_TRUE(fake_init(&f), "temp dir");
	ok = restart_body(&f, &s, &o);
	pw_objects_free(&o);
	if (s)
		pw_src_docker_source(s)->free(pw_src_docker_source(s));
	fake_done(&f);
	return ok;
}

static const char *pod_name_at(const cJSON *pods, int i)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetObjectItem(cJSON_GetArrayItem(pods, i), "metadata"),
		"name"));
}

static const char *pod_label_at(const cJSON *pods, int i, const char *k)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetObjectItem(
			cJSON_GetObjectItem(cJSON_GetArrayItem(pods, i),
					    "metadata"),
			"labels"),
		k));
}

static bool two_nets_body(cJSON *nets, cJSON **insp, cJSON **pods)
{
	static const char c[] =
		"{\"Id\":\"ABCDEF0123456789\",\"Name\":\"/Api_1\","
		"\"Config\":{\"Labels\":{\"app\":\"api\","
		"\"network.podwall.io/front\":\"true\"}},"
		"\"NetworkSettings\":{\"Networks\":{"
		"\"front\":{\"NetworkID\":\"n1\",\"IPAddress\":\"172.18.0.5\","
		"\"GlobalIPv6Address\":\"fd00:1::5\"},"
		"\"back\":{\"NetworkID\":\"n2\",\"IPAddress\":\"172.19.0.5\","
		"\"GlobalIPv6Address\":\"\"},"
		"\"lan\":{\"NetworkID\":\"n3\",\"IPAddress\":\"10.0.0.5\"}}}}";
	struct pw_objects o = {};
	char err[PW_ERR_LEN], *text;
	cJSON *list;
	int r;

	*insp = cJSON_Parse(c);
	ASSERT_TRUE(*insp, "fixture parses");
	*pods = pw_docker_pods(*insp, nets, "docker");
	ASSERT_EQ(cJSON_GetArraySize(*pods), 2,
		  "two bridge networks: two pods; macvlan none");
	ASSERT_STREQ(pod_name_at(*pods, 0), "api-1-abcdef01.front",
		     "NAME.NET, the id cleaned and appended");
	ASSERT_STREQ(pod_name_at(*pods, 1), "api-1-abcdef01.back", "second");
	ASSERT_STREQ(pod_label_at(*pods, 0, "app"), "api", "labels on both");
	ASSERT_STREQ(pod_label_at(*pods, 1, "app"), "api", "labels on both");
	ASSERT_STREQ(pod_label_at(*pods, 0, "network.podwall.io/front"), "true",
		     "each its own network");
	ASSERT_TRUE(!pod_label_at(*pods, 1, "network.podwall.io/front"),
		    "a container's label cannot claim a network");
	ASSERT_STREQ(pod_label_at(*pods, 1, "network.podwall.io/back"), "true",
		     "back's network label");
	/* and both load: the compiler takes what the mapping makes */
	list = cJSON_CreateObject();
	cJSON_AddStringToObject(list, "apiVersion", "v1");
	cJSON_AddStringToObject(list, "kind", "List");
	cJSON_AddItemReferenceToObject(list, "items", *pods);
	text = cJSON_PrintUnformatted(list);
	cJSON_Delete(list);
	r = pw_manifest_load_buf(text, strlen(text), "t", &o, err, sizeof(err));
	free(text);
	ASSERT_OK(r, err);
	ASSERT_EQ(o.n, 2, "two Pods");
	ASSERT_EQ(o.v[0].pod->nips, 2, "front: IPv4 and IPv6");
	ASSERT_EQ(o.v[1].pod->nips, 1, "back: IPv4 only");
	pw_objects_free(&o);
	return true;
}

PW_TEST(docker_container_on_two_networks_is_two_pods)
{
	cJSON *nets = cJSON_Parse(
		"[{\"Id\":\"n1\",\"Name\":\"front\",\"Driver\":\"bridge\"},"
		"{\"Id\":\"n2\",\"Name\":\"back\",\"Driver\":\"bridge\"},"
		"{\"Id\":\"n3\",\"Name\":\"lan\",\"Driver\":\"macvlan\"}]");
	cJSON *insp = NULL, *pods = NULL;
	bool ok = two_nets_body(nets, &insp, &pods);

	cJSON_Delete(pods);
	cJSON_Delete(insp);
	cJSON_Delete(nets);
	return ok;
}

static bool long_name_body(cJSON *nets, cJSON **insp, cJSON **pods)
{
	char c[1024], name[301];
	const char *got;

	/* 300 characters, upper case, dots: 63 per label, 253 in all */
	memset(name, 'X', 300);
	name[300] = 0;
	name[100] = '.';
	snprintf(c, sizeof(c),
		 "{\"Id\":\"0123456789ab\",\"Name\":\"/%s\",\"Config\":{},"
		 "\"NetworkSettings\":{\"Networks\":{\"bridge\":{"
		 "\"NetworkID\":\"n1\",\"IPAddress\":\"172.17.0.9\"}}}}",
		 name);
	*insp = cJSON_Parse(c);
	*pods = pw_docker_pods(*insp, nets, "docker");
	ASSERT_EQ(cJSON_GetArraySize(*pods), 1, "one pod");
	got = pod_name_at(*pods, 0);
	ASSERT_TRUE(got && strlen(got) <= 253, "253 at most");
	ASSERT_TRUE(!strncmp(got, "xxx", 3) && strstr(got, "-01234567"), got);
	ASSERT_TRUE(!pod_label_at(*pods, 0, "podwall.io/container-name"),
		    "a name too long for a label value is not one");
	return true;
}

PW_TEST(docker_long_odd_name_stays_a_valid_pod_name)
{
	cJSON *nets = cJSON_Parse(
		"[{\"Id\":\"n1\",\"Name\":\"bridge\",\"Driver\":\"bridge\"}]");
	cJSON *insp = NULL, *pods = NULL;
	bool ok = long_name_body(nets, &insp, &pods);

	cJSON_Delete(pods);
	cJSON_Delete(insp);
	cJSON_Delete(nets);
	return ok;
}

/* Feed @text one byte at a time; the last feed's result. */
static int feed_bytes(struct pw_http *h, const char *text)
{
	int r = 0;

	for (; *text && r == 0; text++)
		r = pw_http_feed(h, text, 1);
	return r;
}

PW_TEST(docker_http_parser_split_anywhere_and_bounded)
{
	struct pw_http h;

	pw_http_init(&h);
	ASSERT_EQ(feed_bytes(&h, "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
				 "chunked\r\n\r\n4;x=y\r\n[1,2\r\n3\r\n,3]"
				 "\r\n0\r\nTrailer: z\r\n\r\n"),
		  1, "chunked, byte by byte");
	ASSERT_EQ(h.status, 200, "status");
	ASSERT_STREQ(h.body, "[1,2,3]", "decoded body");
	pw_http_free(&h);

	pw_http_init(&h);
	ASSERT_EQ(feed_bytes(&h, "HTTP/1.0 404 Not Found\r\ncontent-length:"
				 " 5\r\n\r\nabcde"),
		  1, "Content-Length");
	ASSERT_EQ(h.status, 404, "status");
	ASSERT_STREQ(h.body, "abcde", "body");
	pw_http_free(&h);

	pw_http_init(&h);
	ASSERT_EQ(feed_bytes(&h, "HTTP/1.1 200 OK\r\n\r\nuntil close"), 0,
		  "no length: more");
	ASSERT_EQ(pw_http_eof(&h), 1, "ends at close");
	pw_http_free(&h);

	pw_http_init(&h);
	ASSERT_EQ(feed_bytes(&h, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n"
				 "\r\nabc"),
		  0, "cut short: more");
	ASSERT_EQ(pw_http_eof(&h), -EPIPE, "close mid-body is an error");
	pw_http_free(&h);

	pw_http_init(&h);
	ASSERT_EQ(feed_bytes(&h, "HTTP/1.1 200 OK\r\nContent-Length: "
				 "104857600\r\n\r\n"),
		  -EFBIG, "100 MiB Content-Length refused");
	pw_http_free(&h);

	pw_http_init(&h);
	ASSERT_EQ(feed_bytes(&h, "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
				 "chunked\r\n\r\n8000000\r\n"),
		  -EFBIG, "128 MiB chunk refused");
	pw_http_free(&h);

	pw_http_init(&h);
	ASSERT_EQ(feed_bytes(&h, "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
				 "chunked\r\n\r\nzz\r\n"),
		  -EPROTO, "bad chunk size");
	pw_http_free(&h);

	pw_http_init(&h);
	ASSERT_EQ(feed_bytes(&h, "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
				 "gzip\r\n\r\n"),
		  -EPROTO, "other transfer coding refused");
	pw_http_free(&h);

	pw_http_init(&h);
	ASSERT_EQ(feed_bytes(&h, "SSH-2.0-OpenSSH\r\n\r\n"), -EPROTO,
		  "not HTTP");
	pw_http_free(&h);
	return true;
}

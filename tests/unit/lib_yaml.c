// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The YAML front end: YAML in, the cJSON tree the same JSON would give. */
#include <errno.h>
#include <stdlib.h>
#include "yamltree.h"
#include "testlib.h"

#define ASSERT_HAS(s, needle, what)                                         \
	({                                                                  \
		const char *___s = (s);                                     \
		if (!strstr(___s, needle)) {                                \
			PW_FAIL("%s: \"%s\" does not contain \"%s\"", what, \
				___s, needle);                              \
			return false;                                       \
		}                                                           \
		true;                                                       \
	})

/* Parses text that must be valid; NULL (and a message) if it is not. */
static cJSON *parse(const char *text)
{
	char err[256];
	cJSON *docs;
	int ret;

	ret = pw_yaml_parse(text, strlen(text), &docs, err, sizeof(err));
	if (ret) {
		PW_FAIL("pw_yaml_parse: %d: %s", ret, err);
		return NULL;
	}
	return docs;
}

/* The one document of text. */
static cJSON *parse1(const char *text, cJSON **docs)
{
	*docs = parse(text);
	if (!*docs)
		return NULL;
	if (cJSON_GetArraySize(*docs) != 1) {
		PW_FAIL("want one document, got %d", cJSON_GetArraySize(*docs));
		return NULL;
	}
	return cJSON_GetArrayItem(*docs, 0);
}

/* Parses text that must be rejected; the message is left in err. */
static bool parse_fails(const char *text, char *err, size_t errlen)
{
	cJSON *docs = (cJSON *)1;
	int ret;

	ret = pw_yaml_parse(text, strlen(text), &docs, err, errlen);
	ASSERT_EQ(ret, -EINVAL, "rejected");
	ASSERT_TRUE(docs == NULL, "*out is NULL on error");
	ASSERT_TRUE(!strncmp(err, "line ", 5), "message starts with line");
	return true;
}

static const cJSON *get(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

PW_TEST(yaml_port_number_or_string)
{
	cJSON *docs;
	const cJSON *d, *v;

	d = parse1("a: 80\n"
		   "b: \"80\"\n"
		   "c: '80'\n"
		   "d: http\n"
		   "e: !!str 80\n"
		   "f: !!int \"443\"\n"
		   "g: -5\n"
		   "h: +7\n",
		   &docs);
	ASSERT_TRUE(d, "parsed");
	v = get(d, "a");
	ASSERT_TRUE(cJSON_IsNumber(v), "plain 80 is a number");
	ASSERT_EQ(v->valuedouble, 80, "plain 80");
	ASSERT_STREQ(cJSON_GetStringValue(get(d, "b")), "80", "double quoted");
	ASSERT_STREQ(cJSON_GetStringValue(get(d, "c")), "80", "single quoted");
	ASSERT_STREQ(cJSON_GetStringValue(get(d, "d")), "http", "named port");
	ASSERT_STREQ(cJSON_GetStringValue(get(d, "e")), "80", "!!str");
	v = get(d, "f");
	ASSERT_TRUE(cJSON_IsNumber(v) && v->valuedouble == 443, "!!int");
	ASSERT_EQ(get(d, "g")->valuedouble, -5, "negative");
	ASSERT_EQ(get(d, "h")->valuedouble, 7, "plus sign");
	cJSON_Delete(docs);
	return true;
}

PW_TEST(yaml_plain_scalar_resolution)
{
	static const char *const strings[] = {
		"o",
		"010",
		"00",
		"1_000",
		"0b101",
		"1.2.3",
		"-0x10",
		"0x",
		"1e",
		"v1",
		"2024-05-02T10:15:30Z",
		"TRUE1",
		"nil",
		"+",
	};
	static const struct {
		const char *text;
		double v;
	} numbers[] = {
		{"0", 0},	 {"0x1F", 31},	     {"0o17", 15}, {"1.5", 1.5},
		{"1e3", 1000},	 {"-2.5E-1", -0.25}, {".5", 0.5},  {"3.", 3},
		{"012.5", 12.5}, {"65535", 65535},
	};
	static const char *const nulls[] = {"~", "null", "Null", "NULL", ""};
	static const char *const trues[] = {"true", "True", "TRUE", "yes",
					    "Yes",  "YES",  "on",   "On",
					    "ON",   "y",    "Y"};
	static const char *const falses[] = {"false", "False", "FALSE", "no",
					     "No",    "NO",    "off",	"Off",
					     "OFF",   "n",     "N"};
	char text[128];
	cJSON *docs;
	const cJSON *d, *v;
	size_t i;

	for (i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		snprintf(text, sizeof(text), "k: %s\n", strings[i]);
		d = parse1(text, &docs);
		ASSERT_TRUE(d, strings[i]);
		ASSERT_STREQ(cJSON_GetStringValue(get(d, "k")), strings[i],
			     "stays a string");
		cJSON_Delete(docs);
	}
	for (i = 0; i < sizeof(numbers) / sizeof(numbers[0]); i++) {
		snprintf(text, sizeof(text), "k: %s\n", numbers[i].text);
		d = parse1(text, &docs);
		ASSERT_TRUE(d, numbers[i].text);
		v = get(d, "k");
		if (!cJSON_IsNumber(v) || v->valuedouble != numbers[i].v) {
			PW_FAIL("%s: not the number %g", numbers[i].text,
				numbers[i].v);
			cJSON_Delete(docs);
			return false;
		}
		cJSON_Delete(docs);
	}
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
		snprintf(text, sizeof(text), "k: %s\n", nulls[i]);
		d = parse1(text, &docs);
		ASSERT_TRUE(d, nulls[i]);
		ASSERT_TRUE(cJSON_IsNull(get(d, "k")), nulls[i]);
		cJSON_Delete(docs);
	}
	/* YAML 1.1 booleans, as kubectl reads them */
	for (i = 0; i < sizeof(trues) / sizeof(trues[0]); i++) {
		snprintf(text, sizeof(text), "k: %s\n", trues[i]);
		d = parse1(text, &docs);
		ASSERT_TRUE(d, trues[i]);
		ASSERT_TRUE(cJSON_IsTrue(get(d, "k")), trues[i]);
		cJSON_Delete(docs);
	}
	for (i = 0; i < sizeof(falses) / sizeof(falses[0]); i++) {
		snprintf(text, sizeof(text), "k: %s\n", falses[i]);
		d = parse1(text, &docs);
		ASSERT_TRUE(d, falses[i]);
		ASSERT_TRUE(cJSON_IsFalse(get(d, "k")), falses[i]);
		cJSON_Delete(docs);
	}
	/* quoting keeps a label value "on" a string */
	d = parse1("labels: {power: \"on\", tier: 'yes', n: !!str null}\n",
		   &docs);
	ASSERT_TRUE(d, "quoted");
	v = get(d, "labels");
	ASSERT_STREQ(cJSON_GetStringValue(get(v, "power")), "on", "\"on\"");
	ASSERT_STREQ(cJSON_GetStringValue(get(v, "tier")), "yes", "'yes'");
	ASSERT_STREQ(cJSON_GetStringValue(get(v, "n")), "null", "!!str null");
	cJSON_Delete(docs);
	return true;
}

PW_TEST(yaml_integers_beyond_2_53_rejected)
{
	char err[256];
	cJSON *docs;
	const cJSON *d;

	d = parse1("max: 9007199254740992\nmin: -9007199254740992\n"
		   "quoted: \"9007199254740993\"\n",
		   &docs);
	ASSERT_TRUE(d, "2^53 fits");
	ASSERT_TRUE(get(d, "max")->valuedouble == 9007199254740992.0, "max");
	ASSERT_TRUE(get(d, "min")->valuedouble == -9007199254740992.0, "min");
	ASSERT_STREQ(cJSON_GetStringValue(get(d, "quoted")), "9007199254740993",
		     "quoted stays exact");
	cJSON_Delete(docs);

	ASSERT_TRUE(
		parse_fails("a: 1\nb: 9007199254740993\n", err, sizeof(err)),
		"2^53 + 1");
	ASSERT_HAS(err, "line 2, column 4", "where");
	ASSERT_HAS(err, "2^53", "why");
	ASSERT_TRUE(parse_fails("b: 0x20000000000001\n", err, sizeof(err)),
		    "hex");
	ASSERT_TRUE(parse_fails("b: 123456789012345678901234567890\n", err,
				sizeof(err)),
		    "beyond 64 bits");
	return true;
}

PW_TEST(yaml_inf_nan_rejected)
{
	char err[256];
	cJSON *docs;
	const cJSON *d;

	ASSERT_TRUE(parse_fails("a: .inf\n", err, sizeof(err)), ".inf");
	ASSERT_HAS(err, "JSON", "why");
	ASSERT_TRUE(parse_fails("a: -.Inf\n", err, sizeof(err)), "-.Inf");
	ASSERT_TRUE(parse_fails("a: .nan\n", err, sizeof(err)), ".nan");
	ASSERT_TRUE(parse_fails("a: 1e400\n", err, sizeof(err)), "overflow");
	ASSERT_TRUE(parse_fails("a: !!int abc\n", err, sizeof(err)),
		    "!!int abc");
	ASSERT_HAS(err, "!!int", "names the tag");
	ASSERT_TRUE(parse_fails("a: !!bool maybe\n", err, sizeof(err)),
		    "!!bool");
	ASSERT_TRUE(parse_fails("a: !custom x\n", err, sizeof(err)),
		    "unknown tag");
	ASSERT_HAS(err, "unsupported tag", "why");
	d = parse1("a: '.inf'\nb: !!float 2\n", &docs);
	ASSERT_TRUE(d, "quoted .inf");
	ASSERT_STREQ(cJSON_GetStringValue(get(d, "a")), ".inf", "string");
	ASSERT_TRUE(cJSON_IsNumber(get(d, "b")), "!!float 2");
	cJSON_Delete(docs);
	return true;
}

PW_TEST(yaml_block_scalars_are_strings)
{
	cJSON *docs;
	const cJSON *d;

	d = parse1(
		"lit: |\n  80\n  true\nfold: >\n  a\n  b\nchomp: |-\n  443\n",
		&docs);
	ASSERT_TRUE(d, "parsed");
	ASSERT_STREQ(cJSON_GetStringValue(get(d, "lit")), "80\ntrue\n",
		     "literal");
	ASSERT_STREQ(cJSON_GetStringValue(get(d, "fold")), "a b\n", "folded");
	ASSERT_STREQ(cJSON_GetStringValue(get(d, "chomp")), "443", "strip");
	cJSON_Delete(docs);
	return true;
}

PW_TEST(yaml_multi_document)
{
	cJSON *docs;
	const cJSON *d;

	docs = parse("---\n"
		     "kind: Namespace\n"
		     "metadata: {name: a}\n"
		     "---\n"
		     "---\n"
		     "# only a comment\n"
		     "---\n"
		     "kind: Pod\n"
		     "metadata: {name: p, namespace: a}\n"
		     "...\n");
	ASSERT_TRUE(docs, "parsed");
	ASSERT_EQ(cJSON_GetArraySize(docs), 2, "empty documents skipped");
	d = cJSON_GetArrayItem(docs, 0);
	ASSERT_STREQ(cJSON_GetStringValue(get(d, "kind")), "Namespace", "1st");
	d = cJSON_GetArrayItem(docs, 1);
	ASSERT_STREQ(cJSON_GetStringValue(get(d, "kind")), "Pod", "2nd");
	ASSERT_STREQ(cJSON_GetStringValue(get(get(d, "metadata"), "namespace")),
		     "a", "2nd namespace");
	cJSON_Delete(docs);

	docs = parse("");
	ASSERT_TRUE(docs, "empty input");
	ASSERT_EQ(cJSON_GetArraySize(docs), 0, "no documents");
	cJSON_Delete(docs);
	docs = parse("# nothing\n---\n...\n");
	ASSERT_TRUE(docs, "comment and empty document");
	ASSERT_EQ(cJSON_GetArraySize(docs), 0, "no documents either");
	cJSON_Delete(docs);
	return true;
}

PW_TEST(yaml_kind_list)
{
	cJSON *docs;
	const cJSON *d, *items, *it;

	d = parse1("apiVersion: v1\n"
		   "kind: List\n"
		   "items:\n"
		   "- apiVersion: v1\n"
		   "  kind: Namespace\n"
		   "  metadata:\n"
		   "    name: shop\n"
		   "    labels:\n"
		   "      team: web\n"
		   "- apiVersion: v1\n"
		   "  kind: Pod\n"
		   "  metadata:\n"
		   "    name: api-0\n"
		   "    namespace: shop\n"
		   "  status:\n"
		   "    podIPs:\n"
		   "    - ip: 10.1.0.5\n"
		   "    - ip: fd00::5\n"
		   "metadata:\n"
		   "  resourceVersion: \"\"\n",
		   &docs);
	ASSERT_TRUE(d, "parsed");
	ASSERT_STREQ(cJSON_GetStringValue(get(d, "kind")), "List", "kind");
	items = get(d, "items");
	ASSERT_TRUE(cJSON_IsArray(items), "items");
	ASSERT_EQ(cJSON_GetArraySize(items), 2, "two items");
	it = cJSON_GetArrayItem(items, 1);
	ASSERT_STREQ(cJSON_GetStringValue(get(it, "kind")), "Pod", "item kind");
	it = cJSON_GetArrayItem(get(get(it, "status"), "podIPs"), 1);
	ASSERT_STREQ(cJSON_GetStringValue(get(it, "ip")), "fd00::5", "IPv6");
	ASSERT_STREQ(cJSON_GetStringValue(
			     get(get(d, "metadata"), "resourceVersion")),
		     "", "empty string");
	cJSON_Delete(docs);
	return true;
}

/* As `kubectl get networkpolicy api-allow -o yaml` prints it. */
static const char kubectl_yaml[] =
	"apiVersion: networking.k8s.io/v1\n"
	"kind: NetworkPolicy\n"
	"metadata:\n"
	"  annotations:\n"
	"    kubectl.kubernetes.io/last-applied-configuration: |\n"
	"      {\"apiVersion\":\"networking.k8s.io/v1\","
	"\"kind\":\"NetworkPolicy\",\"metadata\":{\"annotations\":{},"
	"\"name\":\"api-allow\",\"namespace\":\"shop\"},"
	"\"spec\":{\"ingress\":[{\"from\":[{\"podSelector\":"
	"{\"matchLabels\":{\"app\":\"web\"}}},{\"namespaceSelector\":"
	"{\"matchLabels\":{\"kubernetes.io/metadata.name\":\"monitoring\"}}}],"
	"\"ports\":[{\"port\":8080,\"protocol\":\"TCP\"},"
	"{\"endPort\":9100,\"port\":9000,\"protocol\":\"TCP\"}]}],"
	"\"podSelector\":{\"matchLabels\":{\"app\":\"api\"}},"
	"\"policyTypes\":[\"Ingress\"]}}\n"
	"  creationTimestamp: \"2024-05-02T10:15:30Z\"\n"
	"  generation: 1\n"
	"  managedFields:\n"
	"  - apiVersion: networking.k8s.io/v1\n"
	"    fieldsType: FieldsV1\n"
	"    fieldsV1:\n"
	"      f:metadata:\n"
	"        f:annotations:\n"
	"          .: {}\n"
	"          f:kubectl.kubernetes.io/last-applied-configuration: {}\n"
	"      f:spec:\n"
	"        f:ingress: {}\n"
	"        f:podSelector: {}\n"
	"        f:policyTypes: {}\n"
	"    manager: kubectl-client-side-apply\n"
	"    operation: Update\n"
	"    time: \"2024-05-02T10:15:30Z\"\n"
	"  name: api-allow\n"
	"  namespace: shop\n"
	"  resourceVersion: \"48213\"\n"
	"  uid: 6f1c2f55-9d4a-4b0e-8f5e-2c1d7a9b3e10\n"
	"spec:\n"
	"  ingress:\n"
	"  - from:\n"
	"    - podSelector:\n"
	"        matchLabels:\n"
	"          app: web\n"
	"    - namespaceSelector:\n"
	"        matchLabels:\n"
	"          kubernetes.io/metadata.name: monitoring\n"
	"    ports:\n"
	"    - port: 8080\n"
	"      protocol: TCP\n"
	"    - endPort: 9100\n"
	"      port: 9000\n"
	"      protocol: TCP\n"
	"  podSelector:\n"
	"    matchLabels:\n"
	"      app: api\n"
	"  policyTypes:\n"
	"  - Ingress\n";

PW_TEST(yaml_kubectl_get_output)
{
	const cJSON *d, *md, *mf, *port;
	cJSON *docs, *applied;
	const char *s;

	d = parse1(kubectl_yaml, &docs);
	ASSERT_TRUE(d, "parsed");
	md = get(d, "metadata");
	ASSERT_STREQ(cJSON_GetStringValue(get(md, "name")), "api-allow",
		     "name");
	ASSERT_STREQ(cJSON_GetStringValue(get(md, "creationTimestamp")),
		     "2024-05-02T10:15:30Z", "creationTimestamp");
	ASSERT_STREQ(cJSON_GetStringValue(get(md, "resourceVersion")), "48213",
		     "resourceVersion stays a string");
	ASSERT_TRUE(cJSON_IsNumber(get(md, "generation")), "generation");
	ASSERT_STREQ(cJSON_GetStringValue(get(md, "uid")),
		     "6f1c2f55-9d4a-4b0e-8f5e-2c1d7a9b3e10", "uid");
	mf = cJSON_GetArrayItem(get(md, "managedFields"), 0);
	ASSERT_TRUE(
		cJSON_IsObject(get(get(get(get(mf, "fieldsV1"), "f:metadata"),
				       "f:annotations"),
				   ".")),
		"managedFields .: {}");
	port = cJSON_GetArrayItem(
		get(cJSON_GetArrayItem(get(get(d, "spec"), "ingress"), 0),
		    "ports"),
		1);
	ASSERT_EQ(get(port, "port")->valuedouble, 9000, "port");
	ASSERT_EQ(get(port, "endPort")->valuedouble, 9100, "endPort");
	ASSERT_STREQ(cJSON_GetStringValue(get(port, "protocol")), "TCP",
		     "protocol");

	/* the annotation is a JSON string, and says the same spec */
	s = cJSON_GetStringValue(
		get(get(md, "annotations"),
		    "kubectl.kubernetes.io/last-applied-configuration"));
	ASSERT_TRUE(s && s[strlen(s) - 1] == '\n', "block scalar, clipped");
	applied = cJSON_Parse(s);
	ASSERT_TRUE(applied, "annotation is JSON");
	if (!cJSON_Compare(get(applied, "spec"), get(d, "spec"), true)) {
		PW_FAIL("annotation spec differs from spec");
		cJSON_Delete(applied);
		cJSON_Delete(docs);
		return false;
	}
	cJSON_Delete(applied);
	cJSON_Delete(docs);
	return true;
}

PW_TEST(yaml_flow_style_policy)
{
	const cJSON *d, *spec, *in, *ports, *eg;
	cJSON *docs;

	d = parse1("apiVersion: networking.k8s.io/v1\n"
		   "kind: NetworkPolicy\n"
		   "metadata: {name: web-allow, namespace: shop}\n"
		   "spec:\n"
		   "  podSelector: {matchLabels: {app: web}}\n"
		   "  policyTypes: [Ingress, Egress]\n"
		   "  ingress: [{from: [{podSelector: {matchLabels: {app: "
		   "lb}}}],\n"
		   "             ports: [{port: 80}, {port: http, protocol: "
		   "TCP}]}]\n"
		   "  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8,\n"
		   "                            except: [10.1.0.0/16]}}]}]\n",
		   &docs);
	ASSERT_TRUE(d, "parsed");
	spec = get(d, "spec");
	ASSERT_STREQ(
		cJSON_GetStringValue(get(
			get(get(spec, "podSelector"), "matchLabels"), "app")),
		"web", "podSelector");
	ASSERT_STREQ(cJSON_GetStringValue(
			     cJSON_GetArrayItem(get(spec, "policyTypes"), 1)),
		     "Egress", "policyTypes");
	in = cJSON_GetArrayItem(get(spec, "ingress"), 0);
	ports = get(in, "ports");
	ASSERT_TRUE(cJSON_IsNumber(get(cJSON_GetArrayItem(ports, 0), "port")),
		    "port 80 is a number");
	ASSERT_STREQ(
		cJSON_GetStringValue(get(cJSON_GetArrayItem(ports, 1), "port")),
		"http", "named port");
	eg = get(cJSON_GetArrayItem(
			 get(cJSON_GetArrayItem(get(spec, "egress"), 0), "to"),
			 0),
		 "ipBlock");
	ASSERT_STREQ(cJSON_GetStringValue(get(eg, "cidr")), "10.0.0.0/8",
		     "cidr");
	ASSERT_STREQ(
		cJSON_GetStringValue(cJSON_GetArrayItem(get(eg, "except"), 0)),
		"10.1.0.0/16", "except");
	cJSON_Delete(docs);
	return true;
}

PW_TEST(yaml_duplicate_key_rejected)
{
	char err[256];

	ASSERT_TRUE(parse_fails("metadata:\n"
				"  name: a\n"
				"  labels: {}\n"
				"  name: b\n",
				err, sizeof(err)),
		    "block");
	ASSERT_HAS(err, "line 4, column 3", "where");
	ASSERT_HAS(err, "duplicate key \"name\"", "what");
	ASSERT_HAS(err, "first at line 2", "the first");
	ASSERT_TRUE(parse_fails("sel: {app: a, tier: x, app: b}\n", err,
				sizeof(err)),
		    "flow");
	ASSERT_HAS(err, "duplicate key \"app\"", "flow: what");
	/* the same key in different mappings is fine */
	{
		cJSON *docs = parse("a: {x: 1}\nb: {x: 2}\n");

		ASSERT_TRUE(docs, "different mappings");
		cJSON_Delete(docs);
	}
	return true;
}

PW_TEST(yaml_bad_keys_rejected)
{
	char err[256];

	ASSERT_TRUE(parse_fails("a: 1\n? [x, y]\n: 2\n", err, sizeof(err)),
		    "sequence key");
	ASSERT_HAS(err, "line 2", "where");
	ASSERT_HAS(err, "key must be a scalar", "what");
	ASSERT_TRUE(parse_fails("{a: 1}: 2\n", err, sizeof(err)),
		    "mapping key");
	ASSERT_TRUE(parse_fails("a: &m {x: 1}\n*m : 2\n", err, sizeof(err)),
		    "alias of a mapping as key");
	ASSERT_HAS(err, "line 2", "where");
	ASSERT_TRUE(parse_fails("~: 1\n", err, sizeof(err)), "null key");
	return true;
}

PW_TEST(yaml_syntax_errors_have_line_and_column)
{
	char err[256];

	/* tabs may not indent YAML */
	ASSERT_TRUE(parse_fails("spec:\n  podSelector:\n\tmatchLabels: {}\n",
				err, sizeof(err)),
		    "tab");
	ASSERT_HAS(err, "line 3, column 1", "tab: where");
	ASSERT_TRUE(parse_fails("a: [1, 2\nb: 3\n", err, sizeof(err)),
		    "unclosed flow");
	ASSERT_TRUE(parse_fails("a: b: c\n", err, sizeof(err)),
		    "mapping in plain scalar");
	ASSERT_HAS(err, "line 1", "where");
	ASSERT_TRUE(parse_fails("a: \"x\n", err, sizeof(err)), "open quote");
	ASSERT_TRUE(parse_fails("a: 1\nb: \xff\n", err, sizeof(err)),
		    "invalid UTF-8");
	ASSERT_HAS(err, "line 2, column 4", "UTF-8: where");
	ASSERT_TRUE(parse_fails("a: \"x\\0y\"\n", err, sizeof(err)), "NUL");
	ASSERT_TRUE(parse_fails("a: *nope\n", err, sizeof(err)),
		    "unknown alias");
	ASSERT_HAS(err, "*nope", "names the alias");
	return true;
}

PW_TEST(yaml_aliases_and_merge_keys)
{
	const cJSON *d, *x, *y, *z;
	cJSON *docs;

	d = parse1("base: &sel\n"
		   "  matchLabels: &lbl {app: web, tier: front}\n"
		   "one: *sel\n"
		   "two: [*lbl, *lbl]\n"
		   "merged:\n"
		   "  <<: *lbl\n"
		   "  tier: back\n"
		   "  zone: a\n"
		   "list:\n"
		   "  <<: [{a: 1, b: 1}, {a: 2, c: 2}]\n"
		   "  c: 3\n"
		   "inline: {<<: {a: &v 1}, b: *v}\n"
		   "quoted: {\"<<\": x}\n"
		   "keyalias: {&k name: a, other: *k}\n",
		   &docs);
	ASSERT_TRUE(d, "parsed");
	ASSERT_TRUE(cJSON_Compare(get(d, "base"), get(d, "one"), true),
		    "alias copies the mapping");
	ASSERT_TRUE(get(d, "base") != get(d, "one"), "a deep copy");
	ASSERT_TRUE(cJSON_Compare(get(get(d, "base"), "matchLabels"),
				  cJSON_GetArrayItem(get(d, "two"), 1), true),
		    "nested anchor");
	x = get(d, "merged");
	ASSERT_STREQ(cJSON_GetStringValue(get(x, "app")), "web", "merged key");
	ASSERT_STREQ(cJSON_GetStringValue(get(x, "tier")), "back",
		     "own key wins over merged");
	ASSERT_EQ(cJSON_GetArraySize(x), 3, "no << key left");
	y = get(d, "list");
	ASSERT_EQ(get(y, "a")->valuedouble, 1, "earlier source wins");
	ASSERT_EQ(get(y, "b")->valuedouble, 1, "b");
	ASSERT_EQ(get(y, "c")->valuedouble, 3, "own key wins");
	z = get(d, "inline");
	ASSERT_EQ(get(z, "a")->valuedouble, 1, "inline merge");
	ASSERT_EQ(get(z, "b")->valuedouble, 1, "anchor inside a merge");
	ASSERT_STREQ(cJSON_GetStringValue(get(get(d, "quoted"), "<<")), "x",
		     "quoted << is a plain key");
	ASSERT_STREQ(cJSON_GetStringValue(get(get(d, "keyalias"), "other")),
		     "name", "anchored key");
	cJSON_Delete(docs);
	return true;
}

PW_TEST(yaml_alias_errors)
{
	char err[256];

	ASSERT_TRUE(parse_fails("a: &x [1, *x]\n", err, sizeof(err)),
		    "recursive alias");
	ASSERT_HAS(err, "*x", "names the alias");
	ASSERT_TRUE(parse_fails("a: &x 1\n---\nb: *x\n", err, sizeof(err)),
		    "alias across documents");
	ASSERT_HAS(err, "line 3", "where");
	ASSERT_TRUE(parse_fails("a: {<<: 5}\n", err, sizeof(err)),
		    "merge of a scalar");
	ASSERT_HAS(err, "merge", "why");
	ASSERT_TRUE(parse_fails("a: {<<: [{x: 1}, 2]}\n", err, sizeof(err)),
		    "merge of a list with a scalar");
	return true;
}

PW_TEST(yaml_billion_laughs_rejected)
{
	static const char lol[] =
		"a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
		"b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
		"c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
		"d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
		"e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
		"f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
		"g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
		"h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
		"i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
	static const char merges[] =
		"a: &a {a0: 0, a1: 1, a2: 2, a3: 3, a4: 4, a5: 5, a6: 6, a7: "
		"7}\n"
		"b: &b {<<: [*a, *a, *a, *a, *a, *a, *a, *a], b: 1}\n"
		"x: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
	char err[256];
	cJSON *docs;
	char *many;
	size_t i;

	ASSERT_TRUE(parse_fails(lol, err, sizeof(err)), "billion laughs");
	ASSERT_HAS(err, "expand to more than", "why");
	ASSERT_HAS(err, "line 7", "where: g is the first over the bound");

	/* merges are charged too, but a handful of them is fine */
	docs = parse(merges);
	ASSERT_TRUE(docs, "merges");
	cJSON_Delete(docs);

	/* many small aliases add up as well */
	many = malloc(8 + 5 * (PW_YAML_MAX_ALIAS_NODES + 1) + 1);
	ASSERT_TRUE(many, "malloc");
	strcpy(many, "- &a x\n");
	for (i = 0; i <= PW_YAML_MAX_ALIAS_NODES; i++)
		memcpy(many + 7 + 5 * i, "- *a\n", 5);
	many[7 + 5 * i] = '\0';
	if (!parse_fails(many, err, sizeof(err))) {
		free(many);
		return false;
	}
	free(many);
	return true;
}

PW_TEST(yaml_deep_nesting_rejected)
{
	char text[2 * (PW_YAML_MAX_DEPTH + 1) + 8], err[256], *s;
	cJSON *docs;
	int i;

	/* exactly the bound is fine */
	s = text;
	for (i = 0; i < PW_YAML_MAX_DEPTH; i++)
		*s++ = '[';
	for (i = 0; i < PW_YAML_MAX_DEPTH; i++)
		*s++ = ']';
	*s = '\0';
	docs = parse(text);
	ASSERT_TRUE(docs, "256 levels");
	cJSON_Delete(docs);

	s = text;
	for (i = 0; i <= PW_YAML_MAX_DEPTH; i++)
		*s++ = '[';
	for (i = 0; i <= PW_YAML_MAX_DEPTH; i++)
		*s++ = ']';
	*s = '\0';
	ASSERT_TRUE(parse_fails(text, err, sizeof(err)), "257 levels");
	ASSERT_HAS(err, "nesting deeper than 256", "why");
	ASSERT_HAS(err, "column 257", "where");
	return true;
}

PW_TEST(yaml_deep_nesting_through_alias_rejected)
{
	char text[1024], err[256], *s;
	int i;

	/* an anchor 200 deep, pasted 60 levels down: 261 levels */
	s = text;
	s += sprintf(s, "a: &x ");
	for (i = 0; i < 200; i++)
		*s++ = '[';
	for (i = 0; i < 200; i++)
		*s++ = ']';
	s += sprintf(s, "\nb: ");
	for (i = 0; i < 59; i++)
		*s++ = '[';
	s += sprintf(s, "*x");
	for (i = 0; i < 59; i++)
		*s++ = ']';
	*s++ = '\n';
	*s = '\0';
	ASSERT_TRUE(parse_fails(text, err, sizeof(err)), "alias too deep");
	ASSERT_HAS(err, "nesting deeper than", "why");
	ASSERT_HAS(err, "line 2", "where");
	return true;
}

PW_TEST(yaml_comments_crlf_and_utf8)
{
	const cJSON *d, *l;
	cJSON *docs;

	d = parse1("# a policy\r\n"
		   "kind: NetworkPolicy # trailing\r\n"
		   "metadata:\r\n"
		   "  # inside\r\n"
		   "  name: \"caf\xc3\xa9\"\r\n"
		   "  labels:\r\n"
		   "    team: \xc3\xa9quipe\r\n"
		   "    city: \xe6\x9d\xb1\xe4\xba\xac\r\n"
		   "    esc: \"\\u00e9\\u6771\"\r\n"
		   "    port: 80\r\n"
		   "note: |\r\n"
		   "  one\r\n"
		   "  two\r\n",
		   &docs);
	ASSERT_TRUE(d, "parsed");
	ASSERT_STREQ(cJSON_GetStringValue(get(d, "kind")), "NetworkPolicy",
		     "comment after a value");
	ASSERT_STREQ(cJSON_GetStringValue(get(get(d, "metadata"), "name")),
		     "caf\xc3\xa9", "no CR in values");
	l = get(get(d, "metadata"), "labels");
	ASSERT_STREQ(cJSON_GetStringValue(get(l, "team")), "\xc3\xa9quipe",
		     "UTF-8 value");
	ASSERT_STREQ(cJSON_GetStringValue(get(l, "city")),
		     "\xe6\x9d\xb1\xe4\xba\xac", "CJK value");
	ASSERT_STREQ(cJSON_GetStringValue(get(l, "esc")),
		     "\xc3\xa9\xe6\x9d\xb1", "escapes become UTF-8");
	ASSERT_TRUE(cJSON_IsNumber(get(l, "port")), "number before CRLF");
	ASSERT_STREQ(cJSON_GetStringValue(get(d, "note")), "one\ntwo\n",
		     "CRLF in a block scalar is a line feed");
	ASSERT_EQ(cJSON_GetArraySize(d), 3, "comments are no keys");
	cJSON_Delete(docs);
	return true;
}

static const char policy_json[] =
	"{\"apiVersion\": \"networking.k8s.io/v1\", \"kind\": "
	"\"NetworkPolicy\",\n"
	" \"metadata\": {\"name\": \"db\", \"namespace\": \"shop\",\n"
	"              \"labels\": {\"tier\": \"db\", \"v\": \"1.0\"}},\n"
	" \"spec\": {\"podSelector\": {\"matchLabels\": {\"app\": \"db\"}},\n"
	"   \"policyTypes\": [\"Ingress\", \"Egress\"],\n"
	"   \"ingress\": [{\"from\": [{\"podSelector\": "
	"{\"matchExpressions\":\n"
	"       [{\"key\": \"app\", \"operator\": \"In\", \"values\": "
	"[\"api\", \"batch\"]}]}},\n"
	"       {\"ipBlock\": {\"cidr\": \"fd00::/8\", \"except\": "
	"[\"fd00:1::/32\"]}}],\n"
	"     \"ports\": [{\"port\": 5432, \"protocol\": \"TCP\"},\n"
	"                {\"port\": \"metrics\"},\n"
	"                {\"port\": 6000, \"endPort\": 6100, \"protocol\": "
	"\"UDP\"}]}],\n"
	"   \"egress\": [{}],\n"
	"   \"extra\": {\"null\": null, \"t\": true, \"f\": false, \"neg\": "
	"-1,\n"
	"             \"half\": 0.5, \"empty\": \"\", \"list\": []}}}\n";

static const char policy_yaml[] =
	"apiVersion: networking.k8s.io/v1\n"
	"kind: NetworkPolicy\n"
	"metadata:\n"
	"  name: db\n"
	"  namespace: shop\n"
	"  labels:\n"
	"    tier: db\n"
	"    v: \"1.0\"\n"
	"spec:\n"
	"  podSelector:\n"
	"    matchLabels:\n"
	"      app: db\n"
	"  policyTypes:\n"
	"    - Ingress\n"
	"    - Egress\n"
	"  ingress:\n"
	"    - from:\n"
	"        - podSelector:\n"
	"            matchExpressions:\n"
	"              - key: app\n"
	"                operator: In\n"
	"                values: [api, batch]\n"
	"        - ipBlock:\n"
	"            cidr: fd00::/8\n"
	"            except:\n"
	"              - fd00:1::/32\n"
	"      ports:\n"
	"        - port: 5432\n"
	"          protocol: TCP\n"
	"        - port: metrics\n"
	"        - {port: 6000, endPort: 6100, protocol: UDP}\n"
	"  egress:\n"
	"    - {}\n"
	"  extra:\n"
	"    \"null\": ~\n"
	"    t: true\n"
	"    f: False\n"
	"    neg: -1\n"
	"    half: .5\n"
	"    empty: ''\n"
	"    list: []\n";

PW_TEST(yaml_same_tree_as_json)
{
	cJSON *json, *docs, *jdocs;
	const cJSON *y;
	bool same;

	json = cJSON_Parse(policy_json);
	ASSERT_TRUE(json, "JSON parses");
	y = parse1(policy_yaml, &docs);
	if (!y) {
		cJSON_Delete(json);
		return false;
	}
	same = cJSON_Compare(json, y, true);
	if (!same) {
		char *a = cJSON_PrintUnformatted(json);
		char *b = cJSON_PrintUnformatted(y);

		PW_FAIL("JSON %s\n  YAML %s", a, b);
		free(a);
		free(b);
	}
	cJSON_Delete(docs);

	/* and JSON is YAML: the JSON text through the YAML parser */
	if (same) {
		y = parse1(policy_json, &jdocs);
		same = y && cJSON_Compare(json, y, true);
		if (!same)
			PW_FAIL("JSON text through YAML differs");
		cJSON_Delete(jdocs);
	}
	cJSON_Delete(json);
	ASSERT_TRUE(same, "same tree");
	return true;
}

/* Every error path on the way must free what it built (run under ASan). */
PW_TEST(yaml_errors_deep_inside_free_everything)
{
	static const char *const bad[] = {
		("a: &x {b: [1, {c: &y [2]}], d: *y}\n"
		 "e: {f: [*x, {g: 1, g: 2}]}\n"),
		"a: {<<: [{x: 1}], b: [1, 2, {c: .inf}]}\n",
		"x: &a {k: v}\n---\na: [1, [2, [3, {b: 1, c: [\n",
		"a: [1, {b: [2, {&k c: 1, *k : 2}]}]\n",
	};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ASSERT_TRUE(parse_fails(bad[i], err, sizeof(err)), bad[i]);
	return true;
}
